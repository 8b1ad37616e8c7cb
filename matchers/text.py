"""Text folding shared by the matchers: one comparable form for names and handles."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from anyascii import anyascii

# Symbols (emoji, dingbats), marks left alone, private use and control characters say
# nothing about who someone is: "Dana K 🚲" is "Dana K".
_DROP_CATEGORIES = frozenset({"So", "Sk", "Sm", "Co", "Cs", "Cc", "Cf", "Cn"})
_NON_WORD = re.compile(r"[^a-z0-9]+")
MAX_TEXT = 10_000  # characters: every matcher works in bounded time on any input


def strip_symbols(value: str) -> str:
    return "".join(
        ch
        for ch in value[:MAX_TEXT]
        if ch.isspace() or unicodedata.category(ch) not in _DROP_CATEGORIES
    )


_SHORT = 64  # names, handles and postcodes repeat across a book; free text does not


def fold(value: str) -> str:
    """Transliterated to ASCII, lower case, punctuation as single spaces, trimmed.

    "Zoë  O'Brien-Müller 🚲" -> "zoe obrien muller".
    """
    return _fold_short(value) if len(value) <= _SHORT else _fold(value)


@lru_cache(maxsize=131_072)
def _fold_short(value: str) -> str:
    return _fold(value)


# The ASCII characters strip_symbols drops: controls that are not spaces, and the math and
# modifier symbols (+ < = > ^ ` | ~).
_ASCII_DROPPED = {
    code: None
    for code in range(128)
    if not chr(code).isspace() and unicodedata.category(chr(code)) in _DROP_CATEGORIES
}


def _fold(value: str) -> str:
    # Apostrophes join rather than split: O'Brien, OBrien and O Brien are one name.
    if value.isascii():
        # Most handles and names: the same result without a Python-level pass over each
        # character (anyascii leaves ASCII as it is).
        ascii_text = value[:MAX_TEXT].translate(_ASCII_DROPPED).lower().replace("'", "")
    else:
        ascii_text = anyascii(_customary(strip_symbols(value))).lower().replace("'", "")
    return _NON_WORD.sub(" ", ascii_text).strip()


# Letter pairs whose customary romanisation in names differs from the letter-by-letter
# one: Greek omicron-upsilon is "ou" (Papadopoulou), not "oy".
_CUSTOMARY = (
    ("\u03bf\u03c5", "ou"),
    ("\u039f\u03c5", "Ou"),
    ("\u039f\u03a5", "OU"),
    ("\u03bf\u03cd", "ou"),
    ("\u039f\u03cd", "Ou"),
)


def _customary(value: str) -> str:
    for pair, latin in _CUSTOMARY:
        if pair in value:
            value = value.replace(pair, latin)
    return value


def tokens(value: str) -> list[str]:
    return fold(value).split()
