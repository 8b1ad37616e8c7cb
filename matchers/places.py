"""Where someone lives, in comparable form: the country an address is read by, its town,
and its street with the house number ("3 Elm Grove", "3 elm gr." and "3, Elm Grove" are
one street).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import NamedTuple

import pycountry

from matchers.text import fold

# What people write for a country that ISO 3166 does not list under that name.
_COUNTRY_ALIASES = {
    "uk": "GB",
    "england": "GB",
    "scotland": "GB",
    "wales": "GB",
    "northern ireland": "GB",
    "great britain": "GB",
    "britain": "GB",
    "usa": "US",
    "america": "US",
    "deutschland": "DE",
    "espana": "ES",
    "italia": "IT",
    "nederland": "NL",
    "osterreich": "AT",
    "schweiz": "CH",
    "suisse": "CH",
    "polska": "PL",
    "eire": "IE",
}


class Place(NamedTuple):
    """An address as given, record or query alike."""

    postcode: str | None = None
    country: str | None = None
    city: str | None = None
    line1: str | None = None


@lru_cache(maxsize=1024)
def region_of(country: str | None, default: str) -> str:
    """The ISO 3166 alpha-2 code of a country as written ("AU", "Australia", "AUS",
    "UK"); the default region where none is given. A country that cannot be named is
    read as no country in particular ("ZZ"): its postcode is still compared, in a
    generic form, rather than being refused."""
    if not country or not country.strip():
        return default
    alias = _COUNTRY_ALIASES.get(fold(country))
    if alias:
        return alias
    try:
        code: str = pycountry.countries.lookup(country.strip()).alpha_2
    except LookupError:
        return "ZZ"
    return code


# Street types as they are abbreviated (Royal Mail, USPS and common use): both sides of a
# comparison are written short.
_STREET_TYPES = {
    "road": "rd",
    "street": "st",
    "avenue": "ave",
    "av": "ave",
    "grove": "gr",
    "lane": "ln",
    "drive": "dr",
    "place": "pl",
    "crescent": "cres",
    "close": "cl",
    "court": "ct",
    "terrace": "tce",
    "gardens": "gdns",
    "square": "sq",
    "parade": "pde",
    "highway": "hwy",
    "boulevard": "blvd",
    "circuit": "cct",
    "mount": "mt",
    "park": "pk",
    "way": "wy",
    "walk": "wk",
    "row": "rw",
    "hill": "hl",
    "north": "n",
    "south": "s",
    "east": "e",
    "west": "w",
    "flat": "flt",
    "apartment": "apt",
    "unit": "u",
}


@lru_cache(maxsize=65_536)
def street_of(line: str) -> str | None:
    """The first address line folded, with street types short: "3 Elm Grove" -> "3 elm
    gr"; None when nothing is left."""
    words = [_STREET_TYPES.get(w, w) for w in fold(line).split()]
    return " ".join(words) or None


def house_number(street: str) -> str | None:
    """The first token of a street line when it holds a digit ("3", "12a")."""
    first = street.split(" ", 1)[0]
    return first if any(ch.isdigit() for ch in first) else None


def street_name(street: str) -> str:
    """The street line without its house number."""
    return street.split(" ", 1)[1] if house_number(street) and " " in street else street


@lru_cache(maxsize=65_536)
def town_of(city: str) -> str | None:
    return fold(city) or None


# A profile location that names a place: "Leeds, UK", "Belconnen ACT, Australia". Not
# "🌍 everywhere", "she/her" or a URL.
_PLACE = re.compile(r"[^\W\d_][^\W\d_ .'-]{1,39}(?: [^\W\d_][^\W\d_.'-]*){0,3}")


def town_of_location(location: str | None) -> str | None:
    """The town a profile location names first, if it reads as one."""
    if not location:
        return None
    first = location.split(",", 1)[0].strip()
    return first if _PLACE.fullmatch(first) else None
