"""Contact normalisation (pure): e-mail, phone, date of birth."""

from __future__ import annotations

from datetime import date

import pytest
from email_validator import EmailNotValidError, validate_email
from hypothesis import given, settings
from hypothesis import strategies as st

from matchers.contact import _plain, normalize_dob, normalize_email, normalize_phone

pytestmark = pytest.mark.cluster


def library(value: str) -> str | None:
    try:
        return validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError:
        return None


ATEXT = st.text(alphabet="abcXYZ019!#$%&'*+/=?^_`{|}~-.", min_size=1, max_size=20)
LABEL = st.text(alphabet="abcXYZ019-", min_size=1, max_size=12)
TLD = st.sampled_from(["com", "CO", "uk", "org", "test", "local", "io", "x", "c0m"])


@settings(max_examples=400, deadline=None)
@given(local=ATEXT, labels=st.lists(LABEL, min_size=1, max_size=3), tld=TLD)
def test_the_fast_path_agrees_with_email_validator(local: str, labels: list[str], tld: str) -> None:
    address = f"{local}@{'.'.join(labels)}.{tld}"
    fast = _plain(address)
    if fast is not None:  # whenever the fast path answers, it answers as the library does
        assert fast == library(address)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Dana.King@Example.COM", "Dana.King@example.com"),
        ("  dana@example.com ", "dana@example.com"),
        ("dänä@exämple.de", "dänä@exämple.de"),
        ("José.Smith@Example.COM", "José.Smith@example.com"),
        ("Info@Example.COM", "info@example.com"),  # RFC 2142 role mailboxes are lower-cased
        ("x@xn--bcher-kva.com", "x@bücher.com"),
        ("a..b@example.com", None),
        ("x@foo.test", None),
        ("not-an-email", None),
        ("@example.com", None),
    ],
)
def test_normalize_email(raw: str, expected: str | None) -> None:
    assert normalize_email(raw) == expected


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("07700 900123", "GB", "+447700900123"),
        ("+44 (0)7700 900123", "GB", "+447700900123"),
        ("(415) 555-0134", "US", "+14155550134"),
        ("+1 415 555 0134", "GB", "+14155550134"),
        ("12", "GB", None),
        ("call me", "GB", None),
    ],
)
def test_normalize_phone(raw: str, region: str, expected: str | None) -> None:
    assert normalize_phone(raw, region) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1984-05-03", "1984-05-03"),
        ("19840503", "1984-05-03"),
        ("1984-02-30", None),
        ("03/05/1984", None),
        ("1850-01-01", None),
        ("2999-01-01", None),
        ("1984-5-3", None),
    ],
)
def test_normalize_dob(raw: str, expected: str | None) -> None:
    assert normalize_dob(raw, today=date(2026, 11, 23)) == expected
