"""How people write what they know of themselves, for the quality bench's queries: account
numbers and phones as typed, one-letter typos, nicknames, handles the book does not hold,
a display name with a town."""

from __future__ import annotations

import random
import string

from nicknames import NickNamer

from service.bench.quality import Person

_NICK = NickNamer()


def written(number: str, style: str) -> str:
    """An 8-digit account number as people write it."""
    if style == "dashed":
        return f"{number[:2]}-{number[2:6]}-{number[6:]}"
    if style == "spaced":
        return f"{number[:4]} {number[4:]}"
    return number


def national(phone: str) -> str:
    """A UK number as people type it ("07712 345678", "0113 234 5678")."""
    digits = "0" + phone.removeprefix("+44")
    return f"{digits[:5]} {digits[5:]}" if digits[1] == "7" else f"{digits[:4]} {digits[4:]}"


def typo(rng: random.Random, word: str) -> str:
    """One letter replaced, never the first or last."""
    if len(word) < 4:
        return word
    i = rng.randrange(1, len(word) - 1)
    other = rng.choice([c for c in string.ascii_lowercase if c != word[i].lower()])
    return word[:i] + other + word[i + 1 :]


def nickname(rng: random.Random, given: str) -> str | None:
    options = sorted(_NICK.nicknames_of(given.lower()))
    return rng.choice(options).capitalize() if options else None


def unknown_handle(rng: random.Random, given: str) -> str:
    """A handle the book does not hold (book handles never start with these words)."""
    word = "".join(c for c in given.lower() if c.isascii() and c.isalpha())[:6]
    return f"@{rng.choice(['its', 'the', 'real', 'just'])}_{word}{rng.randint(1, 999)}"


def display_with_town(rng: random.Random, p: Person) -> str:
    return rng.choice(
        [
            f"{p.full} | {p.city}",
            f"{p.given} in {p.city}",
            f"{p.full} ({p.city})",
            f"{p.given} {p.family[0]}. {p.city}",
        ]
    )


def spaced(phone: str) -> str:
    """An international number as people write it ("+61 412 345 678")."""
    code = 1 if phone.startswith("+1") else 2
    rest = phone[1 + code :]
    return f"+{phone[1 : 1 + code]} {rest[:3]} {rest[3:6]} {rest[6:]}"
