"""Narrow redis-py's ``bytes | str`` results to ``str``.

Our clients decode responses, so values are already ``str`` at run time; these helpers
make that true for the type checker too, in one place.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from redis.typing import EncodableT, FieldT


def text(value: bytes | str) -> str:
    return value if isinstance(value, str) else value.decode()


def text_or_none(value: bytes | str | None) -> str | None:
    return None if value is None else text(value)


def texts(values: Iterable[bytes | str]) -> list[str]:
    return [text(v) for v in values]


def text_map(values: Mapping[Any, Any]) -> dict[str, str]:
    return {text(k): text(v) for k, v in values.items()}


def fields(values: Mapping[str, str]) -> dict[FieldT, EncodableT]:
    """A ``dict[str, str]`` as HSET's or XADD's mapping (invariant in its key type)."""
    return dict(values.items())


def members(result: Any) -> list[str]:
    """ZRANGE without scores."""
    return [text(m) for m in result]


def scored(result: Any) -> list[tuple[str, float]]:
    """ZRANGE ... WITHSCORES."""
    return [(text(m), float(s)) for m, s in result]


def stream_entries(result: Any) -> list[tuple[str, dict[str, str]]]:
    """XRANGE: (entry id, fields) pairs."""
    return [(text(entry_id), text_map(values or {})) for entry_id, values in result or []]
