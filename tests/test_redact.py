"""Redaction of an erased customer from other people's text, and the person an erasure
reads from their record."""

from __future__ import annotations

import re

import phonenumbers
from hypothesis import given, settings
from hypothesis import strategies as st

from matchers.redact import MARKER, Person, Redactor
from service.book.erased_person import erased_person

DANA = Person(
    customer_id="cust-0042",
    names=("Dana King", "King Dana"),
    emails=("Dana.King@example.com",),
    phones=("+447700900123", "+14155550134"),
    handles=("dana_k",),
    accounts=("55-1234-88",),
)
REDACTOR = Redactor(DANA)


def test_names_in_any_case_spacing_or_order_and_only_whole() -> None:
    assert REDACTOR.redact("Spoke to DANA  king, then to King, Dana.") == (
        f"Spoke to {MARKER}, then to {MARKER}."
    )
    assert REDACTOR.redact("dana-king's order") == f"{MARKER}'s order"
    # Another person's name that begins like hers, and her given name alone, stay.
    kept = "Dana Kingsley wrote; Dana said hi"
    assert REDACTOR.redact(kept) == kept


def test_addresses_ids_and_handles_whole() -> None:
    assert REDACTOR.redact("mail DANA.KING@Example.com.") == f"mail {MARKER}."
    assert REDACTOR.redact("see cust-0042, not cust-00421") == f"see {MARKER}, not cust-00421"
    assert REDACTOR.redact("@dana_k and @dana_kx") == f"{MARKER} and @dana_kx"
    assert REDACTOR.redact("acct 55-1234-88, not 55-1234-889") == f"acct {MARKER}, not 55-1234-889"
    other = "xdana.king@example.com.au"
    assert REDACTOR.redact(other) == other


def test_terms_too_short_to_be_hers_alone_are_left() -> None:
    redactor = Redactor(Person(customer_id="42", names=("Al",), handles=("@x",)))
    assert redactor.redact("Al paid 42 to @x") == "Al paid 42 to @x"


def test_her_numbers_in_every_form_and_only_hers() -> None:
    text = (
        "07700 900123 / +44 (0)7700-900-123 / 447700900123 / 077 009 001 23 / "
        "(415) 555-0134 / tel:+1-415-555-0134 / keep 0113 496 0000 and order 4411"
    )
    assert REDACTOR.redact(text) == (
        f"{MARKER} / {MARKER} / {MARKER} / {MARKER} / {MARKER} / tel:{MARKER} / "
        "keep 0113 496 0000 and order 4411"
    )


FORMATS = [
    phonenumbers.PhoneNumberFormat.E164,
    phonenumbers.PhoneNumberFormat.INTERNATIONAL,
    phonenumbers.PhoneNumberFormat.NATIONAL,
    phonenumbers.PhoneNumberFormat.RFC3966,
]
WORDS = st.text(alphabet=st.sampled_from("abcdefghij ,.!?;:'\n"), max_size=40)


@settings(max_examples=300, deadline=None)
@given(
    before=WORDS,
    after=WORDS,
    phone=st.sampled_from(DANA.phones),
    form=st.sampled_from(FORMATS),
    gap=st.sampled_from([" ", "-", ".", ""]),
)
def test_a_number_of_hers_never_survives_however_written(
    before: str, after: str, phone: str, form: int, gap: str
) -> None:
    written = phonenumbers.format_number(phonenumbers.parse(phone), form)
    written = re.sub(r"(?<=\d) (?=\d)", gap, written)
    redacted = REDACTOR.redact(f"{before} {written} {after}")
    national = str(phonenumbers.parse(phone).national_number)
    runs = (re.sub(r"\D", "", m) for m in re.findall(r"[\d\s().+-]+", redacted))
    assert all(national not in digits for digits in runs), redacted


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=200))
def test_text_that_does_not_name_her_is_left_as_it_is(text: str) -> None:
    redactor = Redactor(Person(customer_id="zq-customer-zq", names=("Zqx Wvy",)))
    assert redactor.redact(text) == text


def test_the_person_read_from_a_record_that_may_not_validate() -> None:
    person = erased_person(
        "C-1",
        {
            "given_name": "Dana",
            "family_name": "King",
            "emails": ["d@example.com", 7],
            "phones": ["+447700900123", "call after 6"],
            "accounts": [{"number": "55-1234-88"}, {"status": "closed"}],
            "identities": [
                {"channel": "email", "external_id": "old@example.com"},
                {"channel": "twitter", "external_id": "1", "handle": "dana_k"},
                "junk",
            ],
        },
    )
    assert person.names == ("Dana King", "King Dana")
    assert person.emails == ("d@example.com", "old@example.com")
    assert person.phones == ("+447700900123", "call after 6")
    assert person.handles == ("dana_k",)
    assert person.accounts == ("55-1234-88",)
    assert erased_person("C-1", None) == Person(customer_id="C-1")
