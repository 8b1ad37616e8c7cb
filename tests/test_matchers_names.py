"""Name, handle and text normalisation (pure), with the awkward inputs."""

from __future__ import annotations

import pytest

from matchers.handles import split_handle
from matchers.names import Name, name_of, nickname_match, phonetic, split_name
from matchers.text import MAX_TEXT, fold


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Zoë  O'Brien-Müller 🚲", "zoe obrien muller"),
        ("ŁÓDŹ", "lodz"),
        ("  Dana\tKING ", "dana king"),
        ("🚲🚲", ""),
        ("", ""),
    ],
)
def test_fold(raw: str, expected: str) -> None:
    assert fold(raw) == expected


def test_fold_is_bounded() -> None:
    assert len(fold("a" * (MAX_TEXT * 3))) == MAX_TEXT
    assert len(fold("é" * (MAX_TEXT * 3))) == MAX_TEXT


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("dana+king", "danaking"),  # a math symbol is dropped, not a separator
        ("a^b`c|d~e<f>g=h", "abcdefgh"),
        ("dana\x00\x1bking", "danaking"),  # controls dropped, as in any other text
        ("dana\x1fking", "dana king"),  # ...except those Python counts as spaces
        ("O'Brien-Smith_2", "obrien smith 2"),
    ],
)
def test_fold_ascii_drops_the_same_symbols_as_any_text(raw: str, expected: str) -> None:
    # ASCII takes a shorter path; the result must not depend on it.
    assert fold(raw) == expected
    assert fold(raw + "é") == expected + "e"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Dr. Dana K. King-Lee Jr.", Name("dana", "king lee", ("k",))),
        ("King, Dana", Name("dana", "king")),
        ("Dana K 🚲", Name("dana", "k")),
        ("MR JOHN SMITH", Name("john", "smith")),
        ("Priya", Name("priya", None)),
        ("👍👍", Name(None, None)),
    ],
)
def test_split_name(raw: str, expected: Name) -> None:
    assert split_name(raw) == expected


def test_name_of_prefers_parts_and_falls_back_to_the_full_name() -> None:
    assert name_of("Dana", "King", "ignored") == Name("dana", "king")
    assert name_of(None, None, "Mrs Margaret O'Neil") == Name("margaret", "oneil")
    assert name_of(None, None, "Md Rahman") == Name("md", "rahman")
    assert name_of(None, None, None) == Name(None, None)
    assert name_of("Dana", None, None).initial == "d"


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("bill", "william", True),
        ("peggy", "margaret", True),
        ("robert", "william", False),  # both can be "Bill": not the same name
        ("andrew", "andrea", False),
        ("william", "william", True),
        ("dana", "william", False),
        ("", "william", False),
    ],
)
def test_nicknames(a: str, b: str, same: bool) -> None:
    assert nickname_match(a, b) is same


def test_phonetic_keys_group_spellings() -> None:
    assert phonetic("king") == phonetic("kyng")
    assert phonetic("smith") == phonetic("smyth")
    assert phonetic("smith") != phonetic("jones")
    assert phonetic("") == ""
    assert phonetic("123") == ""


@pytest.mark.parametrize(
    ("raw", "tokens", "digits"),
    [
        ("@dana_k", ("dana", "k"), ()),
        ("DanaKing84", ("dana", "king"), ("84",)),
        ("d.king", ("d", "king"), ()),
        ("@JOHN-mcdonald_1984", ("john", "mcdonald"), ("1984",)),
        ("@", (), ()),
    ],
)
def test_split_handle(raw: str, tokens: tuple[str, ...], digits: tuple[str, ...]) -> None:
    handle = split_handle(raw)
    assert handle.tokens == tokens
    assert handle.digits == digits
