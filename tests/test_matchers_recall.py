"""The pure parts of recall: names people write about themselves, account numbers after a
cue, places read by their own country."""

from __future__ import annotations

import pytest

from matchers.compare import compare
from matchers.extract import extract
from matchers.names import Name
from matchers.places import region_of, street_of, town_of_location
from matchers.postcodes import read_postcode
from matchers.profile import build_profile
from matchers.text import fold
from matchers.textnames import name_in_text, speaker


@pytest.mark.parametrize(
    ("text", "given", "family"),
    [
        ("Hi, Zoe Smith here, account 31052228. My bill doubled", "zoe", "smith"),
        ("this is Zoe, my bill doubled", "zoe", None),
        ("My name is Liam van der Berg and I want a refund", "liam", "van der berg"),
        ("I'm Seán Nic Giolla", "sean", "nic giolla"),
        ("It's Dana O'Brien again", "dana", "obrien"),
        ("the bill is wrong\n- Zoe", "zoe", None),
        ("the bill is wrong\nThanks,\nZoe Smith", "zoe", "smith"),
        ("Hello Zoe Smith here", "zoe", "smith"),
        ("my account is 89801195. Charged twice. Thanks, Arielle Veltor", "arielle", "veltor"),
    ],
)
def test_a_name_the_writer_gives_is_read(text: str, given: str, family: str | None) -> None:
    assert name_in_text(text) == Name(given, family)


@pytest.mark.parametrize(
    "text",
    [
        "This is ridiculous",
        "I am furious",
        "I'm Furious about the bill",
        "Still waiting here",
        "The Internet here is down",
        "my account is 31052228",
        "",
    ],
)
def test_words_that_are_no_name_are_not_read_as_one(text: str) -> None:
    assert name_in_text(text) is None


def test_the_text_names_the_writer_and_the_display_name_gives_the_family() -> None:
    display = Name("john", "smith")
    assert speaker(display, "this is Zoe") == (Name("zoe", "smith"), True)
    assert speaker(display, "Zoe Jones here") == (Name("zoe", "jones"), True)
    assert speaker(display, "my bill doubled") == (display, False)


def test_a_non_latin_name_is_transliterated_as_names_customarily_are() -> None:
    assert fold("Ζωή Παπαδοπούλου") == "zoi papadopoulou"
    assert fold("Дмитрий Иванов") == "dmitriy ivanov"


@pytest.mark.parametrize(
    "text",
    [
        "acct no. 31052228",
        "a/c 31052228",
        "my account is 3105 2228",
        "Account number: 31-05-22-28",
        "customer number 31052228",
        "ref: 31052228",
    ],
)
def test_a_number_after_an_account_cue_is_read_in_any_form(text: str) -> None:
    found = [f for f in extract(text) if f.kind == "account_number"]
    assert found
    assert found[0].cued
    assert "".join(ch for ch in found[0].value if ch.isdigit()) == "31052228"


def test_a_cued_number_leaves_the_other_finds_alone() -> None:
    kinds = {f.kind for f in extract("ref 4411 and account 55-1234-88")}
    assert kinds == {"case_number", "account_number"}
    pattern = [f for f in extract("account 55-1234-88") if f.kind == "account_number"]
    assert [(f.value, f.cued) for f in pattern] == [("55-1234-88", False)]


def test_short_numbers_after_a_cue_are_not_accounts() -> None:
    assert not [f for f in extract("account 12345 is wrong") if f.kind == "account_number"]


def test_a_check_digit_applies_to_cued_numbers_too() -> None:
    assert extract("acct 4111111111111111", check_digit="luhn")
    assert not [f for f in extract("acct 4111111111111112", check_digit="luhn") if f.cued]


