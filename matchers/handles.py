"""Social handles and display names as name-like evidence."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from matchers.text import fold

_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_SEPARATORS = re.compile(r"[._\-\s]+")
_DIGITS = re.compile(r"\d+")


@dataclass(frozen=True, slots=True)
class Handle:
    handle: str
    tokens: tuple[str, ...]
    digits: tuple[str, ...]


@lru_cache(maxsize=65_536)
def split_handle(handle: str) -> Handle:
    """'@dana_k' -> (dana, k); 'DanaKing84' -> (dana, king) + 84; 'd.king' -> (d, king)."""
    raw = handle.strip().lstrip("@")[:64]
    digits = tuple(_DIGITS.findall(raw))
    letters = _DIGITS.sub(" ", raw)
    parts: list[str] = []
    for chunk in _SEPARATORS.split(letters):
        parts.extend(_CAMEL.split(chunk))
    words = tuple(t for t in (fold(p) for p in parts) if t)
    return Handle(handle=fold(raw).replace(" ", ""), tokens=words, digits=digits)
