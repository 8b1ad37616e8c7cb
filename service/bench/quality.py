"""``socialid bench quality``: a synthetic book shaped like a real social-care customer base.

Households (a holder and members sharing the family account and the landline, a child with
the parent's name), a Zipf-like head of common given and family names, names in Greek or
Cyrillic script, names with particles, hyphens and apostrophes, customers abroad (AU, US,
DE, FR), 8-digit account numbers and towns. The book is generated lazily, one household at
a time, so that a million customers stream into the importer without being held in memory;
what the queries need (a sample of households per kind of customer, how many customers
share each name) is kept on the way. The queries are built in ``service/quality_queries``.
"""

from __future__ import annotations

import json
import random
import re
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import accumulate
from typing import Any

from anyascii import anyascii
from nicknames import name_triplets

from service.bench.quality_data import (
    ABROAD,
    COMMON_GIVEN,
    COMMON_SURNAMES,
    DOMAINS,
    PARTICLE_SURNAMES,
    SCRIPT_FAMILY,
    SCRIPT_GIVEN,
    STREETS,
    TAIL_ROOTS,
    UK_TOWNS,
)

_TAIL_SYLLABLES = ["ka", "ro", "mi", "ten", "dor", "vel", "an", "sk", "ow", "ley", "ford", "by"]
_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"
_SCRAMBLE = 55_623_797  # odd, and divisible by neither 3 nor 5
_SURNAME_CUM = list(accumulate(1 / rank for rank in range(1, len(COMMON_SURNAMES) + 1)))
_GIVEN_CUM = list(accumulate(1 / (rank + 4) for rank in range(1, len(COMMON_GIVEN) + 1)))
_TOWN_CUM = list(accumulate(town[3] for town in UK_TOWNS))
_GIVEN_TAIL = sorted({t.name1 for t in name_triplets()})


def surname(rng: random.Random) -> str:
    if rng.random() < 0.6:  # a Zipf-like head of common names, a long tail of rare ones
        return COMMON_SURNAMES[min(int(rng.paretovariate(1.2)) - 1, len(COMMON_SURNAMES) - 1)]
    return "".join(rng.choice(_TAIL_SYLLABLES) for _ in range(rng.randint(2, 3))).capitalize()


def postcode(rng: random.Random) -> str:
    area = rng.choice(["LS", "M", "B", "G", "CF", "BS", "SW", "NE", "L", "S"])
    return (
        f"{area}{rng.randint(1, 29)} {rng.randint(1, 9)}{rng.choice(_LETTERS)}"
        f"{rng.choice(_LETTERS)}"
    )


def given_name(rng: random.Random) -> str:
    if rng.random() < 0.4:
        return rng.choices(COMMON_GIVEN, cum_weights=_GIVEN_CUM)[0]
    return rng.choice(_GIVEN_TAIL).capitalize()


def family_name(rng: random.Random) -> str:
    """Zipf over the common surnames (Smith about 3% of the book, as in the UK), then a
    long tail of rare ones (tens of thousands)."""
    if rng.random() < 0.15:
        return rng.choices(COMMON_SURNAMES, cum_weights=_SURNAME_CUM)[0]
    parts = [rng.choice(TAIL_ROOTS) for _ in range(rng.randint(2, 3))]
    return "".join(parts).capitalize()


def scrambled(serial: int, modulus: int, salt: int = 0) -> int:
    """A number unique for every serial below ``modulus`` that does not look sequential
    (the multiplier is coprime with any modulus of 2s, 3s and 5s)."""
    return (serial * _SCRAMBLE + 4253 + salt * 1_234_567) % modulus


def account_number(serial: int) -> str:
    return str(10_000_000 + scrambled(serial, 90_000_000))


def is_book_account(number: str, customers: int) -> bool:
    """Whether an 8-digit number is the account of one of the first ``customers`` serials."""
    value = int(number) - 10_000_000
    if not 0 <= value < 90_000_000:
        return False
    return (value - 4253) * pow(_SCRAMBLE, -1, 90_000_000) % 90_000_000 < customers


@dataclass(slots=True)
class Person:
    customer_id: str
    given: str
    family: str
    dob: str
    line1: str
    city: str
    postcode: str
    country: str  # ISO 3166 code
    region: str | None
    mobile: str
    landline: str | None
    email: str | None
    accounts: list[str]  # the family account first for a household's members
    handle: str | None
    kind: str  # "uk", "abroad", "script", "particle": which sample the person is drawn into
    household: str | None = None
    role: str | None = None  # "holder" | "member"
    maiden: str | None = None
    # How the person writes the name elsewhere: the other script, another spelling.
    spelled: tuple[str, str] | None = None

    @property
    def full(self) -> str:
        return f"{self.given} {self.family}"


Unit = list[Person]  # one household, holder first, or a customer on their own


def name_key(given: str, family: str) -> tuple[str, str]:
    return given.casefold(), family.casefold()


