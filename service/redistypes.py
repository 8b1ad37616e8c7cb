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


def fields(values: Mapping[str, str]) -> Mapping[FieldT, EncodableT]:
    """A ``dict[str, str]`` as HSET's mapping argument (Mapping is invariant in its key)."""
    return dict(values.items())
