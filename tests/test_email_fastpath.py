"""The e-mail fast path (``_plain`` in matchers/contact.py) against email-validator.

The fast path may decline any input, but whenever it answers it must answer exactly as
``validate_email(value, check_deliverability=False).normalized``, and ``normalize_email``
must equal the library (None where it refuses) for every input. For a long local run:
``SOCIALID_EMAIL_EXAMPLES=20000 pytest tests/test_email_fastpath.py --hypothesis-show-statistics``.
"""

from __future__ import annotations

import json
import os

import pytest
from email_validator import EmailNotValidError, validate_email
from hypothesis import event, example, given, settings
from hypothesis import strategies as st

from matchers.contact import _plain, normalize_email
from service.bench.synthetic import book

pytestmark = pytest.mark.cluster

EXAMPLES = int(os.environ.get("SOCIALID_EMAIL_EXAMPLES", "400"))


def library(value: str) -> str | None:
    try:
        return validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError:
        return None


def check(raw: str) -> bool:
    """Asserts agreement; True when the fast path answered."""
    value = raw.strip()
    expected = library(value)
    fast = _plain(value)
    if fast is not None:
        assert fast == expected, raw
    assert normalize_email(raw) == expected, raw
    return fast is not None


ATEXT = "abcXYZ019!#$%&'*+/=?^_`{|}~-"
LATIN = "éèêëàâäáãåçñöøüÿßæœłńśźżčšžřůğışÉÜÖÅÇŁŒẞǅ"
SCRIPTS = "ДжёЯщΩαβγλΣς中文字日本한국어مرحباשלוםदेवनागरीกขไทย"
# Decomposed letters (not NFC), and marks: leading, after a dot, Mn, Mc, Me.
COMBINING = ["e\u0301", "u\u0308", "A\u030a", "\u0301", "\u0338", "\u0903", "\u20dd", "\u0345"]
CATEGORIES = [
    "\x00", "\x1f", "\x7f", "\x85", "\x9f",  # Cc
    "\u00ad", "\u200b", "\u200d", "\u200e", "\u202e", "\ufeff", "\U000e0001",  # Cf
    "\u00a0", "\u2003", "\u3000", "\u2028", "\u2029",  # Zs, Zl, Zp
    "\ue000", "\U000f0000",  # Co
    "\u0378", "\ufdd0", "\U000e0080", "\U0010ffff",  # Cn
    "\ud800", "\udfff",  # Cs (lone surrogates)
    "☃", "😀", "©", "€",  # So, Sc
    "\u00b4", "\u02c2", "\u309b", "\u02b0",  # Sk, Lm
    "٣", "३", "\u0661", "\uff11", "Ⅻ", "²",  # Nd of other scripts, Nl, No
    "。", "\uff20", "﹫", "«", "¿", "\u037e",  # Po (a full-width "@", a Greek question mark)
    "\u212b", "\u2126", "\uf900", "\u1100\u1161", "\u0340", "ﬁ",  # NFC changes these
]  # fmt: skip
SPECIALS = ['"', "@", "<", ">", "(", ")", ",", ";", ":", "\\", "[", "]", " ", "\t", "."]
PIECES = st.one_of(
    st.sampled_from(ATEXT),
    st.sampled_from(LATIN),
    st.sampled_from(SCRIPTS),
    st.sampled_from(COMBINING),
    st.sampled_from(CATEGORIES),
    st.sampled_from(SPECIALS),
    st.characters(min_codepoint=0x80),
    st.just("."),
)
# Mostly well-formed: dot-separated runs of letters, now and then with any other piece.
FRIENDLY = st.sampled_from(ATEXT + LATIN + SCRIPTS)
ATOM = st.lists(st.one_of(FRIENDLY, FRIENDLY, FRIENDLY, FRIENDLY, PIECES), min_size=1, max_size=12)
LOCAL = st.one_of(
    st.lists(ATOM.map("".join), min_size=1, max_size=4).map(".".join),
    st.lists(PIECES, min_size=1, max_size=20).map("".join),
)
# Padding that brings a local part near 64 characters or octets and an address near 254.
PAD = st.sampled_from(["a", "é", "中", "😀"]).flatmap(
    lambda ch: st.integers(0, 70).map(lambda n: ch * n)
)
PLAIN_DOMAINS = ["example.com", "Example.COM", "gmail.com", "yahoo.co.uk", "a.bc", "x.org"]
ODD_DOMAINS = [
    "foo.test", "x.local", "EXAMPLE.ONION", "in-addr.arpa", "localhost", "example", "x.c0m",
    "xn--bcher-kva.com", "ab--cd.com", "bücher.com", "exämple.de", "-a.com", "a-.com", "a..com",
    ".a.com", "com.", "[127.0.0.1]", "[IPv6:::1]", "", "a.b", "a_b.com",
    "\uff45\uff58\uff41\uff4d\uff50\uff4c\uff45.com", "example。com",
    "a" * 64 + ".com", "a" * 63 + ".com",
]  # fmt: skip
LABEL = st.text(alphabet="abcXYZ019-", min_size=1, max_size=63)
DOMAIN = st.one_of(
    st.sampled_from(PLAIN_DOMAINS),
    st.sampled_from(ODD_DOMAINS),
    st.builds(
        lambda labels, tld: ".".join([*labels, tld]),
        st.lists(LABEL, min_size=1, max_size=4),
        st.sampled_from(["com", "CO", "uk", "io", "x", "test"]),
    ),
)
SPACE = st.sampled_from(["", " ", "\t", "\n", "\u00a0", "\u3000", "\u200b", "\x85"])


