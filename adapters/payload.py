"""Reading providers' JSON defensively: every shape they do not document is a
``PayloadError`` with a reason, never a ``KeyError`` or ``TypeError`` further down."""

from __future__ import annotations

import json
from typing import Any

import orjson

from adapters.message import PayloadError


def json_object(body: bytes | str, what: str = "the body") -> dict[str, Any]:
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError:
        # orjson stops at integers past 64 bits, nesting past 1,024 and UTF-16 bodies,
        # all of which JSON allows: the standard library has the last word.
        try:
            value = json.loads(body)
        except (ValueError, RecursionError):  # RecursionError: "[[[[..." a million deep
            raise PayloadError(f"{what} is not JSON") from None
    return obj(value, what)


def obj(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise PayloadError(f"{what} is not an object")
    return value


def items(value: Any, what: str) -> list[Any]:
    """A list the provider may leave out (then empty)."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise PayloadError(f"{what} is not a list")
    return value
