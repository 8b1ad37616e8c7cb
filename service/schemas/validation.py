"""Where a validation error is and what it says, without the offending values: they may
be personal data. Problem details and stored-record checks both name errors this way."""

from __future__ import annotations

import re

from pydantic import ValidationError

from service.ops.redaction import mask_text

_INTERNAL_LOC = re.compile(r"^(function-\w+|constrained-\w+|json-or-python|lax-or-strict)\b|\[")


def clean_loc(loc: tuple[int | str, ...]) -> tuple[int | str, ...]:
    return tuple(p for p in loc if not (isinstance(p, str) and _INTERNAL_LOC.search(p)))


def json_pointer(loc: tuple[int | str, ...]) -> str:
    """RFC 6901 pointer to a field; keys that look like personal data are masked."""
    return "".join(
        "/" + mask_text(str(p)).replace("~", "~0").replace("/", "~1") for p in clean_loc(loc)
    )


def describe(exc: ValidationError) -> str:
    """Where and what, without the offending values (they may be personal data)."""
    parts = []
    for err in exc.errors(include_url=False, include_input=False)[:3]:
        where = json_pointer(tuple(err["loc"])).lstrip("/")
        parts.append(f"{where}: {err['msg']}" if where else err["msg"])
    return "; ".join(parts)
