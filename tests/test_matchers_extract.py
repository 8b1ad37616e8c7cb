"""Identifiers in free text (pure): positions, normal forms, check digits, bounded time."""

from __future__ import annotations

import pytest

from matchers.extract import extract, luhn_ok, mod11_ok
from matchers.postcodes import district, normalize_postcode

TWEET = (
    "@acme_help order 4411 never arrived, account 55-1234-88. Mail Dana.King@Example.com "
    "or call 07911 123456, LS6 3AG. Case #K-9912"
)


def test_finds_every_kind_with_its_position() -> None:
    found = extract(TWEET)
    assert [(f.kind, f.value) for f in found] == [
        ("order_number", "4411"),
        ("account_number", "55-1234-88"),
        ("email", "Dana.King@example.com"),
        ("phone", "+447911123456"),
        ("postcode", "LS6 3AG"),
        ("case_number", "K-9912"),
    ]
    assert [TWEET[f.start : f.end] for f in found] == [
        "4411",
        "55-1234-88",
        "Dana.King@Example.com",
        "07911 123456",
        "LS6 3AG",
        "K-9912",
    ]


def test_digits_inside_an_account_number_are_not_also_a_phone() -> None:
    found = extract("my account is 55-1234-88", account_pattern=r"\b\d{2}-\d{4}-\d{2}\b")
    assert [f.kind for f in found] == ["account_number"]


def test_invalid_numbers_and_plain_digits_are_not_phones() -> None:
    found = extract("order 4411 placed in 2024 for 19.99")
    assert [(f.kind, f.value) for f in found] == [("order_number", "4411")]
    assert all(f.kind != "phone" for f in extract("call 07700 900123"))  # Ofcom drama range


def test_account_pattern_and_check_digit_are_settings() -> None:
    text = "acct 4539578763621486 and 4539578763621487"
    pattern = r"\b\d{16}\b"
    assert [f.value for f in extract(text, account_pattern=pattern)] == [
        "4539578763621486",
        "4539578763621487",
    ]
    assert [f.value for f in extract(text, account_pattern=pattern, check_digit="luhn")] == [
        "4539578763621486"
    ]


def test_check_digit_rules() -> None:
    assert luhn_ok("79927398713")
    assert not luhn_ok("79927398710")
    assert mod11_ok("0306406152")  # ISBN-10 style weights, check 2
    assert not mod11_ok("0306406153")


@pytest.mark.parametrize(
    "hostile",
    ["9" * 50_000, "a@" * 50_000, "order " * 20_000, "+" + "1 " * 30_000, "\u0000" * 40_000],
)
def test_hostile_input_is_scanned_without_error(hostile: str) -> None:
    extract(hostile)


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("ls63ag", "GB", "LS6 3AG"),
        ("SW1A 1AA", "GB", "SW1A 1AA"),
        ("not a code", "GB", None),
        ("94103-1234", "US", "94103"),
        ("941", "US", None),
        ("75 008", "FR", "75008"),
    ],
)
def test_normalize_postcode(raw: str, region: str, expected: str | None) -> None:
    assert normalize_postcode(raw, region) == expected


def test_district() -> None:
    assert district("LS6 3AG") == "LS6"
    assert district("94103", "US") == "941"
