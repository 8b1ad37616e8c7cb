"""A person's identifiers found in free text and replaced by a marker: what an erasure
does to the notes, replies and messages of other people that name the erased customer.

Pure. Unlike the extractors, it reads the whole text, however long: a name left past
the first ten thousand characters would survive the erasure. Every pattern is linear.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

import phonenumbers

from matchers.contact import normalize_phone

MARKER = "[erased]"
# Shorter terms (an id "7", a two-letter name) would shred other people's text.
_MIN_TERM = 3
# Room for what may stand before a national number written in full: a country code,
# a trunk prefix, or both ("+44 (0)7700 900123" is 44 0 7700900123).
_MAX_PREFIX_DIGITS = 4
_MIN_NATIONAL_DIGITS = 6
# A run of digits as people write phone numbers: groups split by spaces, dots, dashes,
# slashes or brackets, perhaps after a plus.
_DIGIT_RUN = re.compile(r"(?<![\w+])\+?\(?\d(?:[\s().\-/]{0,3}\d){5,24}(?!\w)")
_NON_DIGIT = re.compile(r"\D")
_NAME_GAP = r"[\s,.'\u2019-]+"
Span = tuple[int, int]


@dataclass(frozen=True, slots=True)
class Person:
    """What identifies someone in text, as the book holds it: phones in E.164."""

    customer_id: str
    names: tuple[str, ...] = ()
    emails: tuple[str, ...] = ()
    phones: tuple[str, ...] = ()
    handles: tuple[str, ...] = ()
    accounts: tuple[str, ...] = ()


def _words(name: str) -> str:
    """A name as a pattern: its words in order, whatever the spacing or the punctuation
    names are written with between them ("Dana  King", "dana-king", "KING, DANA")."""
    return _NAME_GAP.join(re.escape(w) for w in re.split(r"\W+", name) if w)


class Redactor:
    """Finds a person's id, names, e-mails, handles, account numbers and phone numbers
    in text, in any letter case; phone numbers in any of the ways people write them.
    ``region``: where a number written without its country code is read as being from
    (the region of each of the person's own numbers is tried too)."""

    def __init__(self, person: Person, region: str = "GB") -> None:
        self.person = person
        p = person
        names = {_words(n) for n in p.names if len(n.strip()) >= _MIN_TERM}
        terms = [rf"(?<!\w){n}(?!\w)" for n in sorted(names) if n]
        terms += [
            rf"(?<![\w.+-]){re.escape(e.strip())}(?![\w-]|\.\w)" for e in p.emails if "@" in e
        ]
        terms += [
            rf"(?<![\w-]){re.escape(t)}(?![\w-])"
            for t in (p.customer_id, *p.accounts)
            if len(t) >= _MIN_TERM
        ]
        terms += [
            rf"(?<![\w@])@?{re.escape(h.lstrip('@'))}(?!\w)"
            for h in p.handles
            if len(h.lstrip("@")) >= _MIN_TERM
        ]
        # Each on its own: in one alternation a name would hide the address it begins.
        self._terms = [re.compile(t, re.IGNORECASE) for t in terms]
        normal = [normalize_phone(v, region) for v in p.phones]
        numbers = [phonenumbers.parse(v) for v in normal if v]
        self._phones = frozenset(_e164(n) for n in numbers)
        self._nationals = {
            str(n.national_number)
            for n in numbers
            if len(str(n.national_number)) >= _MIN_NATIONAL_DIGITS
        }
        regions = {region, *(phonenumbers.region_code_for_number(n) for n in numbers)}
        self._regions = sorted(r for r in regions if r)

    def spans(self, text: str) -> list[Span]:
        """Where the person is named, in order, overlapping finds merged."""
        found: list[Span] = []
        for term in self._terms:
            found += [m.span() for m in term.finditer(text)]
        if self._phones:
            found += self._phone_spans(text)
        return _merged(found)

    def _phone_spans(self, text: str) -> Iterable[Span]:
        for region in self._regions:
            for match in phonenumbers.PhoneNumberMatcher(
                text, region, leniency=phonenumbers.Leniency.POSSIBLE
            ):
                if _e164(match.number) in self._phones:
                    # The matcher's span may begin with the space before the number.
                    raw = match.raw_string
                    start = match.start + len(raw) - len(raw.lstrip())
                    yield start, match.start + len(raw.rstrip())
        # Numbers the matcher passes over (a digit too many before them, odd grouping):
        # any run whose digits are one of the person's national numbers in full.
        for m in _DIGIT_RUN.finditer(text):
            run = m.group(0)
            digits = _NON_DIGIT.sub("", run)
            normal = {normalize_phone(run, r) for r in self._regions}
            if normal & self._phones or any(
                digits.endswith(n) and len(digits) - len(n) <= _MAX_PREFIX_DIGITS
                for n in self._nationals
            ):
                yield m.span()

    def redact(self, text: str) -> str:
        """The text with every place naming the person replaced by ``MARKER``."""
        return apply(text, self.spans(text))


def _e164(number: phonenumbers.PhoneNumber) -> str:
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _merged(spans: list[Span]) -> list[Span]:
    out: list[Span] = []
    for start, end in sorted(spans):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def apply(text: str, spans: list[Span]) -> str:
    """``text`` with each of the (ordered, disjoint) spans replaced by ``MARKER``."""
    parts: list[str] = []
    at = 0
    for start, end in spans:
        parts += (text[at:start], MARKER)
        at = end
    parts.append(text[at:])
    return "".join(parts)


def moved(position: int, spans: list[Span]) -> int:
    """Where a position outside the spans stands once they are replaced."""
    return position + sum(len(MARKER) - (end - start) for start, end in spans if end <= position)


def overlaps(start: int, end: int, spans: list[Span]) -> bool:
    return any(start < e and s < end for s, e in spans)