@pytest.mark.parametrize(
    ("country", "expected"),
    [
        ("AU", "AU"),
        ("Australia", "AU"),
        ("AUS", "AU"),
        ("UK", "GB"),
        ("England", "GB"),
        ("Deutschland", "DE"),
        (None, "GB"),
        ("", "GB"),
        ("Narnia", "ZZ"),
    ],
)
def test_a_country_is_read_as_people_write_it(country: str | None, expected: str) -> None:
    assert region_of(country, "GB") == expected


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("2617", "AU", "2617"),
        ("2617", "GB", "2617"),
        ("ls63ag", "GB", "LS6 3AG"),
        ("D02 X285", "IE", "D02X285"),
        ("10115", "ZZ", "10115"),
        ("not a code", "GB", None),
        ("??", "AU", None),
    ],
)
def test_any_countrys_postcode_is_read(raw: str, region: str, expected: str | None) -> None:
    assert read_postcode(raw, region) == expected


def test_a_street_is_compared_with_its_type_abbreviated() -> None:
    assert street_of("3 Elm Grove") == street_of("3, elm gr.") == "3 elm gr"
    assert street_of("12 Wattle Street") == street_of("12 Wattle St") == "12 wattle st"


@pytest.mark.parametrize(
    ("location", "town"),
    [
        ("Leeds, UK", "Leeds"),
        ("Belconnen ACT, Australia", "Belconnen ACT"),
        ("Newcastle upon Tyne", "Newcastle upon Tyne"),
        ("🌍 everywhere", None),
        ("she/her", None),
        ("https://example.org", None),
        ("LS6 3AG", None),
        (None, None),
    ],
)
def test_a_profile_location_gives_its_town(location: str | None, town: str | None) -> None:
    assert town_of_location(location) == town


def test_a_slip_in_a_given_name_is_a_typo_another_real_name_is_not() -> None:
    def level(a: str, b: str) -> str:
        [given] = [
            o.level
            for o in compare(build_profile(given=a), build_profile(given=b))
            if o.field == "given_name"
        ]
        return given

    assert level("Emiily", "Emily") == "typo"
    assert level("Rachle", "Rachel") == "typo"
    assert level("Andrea", "Andrew") not in ("typo", "another romanisation")
    assert level("Наталья", "Natalia") == "another romanisation"
    assert level("Dmitry", "Дмитрий") == "another romanisation"
    assert level("Sergei", "Sergey") == "another romanisation"
    assert level("Danielle", "Daniel") != "typo"


def test_every_kind_of_blocking_entry_has_its_rank() -> None:
    from matchers.places import Place
    from service.book.blocking import index_kind, index_rank
    from service.book.indexing import blocking_keys

    full = build_profile(
        given="Dana",
        family="King-Lee",
        emails=["d@example.org"],
        phones=["07911 123456"],
        date_of_birth="1984-05-03",
        places=[Place("LS6 3AG", "GB", "Leeds", "14 Cardigan Rd")],
        accounts=["55123488"],
        handles=["@dana_k"],
        household="H-1",
    )
    kinds = {index_kind(e) for e in blocking_keys(full, query=True)}
    assert {"em", "ph", "ac", "hd", "dob", "pc", "st", "nf", "nt", "nm", "gt", "gd", "gx"} <= kinds
    ranks = [index_rank(f"{kind}:x") for kind in kinds]
    assert len(set(ranks)) == len(kinds)  # each kind ranked, none left to the default


def test_plain_two_word_names_split_as_nameparser_splits_them() -> None:
    import random

    from nameparser import HumanName
    from nicknames import name_triplets

    from matchers import names
    from service.bench.quality_data import COMMON_SURNAMES

    givens = sorted({t.name1 for t in name_triplets()})
    families = [*COMMON_SURNAMES, "Kowalski", "Nguyen", "Müller", "Иванов", "Παπαδοπούλου"]
    rng = random.Random(3)  # noqa: S311 - test names, not secrets
    pairs = [f"{rng.choice(givens).capitalize()} {rng.choice(families)}" for _ in range(2000)]
    pairs += ["Dana King", "King Dana", "Jr Smith", "Van Berg", "Dr Who", "Mr Smith", "Ann Bin"]
    checked = 0
    for full in pairs:
        plain = names._plain_pair(full)
        if plain is not None:
            checked += 1
            parsed = HumanName(full, constants=names._PARSING)
            assert plain.given == " ".join(names._clean_tokens(parsed.first)), full
            assert plain.family == " ".join(names._clean_tokens(parsed.last)), full
    assert checked > 1900  # the fast path is the common one
