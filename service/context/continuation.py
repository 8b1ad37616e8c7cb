"""Which of a customer's open cases a new message continues. Pure.

A message continues a case when it names the case's id; else when its topic is one the
case's category belongs to (the taxonomy's ``cases``, so "internet down AGAIN" continues
an outage case); else, when it has no topic, when it shares at least half of the words
of the case's summary. Of several, the one with most shared words wins, then the newest.
Only a suggestion of where the message belongs: a rep can move it (PUT
/v1/messages/{id}/case), and the choice is audited.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from datetime import date

from matchers.text import fold
from matchers.topics import OTHER, Taxonomy, TopicFound, classify
from matchers.urgency import ordinal
from service.schemas.context_card import CaseLink, ContextCard, OpenCase

_MIN_WORD = 4  # shorter words ("the", "my", "is") say nothing of a case
_STEM = 6  # "outage"/"outages", "connection"/"connecting" compare on their first letters


def _words(text: str | None) -> dict[str, str]:
    """Stem -> the first word of the text with it."""
    found: dict[str, str] = {}
    for word in fold(text or "").split():
        if len(word) >= _MIN_WORD:
            found.setdefault(word[:_STEM], word)
    return found


def _names(case_id: str, text: str) -> bool:
    # A short id ("12") is too likely to be some other number; "case-915" names CASE-915.
    pattern = rf"(?<![\w-]){re.escape(case_id)}(?![\w-])"
    return len(case_id) >= 3 and re.search(pattern, text, re.IGNORECASE) is not None


def link_for(
    case: OpenCase, message_id: str, channel: str, evidence: list[str], today: date, by: str
) -> CaseLink:
    """The case as a message's link shows it, with that message counted once."""
    counted = message_id in case.event_ids
    contacts = case.contacts + (0 if counted else 1)
    channels = case.channels if channel in case.channels else [*case.channels, channel]
    about = case.summary or case.category or "a case"
    age = (today - case.opened_at.date()).days
    line = (
        f"likely about case {case.case_id}: {about[:80]}, open {age} day{'s' * (age != 1)}, "
        f"{ordinal(contacts)} contact, {len(channels)} channel{'s' * (len(channels) != 1)}"
    )
    return CaseLink(
        case_id=case.case_id,
        category=case.category,
        summary=case.summary,
        opened_at=case.opened_at,
        contacts=contacts,
        channels=channels,
        evidence=evidence,
        line=line,
        by=by,
    )


def likely_case(
    text: str | None,
    topic: TopicFound,
    cases: Sequence[OpenCase],
    continues: Mapping[str, Collection[str]],
) -> tuple[OpenCase, list[str]] | None:
    """The case the message continues and the evidence, or None."""
    raw = text or ""
    words = _words(raw)
    fits = continues.get(topic.topic, ())
    best: tuple[tuple[int, int, float], OpenCase, list[str]] | None = None
    for case in cases:
        summary = _words(case.summary)
        shared = sorted(summary[stem] for stem in words.keys() & summary.keys())
        evidence = []
        rank = 0
        if _names(case.case_id, raw):
            rank, evidence = 3, [f"names case {case.case_id}"]
        elif case.category and case.category in fits:
            rank, evidence = 2, [f"{topic.label.lower()} fits the {case.category} case"]
        elif topic.topic == OTHER and shared and 2 * len(shared) >= len(summary):
            rank = 1
        if not rank:
            continue
        if shared:
            evidence.append(f"shares words with it: {', '.join(shared[:5])}")
        key = (rank, len(shared), case.opened_at.timestamp())
        if best is None or key > best[0]:
            best = (key, case, evidence)
    return None if best is None else (best[1], best[2])


def with_likely_case(card: ContextCard, text: str, channel: str, taxonomy: Taxonomy) -> ContextCard:
    """The card as shown for a message not recorded yet (a lookup): with the open case
    the message would continue, counting it as one more contact."""
    found = likely_case(text, classify(text, taxonomy), card.open_cases, taxonomy.cases)
    if found is None:
        return card
    case, evidence = found
    link = link_for(case, "", channel, evidence, card.as_of, "socialid")
    return card.model_copy(update={"likely_case": link})


def with_case(card: ContextCard, case: CaseLink | None) -> ContextCard:
    """The card as shown beside a message tied to ``case``, while that case is open."""
    if case is None or case.case_id not in {c.case_id for c in card.open_cases}:
        return card
    return card.model_copy(update={"likely_case": case})
