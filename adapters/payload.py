"""Reading providers' JSON defensively: every shape they do not document is a
``PayloadError`` with a reason, never a ``KeyError`` or ``TypeError`` further down."""

from __future__ import annotations

import json
from typing import Any

import orjson

from adapters.message import PayloadError

# Deeper than any provider nests, and shallow enough for str() of any part of it:
# Python's repr stops at 1,000 levels (orjson reads 1,024), orjson writes 254 at most.
MAX_DEPTH = 254


def json_object(body: bytes | str, what: str = "the body") -> dict[str, Any]:
    try:
        value = orjson.loads(body)
        # The depth check, in C: a quarter of the time the reading took.
        orjson.dumps(value)
    except orjson.JSONEncodeError:
        raise PayloadError(f"{what} nests deeper than {MAX_DEPTH} levels") from None
    except orjson.JSONDecodeError:
        # orjson stops at integers past 64 bits, nesting past 1,024 and UTF-16 bodies,
        # all of which JSON allows: the standard library has the last word.
        try:
            value = json.loads(body)
        except (ValueError, RecursionError):  # RecursionError: "[[[[..." a million deep
            raise PayloadError(f"{what} is not JSON") from None
        _check(value, what)
    return obj(value, what)


def _check(value: Any, what: str) -> None:
    """What orjson refuses and the standard library lets through: nesting past
    ``MAX_DEPTH``, and lone surrogates ("\\ud800", or their CESU-8 bytes), which no store
    can encode."""
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            try:
                item.encode()
            except UnicodeEncodeError:
                raise PayloadError(f"{what} holds text that is not Unicode") from None
        elif isinstance(item, (list, dict)):
            if depth == MAX_DEPTH:
                raise PayloadError(f"{what} nests deeper than {MAX_DEPTH} levels")
            children = [*item, *item.values()] if isinstance(item, dict) else item
            stack += [(child, depth + 1) for child in children]


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
