"""Which given names exist: what tells a slip of the keyboard ("Emiily") from another
person's name ("Andrea" for "Andrew", twins at one address on one birthday).

The list is the name dictionary of Jörg Michael's ``nam_dict`` (some 45,000 given names
of 54 countries) as the ``gender-guesser`` package ships it, with the names of the
``nicknames`` data set; only the names are read, not the genders.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

from nicknames import name_triplets

from matchers.text import fold


@lru_cache(maxsize=1)
def known_given_names() -> frozenset[str]:
    """Every given name the dictionaries list, folded as names are compared. Read once,
    the first time a spelling is in doubt (about half a second)."""
    names: set[str] = set()
    data = resources.files("gender_guesser") / "data" / "nam_dict.txt"
    with data.open(encoding="utf-8") as lines:
        for line in lines:
            if line[:1] in ("#", "=", "") or len(line.split()) < 2:
                continue
            names.add(fold(line.split()[1].replace("+", " ")))
    for triplet in name_triplets():
        names.add(triplet.name1)
        names.add(triplet.name2)
    return frozenset(names)


def is_known_given_name(folded: str) -> bool:
    return folded in known_given_names()
