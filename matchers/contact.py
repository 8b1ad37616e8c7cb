"""Normalisation of contact values: e-mail addresses, phone numbers, dates of birth.

Each function returns the normal form, or ``None`` when the value cannot be parsed; the
caller decides what to keep (the customer book keeps the raw value and flags it).
"""

from __future__ import annotations

import re
from datetime import date
from functools import lru_cache

import phonenumbers
from email_validator import SPECIAL_USE_DOMAIN_NAMES, EmailNotValidError, validate_email

from matchers.phones import fast_e164

# Plain ASCII addresses are by far the most common. For them email-validator's normal form
# is the local part as given and the domain lower-cased; checking them with this strict
# pattern first keeps bulk imports fast. Anything else (quoted, internationalised, odd)
# goes through the library. tests/test_contact.py checks that both agree.
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_PLAIN_LOCAL = re.compile(rf"{_ATEXT}(?:\.{_ATEXT})*")
_PLAIN_DOMAIN = re.compile(r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}")

_SPECIAL_USE = frozenset(SPECIAL_USE_DOMAIN_NAMES)


def _plain(value: str) -> str | None:
    local, at, domain = value.rpartition("@")
    if not at or len(local) > 64 or len(value) > 254:
        return None
    if not _PLAIN_LOCAL.fullmatch(local) or not _PLAIN_DOMAIN.fullmatch(domain):
        return None
    domain = domain.lower()
    # Labels with "--" (punycode and reserved forms) and special-use names follow rules
    # of their own: the library decides those.
    if "--" in domain or domain.rsplit(".", 1)[-1] in _SPECIAL_USE:
        return None
    return f"{local}@{domain}"


def normalize_email(raw: str) -> str | None:
    value = raw.strip()
    plain = _plain(value)
    if plain is not None:
        return plain
    try:
        return validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError:
        return None


_E164_FORMAT = phonenumbers.PhoneNumberFormat.E164


@lru_cache(maxsize=4096)
def normalize_phone(raw: str, default_region: str = "GB") -> str | None:
    """E.164 when libphonenumber can parse the number as a possible one."""
    # phonenumbers.parse was the largest single cost of a bulk import; plain numbers get the
    # same answer without it (matchers/phones.py, checked by tests/test_phone_fastpath.py).
    fast = fast_e164(raw, default_region)
    if fast is not None:
        return fast
    return _normalize_phone_libphonenumber(raw, default_region)


def _normalize_phone_libphonenumber(raw: str, default_region: str) -> str | None:
    """The reference for the fast path, and its fallback."""
    try:
        number = phonenumbers.parse(raw, default_region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, _E164_FORMAT)


_DOB_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")


def normalize_dob(raw: str, today: date | None = None) -> str | None:
    """``YYYY-MM-DD`` or ``YYYYMMDD`` to ISO; None for anything else or an impossible date."""
    value = raw.strip()
    compact = _DOB_COMPACT.match(value)
    if compact:
        value = "-".join(compact.groups())
    try:
        born = date.fromisoformat(value)
    except ValueError:
        return None
    if len(value) != 10 or born.year < 1900 or born > (today or date.today()):
        return None
    return born.isoformat()


# Providers whose mailboxes ignore dots in the local part and/or take "+tag" suffixes.
# Only for these is the canonical form looser than the address itself: elsewhere
# "d.king" and "dking" may well be two people.
_DOTS_IGNORED = frozenset({"gmail.com", "googlemail.com"})
_PLUS_TAGS = frozenset({
    "gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "hotmail.co.uk", "live.com",
    "live.co.uk", "msn.com", "icloud.com", "me.com", "mac.com", "fastmail.com", "fastmail.fm",
    "proton.me", "protonmail.com", "pm.me", "yandex.com", "yandex.ru",
})  # fmt: skip
_SAME_MAILBOX = {"googlemail.com": "gmail.com"}


def canonical_email(address: str) -> str:
    """The mailbox an address delivers to, for matching: lower case, and for providers
    that ignore them, without dots and "+tags" ("D.King+bills@gmail.com" ->
    "dking@gmail.com"). Not for display: the book keeps the address as given."""
    local, _, domain = address.strip().casefold().rpartition("@")
    domain = _SAME_MAILBOX.get(domain, domain)
    if domain in _PLUS_TAGS:
        local = local.split("+", 1)[0]
    if domain in _DOTS_IGNORED:
        local = local.replace(".", "")
    return f"{local}@{domain}"


def phone_tail(e164: str, digits: int = 8) -> str:
    """The last digits of a number: the part people rarely get wrong when the country
    or trunk prefix differs."""
    return "".join(ch for ch in e164 if ch.isdigit())[-digits:]
