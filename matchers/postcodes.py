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


def district(postcode: str, region: str = "GB") -> str:
    """The coarse area a postcode lies in: the outward code in GB ('LS6'), the first
    three digits of a US ZIP, else the code itself."""
    if region == "GB":
        return postcode.split(" ", 1)[0]
    if region == "US":
        return postcode[:3]
    return postcode
