"""Postcodes: one written form per code, and the district used for blocking."""

from __future__ import annotations

import re
from functools import lru_cache

# UK: outward code (area + district) and inward code (sector + unit).
UK_POSTCODE = re.compile(r"\b([A-Z]{1,2}\d[A-Z\d]?)\s*(\d[A-Z]{2})\b", re.IGNORECASE)
US_ZIP = re.compile(r"\b(\d{5})(?:-(\d{4}))?\b")


@lru_cache(maxsize=65_536)
def normalize_postcode(raw: str, region: str = "GB") -> str | None:
    """'ls63ag' -> 'LS6 3AG' (GB); '94103-1234' -> '94103' (US); other regions: upper
    case without inner spaces. None when a GB or US code does not look like one."""
    value = raw.strip().upper()
    if region == "GB":
        match = UK_POSTCODE.fullmatch(value.replace(" ", "")) or UK_POSTCODE.fullmatch(value)
        return f"{match.group(1)} {match.group(2)}".upper() if match else None
    if region == "US":
        match = US_ZIP.fullmatch(value)
        return match.group(1) if match else None
    compact = re.sub(r"\s+", "", value)
    return compact or None


_GENERIC = re.compile(r"(?=[A-Z0-9]*\d)[A-Z0-9]{2,10}")


@lru_cache(maxsize=65_536)
def read_postcode(raw: str, region: str = "GB") -> str | None:
    """A postcode of any country: the region's own form where it has one and the code
    fits it, else upper case without spaces or dashes ("2615", "75008", "D02X285").
    None only for what no country writes as a postcode (no digit, or over 10 characters):
    a code of another format than the region's is still read."""
    strict = normalize_postcode(raw, region) if region in ("GB", "US") else None
    if strict:
        return strict
    compact = re.sub(r"[\s-]+", "", raw.strip().upper())
    return compact if _GENERIC.fullmatch(compact) else None


def district(postcode: str, region: str = "GB") -> str:
    """The coarse area a postcode lies in: the outward code in GB ('LS6'), the first
    three digits of a US ZIP, else the code itself."""
    if region == "GB":
        return postcode.split(" ", 1)[0]
    if region == "US":
        return postcode[:3]
    return postcode
