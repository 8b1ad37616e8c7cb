"""Personal names: cleaning display names, splitting full names, nicknames, phonetics."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import jellyfish
from nameparser import HumanName
from nameparser.config import Constants
from nicknames import NickNamer

from matchers.text import fold, strip_symbols

# Titles and suffixes that are never part of someone's own name. Not "md" (Md is a
# common given name), "sr" (Sister) or roman numerals, which nameparser places itself.
HONORIFICS = frozenset("mr mrs ms miss mx dr prof sir dame lady lord rev fr jr phd esq".split())


# Lower-case parts of surnames that say nothing on their own: van der Berg, da Silva.
PARTICLES = frozenset(
    "van von de der den da di du le la nic ni mac mc bin al dos das del ter ten".split()
)


def family_parts(family: str) -> list[str]:
    """The parts of a family name that identify it: "van der berg" -> ["berg"],
    "king lee" -> ["king", "lee"]."""
    parts = [t for t in family.split() if t not in PARTICLES and len(t) > 1]
    return parts or family.split()


# nameparser's rules plus the Irish particles it does not know: "Nic Giolla" is a surname
# whole. A private instance: the shared one is not to be changed.
_PARSING = Constants()
_PARSING.prefixes.add("nic", "ni", "ui")
_PARSING_RULES = (
    _PARSING.titles,
    _PARSING.suffix_acronyms,
    _PARSING.suffix_not_acronyms,
    _PARSING.prefixes,
    _PARSING.conjunctions,
    _PARSING.first_name_titles,
)


@dataclass(frozen=True, slots=True)
class Name:
    """A name in comparable form: folded tokens, never empty strings."""

    given: str | None
    family: str | None
    middle: tuple[str, ...] = ()

    @property
    def initial(self) -> str | None:
        return self.given[0] if self.given else None

    @property
    def full(self) -> str:
        return " ".join(p for p in (self.given, *self.middle, self.family) if p)


def _clean_tokens(value: str) -> list[str]:
    return list(_clean(value)) if len(value) <= 64 else _clean_uncached(value)


@lru_cache(maxsize=65_536)
def _clean(value: str) -> tuple[str, ...]:
    # Names repeat across a book (a few thousand given and family names cover most
    # people), so the folding is done once per distinct name.
    return tuple(_clean_uncached(value))


def _clean_uncached(value: str) -> list[str]:
    return [t for t in fold(value).split() if t not in HONORIFICS]


@lru_cache(maxsize=65_536)
def split_name(full: str) -> Name:
    """Given/family split of a full or display name, honorifics and emoji dropped.

    "Dr. Dana K. King-Lee Jr." -> given "dana", middle ("k",), family "king lee";
    "King, Dana" -> given "dana", family "king"; "Dana K 🚲" -> given "dana", family "k".
    """
    plain = _plain_pair(full)
    if plain is not None:
        return plain
    parsed = HumanName(strip_symbols(full)[:200], constants=_PARSING)
    given = _clean_tokens(parsed.first)
    family = _clean_tokens(parsed.last)
    middle = tuple(_clean_tokens(parsed.middle))
    if not given and not family:
        rest = _clean_tokens(full)
        given, family = rest[:1], rest[1:]
    return Name(
        given=" ".join(given) or None,
        family=" ".join(family) or None,
        middle=middle,
    )


def _plain_pair(full: str) -> Name | None:
    """ "Dana King": two words of letters that nameparser has no rule for (no title,
    suffix, particle or conjunction). Most display names are, and nameparser takes a
    third of a millisecond to say what is plain; the test suite checks both agree."""
    words = full.split()
    if len(words) != 2 or not (words[0].isalpha() and words[1].isalpha()):
        return None
    for word in words:
        lower = word.lower()
        if lower in HONORIFICS or any(lower in rules for rules in _PARSING_RULES):
            return None
    given, family = fold(words[0]), fold(words[1])
    if not given or not family or " " in given or " " in family:
        return None
    return Name(given=given, family=family)


def name_of(given: str | None, family: str | None, full: str | None) -> Name:
    """The comparable name of a record that may carry parts, a full name, or both."""
    if given or family:
        return Name(
            given=" ".join(_clean_tokens(given or "")) or None,
            family=" ".join(_clean_tokens(family or "")) or None,
        )
    return split_name(full) if full else Name(None, None)


# "Dana King | Leeds", "Dana in Leeds", "Dana from Leeds", "Dana K - Leeds": a display
# name that also says where.
_DISPLAY_PLACE = re.compile(
    r"^(?P<name>.+?)(?:\s*[|\u2022\u00b7/]\s*|\s+(?:in|from)\s+|\s+[-\u2013\u2014]\s+)"
    r"(?P<place>[^\W\d_][^|\u2022\u00b7/]{1,40})$"
)


def split_display(display: str) -> tuple[str, str | None]:
    """A display name and the place it names, if it names one."""
    m = _DISPLAY_PLACE.match(display.strip()[:200])
    if m is None:
        return display, None
    return m.group("name"), m.group("place").split(",", 1)[0].strip()


# Romanisations of one name differ in a few letters: Natal'ya/Natalia, Dmitriy/Dmitry,
# Sergey/Sergei, Aleksey/Alexei, Yuri/Iurii.
_SPELLINGS = (("ks", "x"), ("y", "i"), ("j", "i"), ("w", "v"))


@lru_cache(maxsize=65_536)
def spelling_key(name: str) -> str:
    """The name with transliteration variants made one ("-iy", "-ii" and "-y" endings alike)."""
    key = name.replace(" ", "")
    for variant, common in _SPELLINGS:
        key = key.replace(variant, common)
    return key[:-1] if key.endswith("ii") else key


_NICKNAMES = NickNamer()


@lru_cache(maxsize=65_536)
def canonical_forms(given: str) -> frozenset[str]:
    """The name itself and the formal names it can be short for (Bill -> William)."""
    first = given.split()[0] if given.split() else given
    return frozenset({first, *_NICKNAMES.canonicals_of(first)})


def nickname_match(a: str, b: str) -> bool:
    """Bill ≈ William, Peggy ≈ Margaret: one is a nickname of the other. Never through a
    shared formal name: the data set's many-to-many links would join Robert and William
    (both "Bill"), Andrew and Andrea (both "Andy")."""
    words_a, words_b = a.split(), b.split()
    if not words_a or not words_b:  # white space alone is no name
        return False
    fa, fb = words_a[0], words_b[0]
    if fa == fb:
        return True
    # A nickname is shorter than the name it stands for; the data set also lists pairs
    # such as Andrew/Andrea that are different names, not a name and its nickname.
    nick, formal = sorted((fa, fb), key=len)
    return len(nick) < len(formal) and formal in canonical_forms(nick)


@lru_cache(maxsize=65_536)
def phonetic(name: str) -> str:
    """A sound-alike key for blocking: Metaphone of the first token, so King/Kyng and
    Smith/Smyth share a key ("" when there are no letters)."""
    token = "".join(ch for ch in name.split()[0] if ch.isalpha()) if name.split() else ""
    return jellyfish.metaphone(token) if token else ""
