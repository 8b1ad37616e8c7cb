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
from email_validator.rfc_constants import CASE_INSENSITIVE_MAILBOX_NAMES

# Plain ASCII addresses are by far the most common, and email-validator spends tens of
# microseconds on each: an import cost half as much again per customer without this path.
# For them the library's normal form is the local part as given (bar RFC 2142 role names,
# which it lower-cases: "Info@") and the domain lower-cased, so a strict pattern can give
# it. Anything else (quoted, odd, non-ASCII, internationalised domains) goes through the
# library. tests/test_contact.py and tests/test_email_fastpath.py check that both agree.
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_PLAIN_LOCAL = re.compile(rf"{_ATEXT}(?:\.{_ATEXT})*")
_PLAIN_DOMAIN = re.compile(r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}")

_SPECIAL_USE = frozenset(SPECIAL_USE_DOMAIN_NAMES)
_ROLE_MAILBOXES = frozenset(CASE_INSENSITIVE_MAILBOX_NAMES)
_LONGEST_ROLE = max(map(len, _ROLE_MAILBOXES))


def _plain_domain(domain: str) -> str | None:
    if not _PLAIN_DOMAIN.fullmatch(domain):
        return None
    domain = domain.lower()
    # Labels with "--" (punycode and reserved forms) and special-use names follow rules
    # of their own: the library decides those.
    if "--" in domain or domain.rsplit(".", 1)[-1] in _SPECIAL_USE:
        return None
    return domain


def _plain(value: str) -> str | None:
    local, at, domain = value.rpartition("@")
    if not at or len(local) > 64 or len(value) > 254 or not _PLAIN_LOCAL.fullmatch(local):
        return None
    plain_domain = _plain_domain(domain)
    if plain_domain is None:
        return None
    if len(local) <= _LONGEST_ROLE and local.lower() in _ROLE_MAILBOXES:
        local = local.lower()
    return f"{local}@{plain_domain}"


def normalize_email(raw: str) -> str | None:
    value = raw.strip()
    fast = _plain(value)
    if fast is not None:
        return fast
    try:
        return validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError:
        return None


_E164_FORMAT = phonenumbers.PhoneNumberFormat.E164


@lru_cache(maxsize=4096)
def normalize_phone(raw: str, default_region: str = "GB") -> str | None:
    """E.164 when libphonenumber can parse the number as a possible one."""
    try:
        number = phonenumbers.parse(raw, default_region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, _E164_FORMAT)


_DOB_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")


# A date before the day this module was loaded is in the past for good: only a later one
# needs today's date, which costs a clock read and a time zone conversion per record.
_LOADED_ON = date.today()


def normalize_dob(raw: str, today: date | None = None) -> str | None:
    """``YYYY-MM-DD`` or ``YYYYMMDD`` to ISO; None for anything else or an impossible date."""
    born = _date_of_birth(raw)
    if born is None:
        return None
    if today is not None:
        if born > today:
            return None
    elif born >= _LOADED_ON and born > date.today():
        return None
    return born.isoformat()


@lru_cache(maxsize=65_536)
def _date_of_birth(raw: str) -> date | None:
    # A book of a million holds some 30,000 distinct birthdays: parsed once each.
    value = raw.strip()
    compact = _DOB_COMPACT.match(value)
    if compact:
        value = "-".join(compact.groups())
    try:
        born = date.fromisoformat(value)
    except ValueError:
        return None
    return born if len(value) == 10 and born.year >= 1900 else None


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
