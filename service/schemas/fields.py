"""Building blocks of every model: strictness, bounded strings, channels."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints

from adapters.message import Channel

__all__ = ["Channel", "CustomerId", "ExternalId", "LongText", "ShortText", "Strict"]

# No braces: a customer id sits inside Redis keys, and braces would pick a cluster slot.
CUSTOMER_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$"
CustomerId = Annotated[str, StringConstraints(pattern=CUSTOMER_ID_PATTERN)]
ShortText = Annotated[str, StringConstraints(max_length=200)]
LongText = Annotated[str, StringConstraints(max_length=10_000)]
# A provider's id is opaque, but never holds control characters (a NUL or a newline in a
# key name or a log line is an attack, not an id).
EXTERNAL_ID_PATTERN = r"^[^\x00-\x1f\x7f]{1,320}$"
ExternalId = Annotated[str, StringConstraints(pattern=EXTERNAL_ID_PATTERN)]


class Strict(BaseModel):
    """Unknown fields are refused: a typo must not be silently dropped."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, allow_inf_nan=False)
