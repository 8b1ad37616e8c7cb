"""Dates of birth in comparisons: exact, day and month swapped, or one part off."""

from __future__ import annotations

from datetime import date


def parse_iso(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def transposed(a: date, b: date) -> bool:
    """3 May vs 5 March: the same date with day and month swapped (US vs UK order)."""
    return a != b and a.year == b.year and a.day == b.month and a.month == b.day


def one_part_off(a: date, b: date) -> bool:
    """Two of year, month and day agree: a typo in one of them."""
    return sum((a.year == b.year, a.month == b.month, a.day == b.day)) == 2
