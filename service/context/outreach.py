"""Whether a customer may be contacted for a sales pitch, a retention offer or a survey.

Pure: the findings are the card's own (``derive`` and ``flags``), so a campaign tool and
a rep reading the card see the same reasons. ``BLOCKS`` is the rules table the README
and docs/outreach.md print.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

from service.context import derive, flags
from service.schemas import Event
from service.schemas.outreach import OutreachKind, OutreachReason, OutreachVerdict
from service.settings import OutreachRules

_ALL: frozenset[OutreachKind] = frozenset({"sales", "retention", "survey"})

# Which kinds of outreach each finding blocks.
BLOCKS: dict[str, frozenset[OutreachKind]] = {
    "unknown_customer": _ALL,
    "open_complaint": _ALL,
    "promise_due": _ALL,
    "promise_overdue": _ALL,
    "billing_dispute": _ALL,
    "recent_commitment_increase": frozenset({"retention"}),
    "recent_contact": frozenset({"sales", "survey"}),
}


def _contact(events: Sequence[Event], today: date, days: int) -> list[OutreachReason]:
    if days == 0:
        return []
    since = today - timedelta(days=days)
    recent = [
        e for e in derive.chronological(events) if e.type == "interaction" and since <= e.at.date()
    ]
    if not recent:
        return []
    last = recent[-1]
    way = "from them" if last.direction != "outbound" else "by us"
    return [
        OutreachReason(
            code="recent_contact",
            reason=f"In touch on {last.at.date()} ({way}, within {days} days): "
            "let that conversation finish first.",
            event_ids=[e.id for e in recent],
        )
    ]


def findings(
    kind: OutreachKind,
    open_items: Sequence[Event],
    recent: Sequence[Event],
    today: date,
    rules: OutreachRules,
) -> list[OutreachReason]:
    """Every finding that blocks ``kind``, from the customer's unsettled items' events
    and their events since ``rules.window(today)``."""
    found = []
    if open_items:  # most customers owe and are owed nothing
        found += flags.open_complaint(derive.open_cases(open_items, today))
        found += flags.promises(derive.open_promises(open_items, today))
        found += flags.billing_dispute(derive.open_disputes(open_items))
    if recent and kind in BLOCKS["recent_commitment_increase"]:
        changes = derive.recent_changes(recent, today, rules.recent_days)
        found += flags.recent_commitment_increase(changes, rules.recent_days)
    reasons = [
        OutreachReason(f.code, f.reason, f.event_ids)
        for f in found
        if kind in BLOCKS.get(f.code, frozenset())
    ]
    if recent and kind in BLOCKS["recent_contact"]:
        reasons += _contact(recent, today, rules.contact_days)
    return reasons


def verdict(
    kind: OutreachKind,
    customer_id: str,
    events: tuple[Sequence[Event], Sequence[Event]] | None,
    today: date,
    rules: OutreachRules,
) -> OutreachVerdict:
    """``events``: the open items' and the recent events, None for no such customer."""
    if events is None:
        reasons = [
            OutreachReason(
                code="unknown_customer",
                reason="Not in the customer book (never imported, or erased): contact no one "
                "socialid cannot vouch for.",
                event_ids=[],
            )
        ]
    else:
        reasons = findings(kind, *events, today, rules)
    return OutreachVerdict(customer_id, "blocked" if reasons else "allowed", reasons)