def customer_doc(p: Person) -> dict[str, Any]:
    address: dict[str, Any] = {"line1": p.line1, "city": p.city, "postcode": p.postcode}
    if p.country != "GB" or p.customer_id.endswith("1"):  # UK CRMs mostly leave it out
        address["country"] = p.country
    if p.region:
        address["region"] = p.region
    doc: dict[str, Any] = {
        "id": p.customer_id,
        "given_name": p.given,
        "family_name": p.family,
        "emails": [p.email] if p.email else [],
        "phones": [p.mobile, p.landline] if p.landline else [p.mobile],
        "date_of_birth": p.dob,
        "addresses": [address],
        "accounts": [{"number": a} for a in p.accounts],
    }
    if p.handle:
        doc["identities"] = [
            {"channel": "twitter", "external_id": f"tw-{p.customer_id}", "handle": p.handle}
        ]
    if p.household:
        doc["household"] = {"id": p.household, "role": p.role}
    return doc


class BookStream:
    """The book, generated once as it is imported. After ``lines()`` is exhausted:
    ``names`` (customers per folded given and family name), ``samples`` (up to
    ``sample_size`` units per kind: "uk", "household", "abroad", "script", "particle")
    and ``seconds`` (time spent generating, inside the import's wall time)."""

    def __init__(self, customers: int, seed: int = 11, sample_size: int = 600) -> None:
        self.customers = customers
        self.names: Counter[tuple[str, str]] = Counter()
        self.samples: dict[str, list[Unit]] = {}
        self.seconds = 0.0
        self._seen: Counter[str] = Counter()
        self._rng = random.Random(seed)  # noqa: S311 - test data
        # Sampling draws from its own generator: the book is the same whatever is sampled.
        self._pick = random.Random(seed + 1)  # noqa: S311 - test data
        self._sample_size = sample_size
        self._handles: set[str] = set()
        self._serial = 0

    def lines(self) -> Iterator[bytes]:
        units = 0
        while self._serial < self.customers:
            started = time.perf_counter()
            unit = self._unit(units, min(self.customers - self._serial, 4))
            units += 1
            out = [json.dumps(customer_doc(p)).encode() for p in unit]
            for p in unit:
                self.names[name_key(p.given, p.family)] += 1
            self._sample(unit[0].kind, unit)
            if len(unit) > 1:
                self._sample("household", unit)
            self.seconds += time.perf_counter() - started
            yield from out

    def _sample(self, kind: str, unit: Unit) -> None:
        """Reservoir sampling: every unit of a kind equally likely, in fixed memory."""
        self._seen[kind] += 1
        kept = self.samples.setdefault(kind, [])
        if len(kept) < self._sample_size:
            kept.append(unit)
            return
        slot = self._pick.randrange(self._seen[kind])
        if slot < self._sample_size:
            kept[slot] = unit

    def _unit(self, number: int, room: int) -> Unit:
        rng = self._rng
        roll = rng.random()
        kind = next((k for k, share in _KIND_SHARES if roll < share), "uk")
        given, family, spelled, sex = self._names(kind)
        holder = self._person(kind, given, family, rng.randint(1940, 2004), spelled, number)
        unit = [holder]
        size = 1 if rng.random() < 0.7 else min(room, rng.choice([2, 2, 3, 3, 4]))
        for i in range(1, size):
            junior = i == 1 and sex == "m" and rng.random() < 0.15  # a son with his father's name
            if junior:
                m_given, m_family, m_spelled = given, family, spelled
            else:  # most of a household share the surname
                m_given, m_family, m_spelled, _ = self._names(kind, holder, rng.random() < 0.85)
            year = int(holder.dob[:4]) + (28 if junior else rng.randint(-5, 30))
            member = self._person(
                kind, m_given, m_family, min(year, 2008), m_spelled, number, holder
            )
            # The family account is on every member's record; some also hold their own.
            own = member.accounts if rng.random() < 0.4 else []
            member.accounts = [holder.accounts[0], *own]
            member.household, member.role = f"H-{number:07d}", "member"
            unit.append(member)
        if size > 1:
            holder.household, holder.role = f"H-{number:07d}", "holder"
        return unit

    def _names(
        self, kind: str, holder: Person | None = None, keep_family: bool = False
    ) -> tuple[str, str, tuple[str, str] | None, str]:
        """Given and family name as the book holds them, how else the person writes them,
        and the sex. A household's member: in the holder's script and in the same form
        (native or Latin) as the holder's record, with ``keep_family`` the holder's
        surname (in its form for the member's sex)."""
        rng = self._rng
        if kind == "script":
            row = rng.choice(SCRIPT_FAMILY)
            if holder is not None:
                held = next(r for r in SCRIPT_FAMILY if holder.family in r)
                same = [r for r in SCRIPT_FAMILY if _same_script(r[0], held[0])]
                row = held if keep_family else rng.choice(same)
            native_g, latin_g, sex = rng.choice(
                [g for g in SCRIPT_GIVEN if _same_script(g[0], row[0])]
            )
            native_f, latin_f = (row[0], row[1]) if sex == "m" else (row[2], row[3])
            native = not holder.given.isascii() if holder else rng.random() < 0.5
            if native:  # the book in the native script, messages in Latin
                return native_g, native_f, (latin_g, latin_f), sex
            return latin_g, latin_f, (native_g, native_f), sex
        given = given_name(rng)
        sex = "m" if rng.random() < 0.5 else "f"
        if holder is not None and keep_family:
            spelled = (given, holder.spelled[1]) if holder.spelled else None
            return given, holder.family, spelled, sex
        if kind == "particle":
            family = rng.choice(list(PARTICLE_SURNAMES))
            return given, family, (given, rng.choice(PARTICLE_SURNAMES[family])), sex
        return given, family_name(rng), None, sex

    def _person(
        self,
        kind: str,
        given: str,
        family: str,
        year: int,
        spelled: tuple[str, str] | None,
        unit: int,
        home: Person | None = None,
    ) -> Person:
        rng = self._rng
        n = self._serial
        self._serial += 1
        if home is not None:  # a household's member lives at the holder's address
            street, city, code = home.line1, home.city, home.postcode
            country, region, landline = home.country, home.region, home.landline
            mobile_prefix = _MOBILES.get(country) or f"+4477{rng.randint(1, 7)}{rng.randint(0, 9)}"
        else:
            street, city, code, country, region, mobile_prefix, landline_prefix = self._home(kind)
            landline = (
                f"{landline_prefix}{scrambled(unit, 10**6, 2):06d}" if rng.random() < 0.55 else None
            )
        # Mobiles and e-mails are unique per customer, landlines per household (up to 10**6).
        mobile = f"{mobile_prefix}{scrambled(n, 10**6, 1):06d}"
        latin_g, latin_f = (
            spelled if spelled and kind == "script" and not given.isascii() else (given, family)
        )
        word_g, word_f = _ascii_word(latin_g), _ascii_word(latin_f)
        email = None
        if rng.random() < 0.92:
            local = rng.choice([f"{word_g}.{word_f}", f"{word_g[0]}{word_f}", f"{word_g}_{word_f}"])
            email = f"{local}{scrambled(n, 10**6, 3)}@{rng.choice(DOMAINS)}"
        return Person(
            customer_id=f"Q-{n:07d}",
            given=given,
            family=family,
            dob=f"{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
            line1=street,
            city=city,
            postcode=code,
            country=country,
            region=region,
            mobile=mobile,
            landline=landline,
            email=email,
            accounts=[account_number(n)],
            handle=self._handle(word_g, word_f, city) if rng.random() < 0.6 else None,
            kind=kind,
            maiden=family_name(rng) if rng.random() < 0.06 else None,
            spelled=spelled,
        )

    def _home(self, kind: str) -> tuple[str, str, str, str, str | None, str, str]:
        """Street, town, postcode, country, region, mobile and landline prefixes."""
        rng = self._rng
        street = f"{rng.randint(1, 180)} {rng.choice(STREETS)}"
        if kind == "abroad":
            country, mobile_prefix, towns = rng.choice(ABROAD)
            city, region, first, span, width, landline_prefix = rng.choice(towns)
            code = f"{first + rng.randrange(span):0{width}d}"
            return street, city, code, country, region, mobile_prefix, landline_prefix
        city, areas, landline_prefix, _ = rng.choices(UK_TOWNS, cum_weights=_TOWN_CUM)[0]
        code = (
            f"{rng.choice(areas)}{rng.randint(1, 20)} {rng.randint(1, 9)}"
            f"{rng.choice(_LETTERS)}{rng.choice(_LETTERS)}"
        )
        # 0770x is not all valid: 0771-0777 are.
        mobile_prefix = f"+4477{rng.randint(1, 7)}{rng.randint(0, 9)}"
        return street, city, code, "GB", None, mobile_prefix, landline_prefix

    def _handle(self, given: str, family: str, city: str) -> str:
        """Twitter handles are unique: a taken one gets digits, as the sign-up page offers."""
        rng = self._rng
        town = _ascii_word(city)[:10]
        hobby = rng.choice(["cyclist", "gamer", "mum_of_two", "bluesfan"])
        handle = rng.choice(
            [
                f"{given}{family}",
                f"{given}_{family[:1]}",
                f"{given[:1]}{family}",
                f"{family}{given[:1]}{rng.randint(60, 99)}",
                f"{given}_in_{town}",
                f"{hobby}{rng.randint(1, 9999)}",
            ]
        )[:15]
        while handle in self._handles:
            handle = f"{handle[:11]}{rng.randint(1, 9999)}"
        self._handles.add(handle)
        return handle


_KIND_SHARES = [("abroad", 0.03), ("script", 0.05), ("particle", 0.08)]


_MOBILES = {country: prefix for country, prefix, _ in ABROAD}


def _same_script(a: str, b: str) -> bool:
    return ("\u0370" <= a[0] <= "\u03ff") == ("\u0370" <= b[0] <= "\u03ff")


def _ascii_word(value: str) -> str:
    return re.sub(r"[^a-z0-9]", "", (value if value.isascii() else anyascii(value)).lower())
