"""Open cases, owed promises, unapplied credits, open disputes and recent changes.

Each function takes the history in any order and returns its findings oldest first. The
rules of what opens and settles an item are those of ``service.book.openitems``, which
keeps every unsettled item's events however long the history grows.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

from service.book.openitems import from_customer, norm
from service.schemas import Event
from service.schemas.context_card import ContractChange, MoneyItem, OpenCase, OpenPromise

INCREASES = frozenset({"renewal", "upgrade", "new_line"})
# At one instant a case opens before anything happens on it and closes after: CRM exports
# with dates only put all of a day's events at midnight.
_TIE_ORDER = {"case_opened": 0, "case_closed": 2, "promise_kept": 2, "promise_broken": 2}


def chronological(events: Sequence[Event]) -> list[Event]:
    return sorted(events, key=lambda e: (e.at, _TIE_ORDER.get(e.type, 1), e.id))


def _settled(events: Sequence[Event], *kinds: str) -> set[str]:
    """Ids referred to by events that settle something (kept promise, refund, ...)."""
    return {
        e.ref
        for e in events
        if e.ref and (e.type in kinds or (e.type == "billing" and e.kind in kinds))
    }


def open_cases(events: Sequence[Event], today: date) -> list[OpenCase]:
    cases: dict[str, OpenCase] = {}
    for ev in chronological(events):
        if ev.case_id is None:
            continue
        case = cases.get(ev.case_id)
        if ev.type == "case_opened":
            contact = from_customer(ev)
            channel = norm(ev.channel)
            cases[ev.case_id] = OpenCase(
                case_id=ev.case_id,
                category=norm(ev.category),
                status=ev.status or "open",
                opened_at=ev.at,
                age_days=(today - ev.at.date()).days,
                summary=ev.summary,
                contacts=int(contact),
                channels=[channel] if contact and channel else [],
                event_ids=[ev.id],
            )
        elif case is None:
            continue
        elif ev.type == "case_closed":
            del cases[ev.case_id]
        elif ev.type == "case_updated":
            case.status = ev.status or case.status
            case.category = norm(ev.category) or case.category
            case.event_ids.append(ev.id)
        elif ev.type == "interaction" and from_customer(ev):
            case.contacts += 1
            channel = norm(ev.channel)
            if channel and channel not in case.channels:
                case.channels.append(channel)
            case.event_ids.append(ev.id)
    return list(cases.values())


def open_promises(events: Sequence[Event], today: date) -> list[OpenPromise]:
    """Promises not kept. A broken promise stays: the customer is still owed it."""
    kept = _settled(events, "promise_kept")
    broken = _settled(events, "promise_broken")
    return [
        OpenPromise(
            event_id=e.id,
            summary=e.summary,
            amount=e.amount,
            currency=e.currency,
            due=e.due,
            by=e.by,
            made_at=e.at,
            broken=e.id in broken,
            overdue=e.id in broken or (e.due is not None and e.due < today),
        )
        for e in chronological(events)
        if e.type == "promise" and e.id not in kept
    ]


def _money(e: Event) -> MoneyItem:
    return MoneyItem(
        event_id=e.id, summary=e.summary, amount=e.amount, currency=e.currency, at=e.at
    )


def unapplied_credits(events: Sequence[Event]) -> list[MoneyItem]:
    applied = _settled(events, "credit_applied")
    return [_money(e) for e in chronological(events) if e.type == "credit" and e.id not in applied]


def open_disputes(events: Sequence[Event]) -> list[MoneyItem]:
    resolved = _settled(events, "dispute_resolved", "refund")
    return [
        _money(e)
        for e in chronological(events)
        if e.type == "billing" and e.kind == "dispute" and e.id not in resolved
    ]


def recent_changes(events: Sequence[Event], today: date, days: int) -> list[ContractChange]:
    since = today - timedelta(days=days)
    return [
        ContractChange(event_id=e.id, kind=e.kind, summary=e.summary, by=e.by, at=e.at)
        for e in chronological(events)
        if e.type == "contract_change" and since <= e.at.date() <= today
    ]


def inbound_contacts(events: Sequence[Event], today: date, days: int) -> list[Event]:
    since = today - timedelta(days=days)
    return [
        e
        for e in chronological(events)
        if e.type == "interaction" and from_customer(e) and since <= e.at.date() <= today
    ]
