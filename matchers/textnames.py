"""Names people write about themselves: "Zoe Smith here", "this is Zoe", "my name is Zoe
Smith", a sign-off "- Zoe" or "Thanks, Zoe". A Messenger message carries no name, and on
a family's shared page the display name is the holder's while the writer signs her own.

Pure and bounded: the first ``MAX_TEXT`` characters, linear patterns.
"""

from __future__ import annotations

import re

from matchers.names import HONORIFICS, PARTICLES, Name, split_name
from matchers.text import MAX_TEXT

# A capitalised word of letters (any script), with inner apostrophes and hyphens:
# O'Brien, Smith-Jones, Ζωή.
_WORD = r"[^\W\d_][^\W\d_'\u2019-]*(?:['\u2019-][^\W\d_]+)*"
_NAME = rf"({_WORD}(?:[ \t]+{_WORD}){{0,5}})"
_INTRO = re.compile(
    rf"(?i:\b(?:my\s+name\s+is|my\s+name's|this\s+is|it's|it\s+is|i\s+am|i'm|i\u2019m)\s+){_NAME}"
)
# Tried only where a word starts (not after a letter, nor after a letter and an apostrophe
# or hyphen): tried inside one, the name would run to the word's end and give back a
# letter at a time, for each letter ("a" * 10,000 took 5 s). A name that starts there
# also starts at the word's first letter, so the same names are found.
_HERE = re.compile(rf"(?<![^\W\d_])(?<![^\W\d_]['\u2019-]){_NAME}[ \t]+(?i:here)\b")
_SIGN_OFF = re.compile(
    rf"(?:^|(?<=[\n.!?]))[ \t]*(?:(?:-{{1,2}}|\u2014|\u2013|~)[ \t]*|"
    r"(?i:(?:many\s+)?thanks|thank\s+you|cheers|regards|kind\s+regards|"
    rf"best(?:\s+wishes)?|sincerely|yours|love)[,!.]?\s+){_NAME}"
    r"[ \t]*[.!]?[ \t]*(?:\n|$)"
)
# Capitalised words that start sentences and sign-offs but are nobody's name.
_NOT_NAMES = frozenset(
    """hi hello hey dear morning afternoon evening good thanks thank cheers regards best
    again still just really so very here there this that the a an it i me my we our you
    your please sorry customer account team support service bill billing manager agent
    yes no ok okay not going writing calling trying waiting fed angry upset disgusted
    annoyed livid furious happy back home now today internet broadband wifi phone mobile
    tv network signal line router engineer order delivery""".split()
)
_MAX_TOKENS = 4


def name_in_text(text: str) -> Name | None:
    """The name the writer gives for themselves, if the text gives one."""
    text = text[:MAX_TEXT]
    for pattern, before in ((_INTRO, False), (_HERE, True), (_SIGN_OFF, False)):
        for m in pattern.finditer(text):
            name = _as_name(m.group(1).split(), before)
            if name is not None:
                return name
    return None


def _capitalised(token: str) -> bool:
    return token[0].isupper() and token.casefold() not in _NOT_NAMES


def _as_name(tokens: list[str], before: bool) -> Name | None:
    """The capitalised run of words next to the cue: the last ones before "here", the
    first ones after "my name is"; greetings and titles are not part of it."""
    if before:
        tokens = tokens[::-1]
    run: list[str] = []
    for token in tokens:
        if _capitalised(token) or (run and token in PARTICLES):
            run.append(token)
        elif token.casefold() in HONORIFICS and not before:
            continue
        else:
            break
    if before:
        run = run[::-1]
    while run and run[-1] in PARTICLES:
        run.pop()
    if not run or len(run) > _MAX_TOKENS:
        return None
    name = split_name(" ".join(run))
    return name if name.given else None


def speaker(display: Name, text: str | None) -> tuple[Name, bool]:
    """The writer's name: the one the text gives wins over the display name's given name
    (a daughter writing from the family's page), which still supplies a family name the
    text leaves out. The flag says whether the text said it."""
    said = name_in_text(text) if text else None
    if said is None:
        return display, False
    if said.family is None and display.family is not None:
        return Name(said.given, display.family), True
    return said, True
