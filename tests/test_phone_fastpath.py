"""The phone fast path (matchers/phones.py) against the pure libphonenumber path.

The fast path may decline any input, but whenever it answers it must answer exactly as
``_normalize_phone_libphonenumber``. It replays private code of phonenumbers, which is pinned
to one version: these tests, private names included, are what a new version must pass
before the pin moves. For a long local run of the property tests:
``SOCIALID_PHONE_EXAMPLES=20000 pytest tests/test_phone_fastpath.py --hypothesis-show-statistics``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import phonenumbers
import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st
from phonenumbers import (
    COUNTRY_CODE_TO_REGION_CODE,
    COUNTRY_CODES_FOR_NON_GEO_REGIONS,
    SUPPORTED_REGIONS,
    PhoneMetadata,
    PhoneNumber,
    PhoneNumberFormat,
    PhoneNumberType,
    ValidationResult,
    phonenumberutil,
)

from matchers import phones
from matchers.contact import _normalize_phone_libphonenumber, normalize_phone

REGIONS = sorted(SUPPORTED_REGIONS)
NON_GEO_CODES = sorted(COUNTRY_CODES_FOR_NON_GEO_REGIONS)
FORMATS = (
    PhoneNumberFormat.E164,
    PhoneNumberFormat.INTERNATIONAL,
    PhoneNumberFormat.NATIONAL,
    PhoneNumberFormat.RFC3966,
)
# Default regions: real ones, shared calling codes, and ones parse() refuses or treats apart.
ODD_DEFAULTS = ["ZZ", "001", "gb", "", "XX"]
EXAMPLES = int(os.environ.get("SOCIALID_PHONE_EXAMPLES", "300"))


def check(raw: str, region: str) -> bool:
    """Asserts agreement; True when the fast path answered."""
    expected = _normalize_phone_libphonenumber(raw, region)
    fast = phones.fast_e164(raw, region)
    if fast is not None:
        assert fast == expected, (raw, region)
    assert normalize_phone.__wrapped__(raw, region) == expected, (raw, region)
    return fast is not None


def example_numbers() -> list[tuple[PhoneNumber, str]]:
    """The example number of every region and type, and of every non-geographic code."""
    numbers = [
        (number, region)
        for region in REGIONS
        for kind in PhoneNumberType.values()
        if (number := phonenumbers.example_number_for_type(region, kind)) is not None
    ]
    numbers += [
        (number, "001")
        for code in NON_GEO_CODES
        if (number := phonenumbers.example_number_for_non_geo_entity(code)) is not None
    ]
    return numbers


NUMBERS = example_numbers()


def example_strings() -> Iterator[tuple[str, str]]:
    """(formatted example number, its region) for every example and format."""
    for number, region in NUMBERS:
        for fmt in FORMATS:
            yield phonenumbers.format_number(number, fmt), region


def test_the_library_constants_are_the_ones_replayed() -> None:
    assert phonenumberutil._MIN_LENGTH_FOR_NSN == phones.MIN_NSN
    assert phonenumberutil._MAX_LENGTH_FOR_NSN == phones.MAX_NSN
    assert phonenumberutil._MAX_INPUT_STRING_LENGTH == phones.MAX_INPUT


def test_length_rules_match_the_library_for_every_region_and_code() -> None:
    metadata = [(PhoneMetadata.metadata_for_region(r), phones._region_plan(r)) for r in REGIONS]
    metadata += [
        (PhoneMetadata.metadata_for_region_or_calling_code(code, "001"), phones._code_plan(code))
        for code in NON_GEO_CODES
    ]
    possible_results = (ValidationResult.IS_POSSIBLE, ValidationResult.IS_POSSIBLE_LOCAL_ONLY)
    kept_results = (ValidationResult.IS_POSSIBLE, ValidationResult.TOO_LONG)
    for meta, plan in metadata:
        assert meta is not None
        assert plan is not None
        for n in range(phones.MAX_INPUT + 1):
            result = phonenumberutil._test_number_length("5" * n, meta)
            assert (n in plan.possible) == (result in possible_results)
            assert (n in plan.keeps_stripped) == (result in kept_results)


def test_every_example_number_in_every_format() -> None:
    answered = total = 0
    for raw, region in example_strings():
        for default in (region, "GB", "US", "ZZ", "001"):
            answered += check(raw, default)
            total += 1
    assert answered > total / 2  # the fast path is not quietly declining everything


def test_every_calling_code_at_every_length() -> None:
    for code, regions in COUNTRY_CODE_TO_REGION_CODE.items():
        for n in range(19):
            for body in ("0123456789" * 2, "9876543210" * 2, "1" + "0" * 20):
                check(f"+{code}{body[:n]}", "GB")
                check(f"+{code} {body[:n]}", regions[0])
                check(body[:n], regions[0])


@pytest.mark.parametrize(
    ("raw", "region"),
    [
        ("+44 7700 900123", "GB"),
        ("+447700900123", "GB"),
        ("+1 (415) 555-0100", "GB"),
        ("07700 900123", "GB"),
        ("020 7946 0018", "GB"),
        ("+44 (0)7700 900123", "GB"),
        ("(415) 555-0134", "US"),
        ("+33 1 23 45 67 89", "GB"),
        ("+49 30 1234567", "DE"),
    ],
)
def test_the_common_import_shapes_take_the_fast_path(raw: str, region: str) -> None:
    assert check(raw, region)


@pytest.mark.parametrize(
    ("raw", "region"),
    [
        ("+44 7700 900123 ext. 12", "GB"),  # extension
        ("tel:+44-7700-900123", "GB"),
        ("+44 \u0667\u0667\u0660\u0660 900123", "GB"),  # Arabic-Indic digits
        ("0800 FLOWERS", "GB"),
        ("447700900123", "GB"),  # could be the calling code without "+"
        ("00447700900123", "GB"),  # international prefix
        ("+0 7700 900123", "GB"),  # no calling code: parse() retries it as national
        ("12", "GB"),
        ("+44 " + "0" * 250, "GB"),  # longer than parse() reads
        ("07700 900123", "ZZ"),
        ("011 15-2345-6789", "AR"),  # a transform rule rewrites it (to +54 9 11 ...)
        ("+54 11 15 2345 6789", "GB"),
    ],
)
def test_what_the_fast_path_leaves_to_the_library(raw: str, region: str) -> None:
    assert not check(raw, region)


SEPARATORS = " -.()"
# Mostly digits and separators; now and then something that must send the input to the library.
ODD_CHARS = ["+", "x", "#", "/", ";", ",", "\u0663", "\u00a0", "\uff10", "A"]
CHARS = st.sampled_from(list("0123456789" * 3 + SEPARATORS * 2) + ODD_CHARS)
DEFAULTS = st.one_of(st.sampled_from(REGIONS), st.sampled_from(ODD_DEFAULTS))


@st.composite
def example_seed(draw: st.DrawFn) -> tuple[str, str]:
    number, region = draw(st.sampled_from(NUMBERS))
    raw = phonenumbers.format_number(number, draw(st.sampled_from(FORMATS)))
    # National forms mean something only in their own region: use it often.
    return raw, draw(st.one_of(st.just(region), DEFAULTS))


DIGITS = st.text("0123456789", max_size=20)
CODES = st.one_of(st.sampled_from(sorted(COUNTRY_CODE_TO_REGION_CODE)), st.integers(0, 999))
SEEDS = st.one_of(
    example_seed(),
    st.tuples(
        st.builds(str.__add__, st.sampled_from(["", "+", "0", "00", "+0"]), DIGITS), DEFAULTS
    ),
    # assigned, unassigned and zero-led calling codes
    st.tuples(st.builds(lambda c, d: f"+{c}{d}", CODES, DIGITS), DEFAULTS),
)


@st.composite
def mutated(draw: st.DrawFn) -> tuple[str, str]:
    raw, region = draw(SEEDS)
    for _ in range(draw(st.integers(0, 3))):
        op = draw(st.sampled_from(["insert", "delete", "replace", "zeros", "prefix", "cut"]))
        at = draw(st.integers(0, len(raw)))
        if op == "insert":
            raw = raw[:at] + draw(CHARS) + raw[at:]
        elif op == "delete":
            raw = raw[:at] + raw[at + 1 :]
        elif op == "replace":
            raw = raw[:at] + draw(CHARS) + raw[at + 1 :]
        elif op == "zeros":
            start = 1 if raw.startswith("+") else 0
            raw = raw[:start] + "0" * draw(st.integers(1, 3)) + raw[start:]
        elif op == "prefix":
            raw = draw(st.sampled_from(["+", "0", "00", "1", "+44", "+1 ", "(", " "])) + raw
        else:
            raw = raw[:at]
    return raw, region


@settings(max_examples=EXAMPLES, deadline=None)
@given(case=st.one_of(example_seed(), mutated()))
def test_the_fast_path_agrees_with_libphonenumber(case: tuple[str, str]) -> None:
    raw, region = case
    fast = check(raw, region)
    event("fast path" if fast else "library")
    if not fast:
        found = _normalize_phone_libphonenumber(raw, region) is not None
        event("library found a number" if found else "library found no number")
