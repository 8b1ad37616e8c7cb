"""Flags: derived warnings a rep must see, each with its reason and the events behind it."""

from __future__ import annotations

from collections.abc import Sequence

from service.context.derive import INCREASES
from service.schemas import Event
from service.schemas.context_card import ContractChange, Flag, MoneyItem, OpenCase, OpenPromise
from service.settings import FlagThresholds

URGENT_CATEGORIES = frozenset({"complaint", "outage", "fault"})


def _money(amount: object, currency: str | None) -> str:
    return f" ({amount}{' ' + currency if currency else ''})" if amount is not None else ""


def open_complaint(cases: Sequence[OpenCase]) -> list[Flag]:
    return [
        Flag(
            code="open_complaint",
            reason=f"Open {c.category} case {c.case_id} ({c.age_days} days): "
            "fix it before offering anything.",
            event_ids=c.event_ids[:1],
        )
        for c in cases
        if c.category in URGENT_CATEGORIES
    ]


def promises(owed: Sequence[OpenPromise]) -> list[Flag]:
    flags = []
    for p in owed:
        what = p.summary or "a commitment"
        who = f" by {p.by}" if p.by else ""
        if p.broken:
            reason = f"Recorded as broken: {what}{who}. Put it right; do not promise again."
        elif p.overdue:
            reason = f"Overdue since {p.due}: {what}{who}. Honour it now."
        else:
            when = f"due {p.due}" if p.due else "no due date"
            reason = f"Promised{who}, {when}: {what}. Honour it; do not refuse it."
        flags.append(
            Flag(
                code="promise_overdue" if p.overdue else "promise_due",
                reason=reason,
                event_ids=[p.event_id],
            )
        )
    return flags


def unapplied_credit(credits: Sequence[MoneyItem]) -> list[Flag]:
    return [
        Flag(
            code="unapplied_credit",
            reason=f"Credit on the account, not yet used{_money(c.amount, c.currency)}: "
            f"{c.summary or 'credit'}. It is in hand.",
            event_ids=[c.event_id],
        )
        for c in credits
    ]


def recent_commitment_increase(changes: Sequence[ContractChange], days: int) -> list[Flag]:
    increases = [c for c in changes if c.kind in INCREASES]
    if not increases:
        return []
    latest = increases[-1]
    return [
        Flag(
            code="recent_commitment_increase",
            reason=f"{(latest.kind or 'change').replace('_', ' ').capitalize()} on "
            f"{latest.at.date()} (within {days} days): send no retention or win-back offers.",
            event_ids=[c.event_id for c in increases],
        )
    ]


def repeat_contact(
    cases: Sequence[OpenCase], recent_inbound: Sequence[Event], limits: FlagThresholds
) -> list[Flag]:
    flags = []
    covered: set[str] = set()
    for c in cases:
        if c.contacts >= limits.repeat_contacts or len(c.channels) >= limits.repeat_channels:
            flags.append(
                Flag(
                    code="repeat_contact",
                    reason=f"{c.contacts} contacts about case {c.case_id} on "
                    f"{', '.join(c.channels) or 'one channel'}: do not ask for the story "
                    "again; it is on this card.",
                    event_ids=c.event_ids,
                )
            )
            covered.update(c.event_ids)
    loose = [e for e in recent_inbound if e.id not in covered]
    channels = sorted({e.channel.strip().lower() for e in loose if e.channel})
    if len(loose) >= limits.repeat_contacts or len(channels) >= limits.repeat_channels:
        flags.append(
            Flag(
                code="repeat_contact",
                reason=f"{len(loose)} contacts in {limits.repeat_window_days} days on "
                f"{', '.join(channels) or 'one channel'}: read the history before answering.",
                event_ids=[e.id for e in loose],
            )
        )
    return flags


def billing_dispute(disputes: Sequence[MoneyItem]) -> list[Flag]:
    return [
        Flag(
            code="billing_dispute",
            reason=f"Disputed charge not resolved{_money(d.amount, d.currency)}: "
            f"{d.summary or 'dispute'}.",
            event_ids=[d.event_id],
        )
        for d in disputes
    ]