@settings(max_examples=EXAMPLES, deadline=None)
@given(before=SPACE, local=LOCAL, pad=PAD, pad_at_end=st.booleans(), domain=DOMAIN, after=SPACE)
@example(before="", local="Info", pad="", pad_at_end=False, domain="Example.COM", after="")
@example(before="", local="a", pad="a" * 63, pad_at_end=True, domain="gmail.com", after="")
def test_the_fast_path_agrees_with_email_validator(
    before: str, local: str, pad: str, pad_at_end: bool, domain: str, after: str
) -> None:
    local = local + pad if pad_at_end else pad + local
    raw = f"{before}{local}@{domain}{after}"
    answered = check(raw)
    value = raw.strip()
    event("fast path" if answered else "library")
    event(f"library {'accepts' if library(value) is not None else 'refuses'}")


@settings(max_examples=EXAMPLES, deadline=None)
@given(st.text(min_size=0, max_size=300))
def test_normalize_email_is_the_library_for_any_text(raw: str) -> None:
    check(raw)


@settings(max_examples=EXAMPLES, deadline=None)
@given(local=st.text(st.characters(min_codepoint=0x21), min_size=1, max_size=70),
       domain=st.sampled_from(PLAIN_DOMAINS))  # fmt: skip
def test_any_local_part_with_a_plain_domain(local: str, domain: str) -> None:
    check(f"{local}@{domain}")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("josé.smith994@example.com", "josé.smith994@example.com"),
        ("zoë.jones631@Outlook.COM", "zoë.jones631@outlook.com"),
        ("José.Müller@gmail.com", "José.Müller@gmail.com"),  # the local part keeps its case
        ("Дмитрий@example.com", "Дмитрий@example.com"),
        ("用户.名@example.com", "用户.名@example.com"),
        ("e\u0301@example.com", "\u00e9@example.com"),  # NFC
        ("é" * 33 + "@example.com", "é" * 33 + "@example.com"),  # 66 octets: strict mode only
        ("\u0301a@example.com", None),  # a leading mark
        ("a\u200bb@example.com", None),  # Cf
        ("josé@example.test", None),  # special-use domain
        ("josé..smith@example.com", None),
    ],
)
def test_international_local_parts(raw: str, expected: str | None) -> None:
    assert normalize_email(raw) == expected


def test_every_address_of_the_synthetic_book() -> None:
    emails = [e for line in book(20000) for e in json.loads(line).get("emails", [])]
    for email in emails:
        # and every plain one takes the fast path: an import is mostly plain addresses
        assert check(email) or not email.isascii(), email
