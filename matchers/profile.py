"""A person as the matcher sees them: every field in comparable form.

Built the same way for a customer record and for a query (a sender, a rep's search), so
the comparisons never see raw input. Pure: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date
from typing import Any, NamedTuple

import orjson

from matchers.contact import canonical_email, normalize_email, normalize_phone
from matchers.dates import parse_iso
from matchers.handles import split_handle
from matchers.names import name_of
from matchers.places import Place, region_of, street_of, town_of
from matchers.postcodes import district, read_postcode


class Profile(NamedTuple):
    """Immutable. A named tuple rather than a frozen dataclass: an import builds one per
    customer and a resolution unpacks one per candidate, and a tuple is made in a third
    of the time."""

    given: str | None = None
    family: str | None = None
    emails: frozenset[str] = frozenset()  # canonical forms
    phones: frozenset[str] = frozenset()  # E.164
    dob: date | None = None
    postcodes: frozenset[str] = frozenset()
    districts: frozenset[str] = frozenset()
    towns: frozenset[str] = frozenset()
    streets: frozenset[str] = frozenset()  # first address lines, folded, types short
    accounts: frozenset[str] = frozenset()
    handles: tuple[tuple[str, ...], ...] = ()  # each handle as name-like tokens
    handle_ids: frozenset[str] = frozenset()  # each handle whole, digits included
    # Identifiers found in free text (a message, a search box), weighed on their own.
    mentioned: frozenset[tuple[str, str]] = frozenset()
    # The household the customer belongs to: its family accounts are every member's.
    household: str | None = None
    # A query's only: where its name came from when not a name field ("text"), shown in
    # the evidence. Never packed: a record's name is its own.
    name_source: str | None = None


_E164 = re.compile(r"\+[1-9]\d{6,14}")


def _emails(values: Iterable[str], normalised: bool) -> frozenset[str]:
    normals = (raw if normalised and "@" in raw else normalize_email(raw) for raw in values)
    return frozenset(canonical_email(normal) for normal in normals if normal)


def _phones(values: Iterable[str], region: str, normalised: bool) -> frozenset[str]:
    if normalised:  # the book's own values: E.164 already, or kept raw as unparseable
        return frozenset(raw for raw in values if _E164.fullmatch(raw))
    phones = (normalize_phone(raw, region) for raw in values)
    return frozenset(phone for phone in phones if phone)


# Everything but letters and digits (``\w`` is exactly ``str.isalnum`` plus "_").
_NOT_ALNUM = re.compile(r"[\W_]+")


def account_key(value: str) -> str:
    """An account number as the book compares it: letters and digits, upper case."""
    return _NOT_ALNUM.sub("", value.upper())


def build_profile(
    *,
    given: str | None = None,
    family: str | None = None,
    name: str | None = None,
    emails: Iterable[str] = (),
    phones: Iterable[str] = (),
    date_of_birth: str | None = None,
    places: Iterable[Place] = (),
    accounts: Iterable[str] = (),
    handles: Iterable[str] = (),
    mentioned: Iterable[tuple[str, str]] = (),
    region: str = "GB",
    normalised: bool = False,
    name_source: str | None = None,
    household: str | None = None,
) -> Profile:
    """``normalised``: e-mails and phones were normalised on the way into the customer
    book (the values that could not be are skipped rather than parsed again).
    Each of ``places`` is read in its own country, ``region`` where it names none."""
    person = name_of(given, family, name)
    codes, districts, towns, streets = set(), set(), set(), set()
    for place in places:
        if place.postcode:
            country = region_of(place.country, region)
            code = read_postcode(place.postcode, country)
            if code:
                codes.add(code)
                districts.add(district(code, country))
        town = town_of(place.city) if place.city else None
        if town:
            towns.add(town)
        street = street_of(place.line1) if place.line1 else None
        if street:
            streets.add(street)
    splits = [split_handle(raw) for raw in handles]
    return Profile(
        given=person.given,
        family=person.family,
        emails=_emails(emails, normalised),
        phones=_phones(phones, region, normalised),
        dob=parse_iso(date_of_birth),
        postcodes=frozenset(codes),
        districts=frozenset(districts),
        towns=frozenset(towns),
        streets=frozenset(streets),
        accounts=frozenset(number for number in map(account_key, accounts) if number),
        handles=tuple(split.tokens for split in splits if split.tokens),
        handle_ids=frozenset(split.handle for split in splits if split.handle),
        mentioned=frozenset(_mention(kind, value) for kind, value in mentioned),
        household=household,
        name_source=name_source,
    )


def _mention(kind: str, value: str) -> tuple[str, str]:
    if kind == "email":
        return kind, canonical_email(value)
    if kind == "account_number":
        return kind, account_key(value)
    return kind, value


# Stored profiles carry this tag. Bump it whenever build_profile gives another result for
# the same record: profiles stored under the old tag are then ignored (rebuilt from the
# record) until the record is written again.
PACK_FORMAT = "p2"


def pack(profile: Profile) -> str:
    """The profile as one line of text, to store beside the record it was built from:
    reading it back costs a tenth of validating the record and profiling it again."""
    fields = [
        profile.given, profile.family, sorted(profile.emails), sorted(profile.phones),
        profile.dob.isoformat() if profile.dob else None, sorted(profile.postcodes),
        sorted(profile.districts), sorted(profile.accounts),
        [list(t) for t in profile.handles], sorted(profile.handle_ids),
        sorted(list(m) for m in profile.mentioned), sorted(profile.towns),
        sorted(profile.streets), profile.household,
    ]  # fmt: skip
    return PACK_FORMAT + orjson.dumps(fields).decode()


def unpack(line: str | bytes) -> Profile | None:
    """A packed profile; None when it was packed in another format (or is damaged)."""
    text = line.decode() if isinstance(line, bytes) else line
    if not text.startswith(PACK_FORMAT):
        return None
    try:
        f: Any = orjson.loads(text[len(PACK_FORMAT) :])
        given, family, emails, phones, dob, postcodes, districts, accounts = f[:8]
        handles, handle_ids, mentioned, towns, streets, household = f[8:]
        return Profile(
            given=given,
            family=family,
            emails=frozenset(emails),
            phones=frozenset(phones),
            dob=parse_iso(dob),
            postcodes=frozenset(postcodes),
            districts=frozenset(districts),
            towns=frozenset(towns),
            streets=frozenset(streets),
            accounts=frozenset(accounts),
            handles=tuple(tuple(t) for t in handles),
            handle_ids=frozenset(handle_ids),
            mentioned=frozenset((k, v) for k, v in mentioned),
            household=household,
        )
    except (ValueError, TypeError):
        return None
