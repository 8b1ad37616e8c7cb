"""Every matcher that reads text from outside (a message, a profile, a search box, an
imported record) on any text: it answers in its own terms, never raises, and finishes
within a bound in time, also on strings built against its patterns at 50 KB."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from matchers.contact import (
    canonical_email,
    normalize_dob,
    normalize_email,
    normalize_phone,
    phone_tail,
)
from matchers.dates import parse_iso
from matchers.extract import extract
from matchers.handles import split_handle
from matchers.names import (
    Name,
    canonical_forms,
    name_of,
    nickname_match,
    phonetic,
    spelling_key,
    split_display,
    split_name,
)
from matchers.places import Place, house_number, region_of, street_of, town_of, town_of_location
from matchers.postcodes import district, normalize_postcode, read_postcode
from matchers.profile import account_key, build_profile, pack, unpack
from matchers.text import MAX_TEXT, fold, strip_symbols, tokens
from matchers.textnames import name_in_text, speaker
from tests.fuzzing import FUZZ, any_text, bounded

REGIONS = st.sampled_from(["GB", "US", "AU", "DE", "ZZ"])
FOLDED = re.compile(r"([a-z0-9]+( [a-z0-9]+)*)?")
# Free text: any code point, and the characters the patterns turn on, in runs.
CUES = ["account ", "acct no. ", "a/c ", "ref ", "order #", "case ", "my name is ", " here",
        "Thanks,\n", "\n- ", "@", ".", "-", " ", "\n", "+44 ", "07700 900", "LS6 3AG", "9",
        "O'", "Zoë ", "Smith-", "x@example.com", "55-1234-88"]  # fmt: skip
free_text = st.lists(any_text | st.sampled_from(CUES), max_size=30).map("".join)


@FUZZ
@given(
    text=free_text,
    region=REGIONS,
    check_digit=st.sampled_from([None, "luhn", "mod11"]),
    leniency=st.sampled_from(["valid", "possible"]),
)
@example("account 4011 7733 2 weeks ago, 07700 900123", "GB", None, "possible")
def test_every_identifier_found_points_into_the_text(
    text: str, region: str, check_digit: str | None, leniency: Any
) -> None:
    found = bounded(
        lambda: extract(text, region=region, check_digit=check_digit, phone_leniency=leniency)
    )
    scanned = text[:MAX_TEXT]
    for f in found:
        assert 0 <= f.start < f.end <= len(scanned)
        assert f.value
    assert [f.start for f in found] == sorted(f.start for f in found)
    # Overlapping finds are settled, bar the cued account numbers shown beside them.
    plain = [f for f in found if not f.cued]
    for a, b in itertools.pairwise(plain):
        assert a.end <= b.start, (a, b)


@FUZZ
@given(text=free_text, display=any_text)
@example("it's A-B-C-D-E-F-G here", "")
def test_a_name_given_in_text_is_a_name(text: str, display: str) -> None:
    said = bounded(lambda: name_in_text(text))
    assert said is None or (said.given and FOLDED.fullmatch(said.full))
    name, from_text = speaker(split_name(display), text)
    assert from_text == (said is not None)
    assert isinstance(name, Name)


@FUZZ
@given(a=any_text, b=any_text, c=any_text)
@example(" ", "x", "")  # nickname_match raised IndexError on white space
def test_names_fold_into_comparable_tokens(a: str, b: str, c: str) -> None:
    for name in (split_name(a), name_of(a or None, b or None, c or None)):
        for part in (name.given, name.family, *name.middle):
            assert part is None or (part and FOLDED.fullmatch(part))
    for value in (a, b):
        assert FOLDED.fullmatch(fold(value))
        assert tokens(value) == fold(value).split()
        assert len(strip_symbols(value)) <= len(value)
        assert " " not in spelling_key(fold(value))
        assert set(fold(value).split()[:1]) <= canonical_forms(fold(value))
        assert isinstance(phonetic(value), str)
    assert nickname_match(a, b) == nickname_match(b, a)
    shown, place = split_display(a)
    assert place is None or a.strip()[:200].startswith(shown)
    handle = split_handle(a)
    assert all(FOLDED.fullmatch(t) and t for t in handle.tokens)
    assert all(d.isdigit() for d in handle.digits)


@FUZZ
@given(raw=any_text, region=REGIONS)
@example("D.King+bills@GoogleMail.com", "GB")
def test_contact_values_normalise_to_their_normal_form_or_none(raw: str, region: str) -> None:
    email = normalize_email(raw)
    if email is not None:
        assert "@" in email
        assert normalize_email(email) == email
        assert canonical_email(email) == canonical_email(canonical_email(email))
    phone = normalize_phone(raw, region)
    assert phone is None or re.fullmatch(r"\+[1-9]\d{1,14}", phone)
    assert phone is None or phone_tail(phone).isdigit()
    dob = normalize_dob(raw, today=date(2026, 11, 24))
    assert dob is None or date.fromisoformat(dob).year >= 1900
    assert parse_iso(raw) is None or parse_iso(raw) == date.fromisoformat(raw)


@FUZZ
@given(raw=any_text, region=REGIONS, country=any_text)
@example("ls63ag", "GB", "UK")
def test_places_read_as_a_code_a_town_or_nothing(raw: str, region: str, country: str) -> None:
    code = normalize_postcode(raw, region)
    if region == "GB" and code is not None:
        assert re.fullmatch(r"[A-Z]{1,2}\d[A-Z\d]? \d[A-Z]{2}", code)
    read = read_postcode(raw, region)
    assert read is None or (read and district(read, region))
    assert re.fullmatch(r"[A-Z]{2}", region_of(country, region))
    street = street_of(raw)
    assert street is None or FOLDED.fullmatch(street)
    assert (
        street is None
        or house_number(street) is None
        or street.startswith(house_number(street) or "")
    )
    assert town_of(raw) is None or FOLDED.fullmatch(town_of(raw) or "")
    town = town_of_location(raw)
    assert town is None or raw.startswith(town) or raw.strip().startswith(town)
    assert all(ch.isalnum() for ch in account_key(raw))


# A record's text never holds a lone surrogate: its JSON is refused with one (pydantic).
record_text = st.text(st.characters(exclude_categories=["Cs"]), max_size=40)


@FUZZ
@given(fields=st.lists(record_text, min_size=10, max_size=10), region=REGIONS)
def test_a_profile_of_any_record_can_be_stored_and_read_back(
    fields: list[str], region: str
) -> None:
    given_, family, full, email, phone, born, postcode, country, city, line = fields
    profile = build_profile(
        given=given_, family=family, name=full, emails=[email], phones=[phone],
        date_of_birth=born, places=[Place(postcode, country, city, line)], accounts=[line],
        handles=[full], mentioned=[("email", email), ("account_number", line)], region=region,
    )  # fmt: skip
    assert unpack(pack(profile)) == profile._replace(name_source=None)


N = 50_000
# Built against the patterns: runs of digits, separators, '@' and dots, spaces, cue words
# repeated, and words the name patterns run along without end.
HOSTILE = {
    "digits": "9" * N, "digit space": "1 " * (N // 2), "digit dash": "1-" * (N // 2),
    "at": "@" * N, "a@": "a@" * (N // 2), "a.": "a." * (N // 2), "a@a.": "a@a." * (N // 4),
    "dots": "." * N, "spaces": " " * N, "newlines": "\n" * N, "tabs": "\t" * N,
    "letters": "a" * N, "Aa": "Aa" * (N // 2), "Aa space": "Aa " * (N // 3),
    "hyphened": "a-" * (N // 2), "apostrophes": "O'" * (N // 2), "accented": "ő" * N,
    "order": "order " * (N // 6), "order#": "order #" * (N // 7), "account": "account " * (N // 8),
    "account no 1": "account no 1 " * (N // 13), "ref": "ref 1 " * (N // 6),
    "a/c": "a/c 12 " * (N // 7), "groups": "account " + "12 " * (N // 3),
    "postcodes": "LS6 " * (N // 4), "plus": "+44 " * (N // 4), "brackets": "(0" * (N // 2),
    "phones": "07700 " * (N // 6), "my name is": "my name is " * (N // 11),
    "here": "Ab " * (N // 3) + "here", "sign-offs": "\n- Ab" * (N // 5),
    "thanks": "Thanks, " * (N // 8), "long local": "x" * 64 + "@" + "a" * N,
    "accounts": "11-1234-" * (N // 8), "hash": "#" * N, "nbsp": "\u00a0" * N,
    "mixed": "a1-b2.c3@d4 " * (N // 12), "quotes": "'\"" * (N // 2),
}  # fmt: skip
MATCHERS: dict[str, Callable[[str], object]] = {
    "extract": extract, "extract possible": lambda s: extract(s, phone_leniency="possible"),
    "name_in_text": name_in_text, "split_name": split_name, "split_display": split_display,
    "split_handle": split_handle, "fold": fold, "normalize_email": normalize_email,
    "canonical_email": canonical_email, "normalize_phone": normalize_phone,
    "normalize_dob": normalize_dob, "normalize_postcode": normalize_postcode,
    "read_postcode": read_postcode, "region_of": lambda s: region_of(s, "GB"),
    "street_of": street_of, "town_of": town_of, "town_of_location": town_of_location,
    "account_key": account_key, "phonetic": phonetic,
}  # fmt: skip


@pytest.mark.parametrize("matcher", MATCHERS)
def test_strings_built_against_the_patterns_are_read_in_bounded_time(matcher: str) -> None:
    """name_in_text took 5 s over 10,000 letters (its "... here" pattern was tried at
    every letter of a word): every matcher, on every shape, within the bound."""
    for shape in HOSTILE.values():
        bounded(lambda: MATCHERS[matcher](shape))  # noqa: B023
