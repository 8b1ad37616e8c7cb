"""Assemble the card from a customer, their history and their household."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Literal

from service.book.history import CardHistory
from service.context import derive, flags
from service.context.household import family_flags
from service.schemas import Customer, Event
from service.schemas.context_card import (
    ActiveProduct,
    CardHousehold,
    ContextCard,
    HistoryCoverage,
    HouseholdView,
)
from service.settings import CardSettings


def active_products(customer: Customer) -> list[ActiveProduct]:
    return [
        ActiveProduct(account=a.number, name=p.name, kind=p.kind, monthly_price=p.monthly_price)
        for a in customer.accounts
        if a.status != "closed"
        for p in a.products
        if p.status == "active"
    ]


def coverage(history: CardHistory) -> HistoryCoverage:
    recent = history.recent
    since = min((e.at for e in recent), default=None)
    seen = {e.id for e in recent}
    older = sum(1 for e in history.open if e.id not in seen)
    if not history.total:
        summary = "No events yet."
    elif len(recent) >= history.total:
        summary = f"All {history.total} events."
    else:
        summary = (
            f"The newest {len(recent)} of {history.total} events (since {since:%Y-%m-%d}), "
            f"and {older} older events of items still open."
        )
    return HistoryCoverage(
        events=history.total,
        recent_read=len(recent),
        recent_since=since,
        open_item_events=len(history.open),
        summary=summary,
    )


Source = Literal["record", "history"]


def preferred(stated: str | None, interactions: list[Event]) -> tuple[str | None, Source | None]:
    """The channel the customer prefers and where that comes from: the one their record
    states, else the one they wrote on most among the recent interactions (oldest first;
    the newest wins a tie)."""
    if stated:
        return stated, "record"
    used: dict[str, tuple[int, int]] = {}
    for i, event in enumerate(interactions):
        if event.direction == "inbound" and event.channel:
            count, _ = used.get(event.channel, (0, 0))
            used[event.channel] = (count + 1, i)
    if not used:
        return None, None
    return max(used, key=lambda c: used[c]), "history"


def build_card(
    customer: Customer,
    history: CardHistory,
    today: date,
    settings: CardSettings | None = None,
    household: HouseholdView | None = None,
) -> ContextCard:
    """``household``: the customer's household, when they are in one."""
    cfg = settings or CardSettings()
    limits = cfg.thresholds
    events = history.recent
    # Open items from the store of unsettled items alone: the newest events may hold an
    # item whose settlement is older (a clock's skew, a tie) and so out of their window.
    items = history.open
    cases = derive.open_cases(items, today)
    owed = derive.open_promises(items, today)
    credits = derive.unapplied_credits(items)
    disputes = derive.open_disputes(items)
    changes = derive.recent_changes(events, today, cfg.recent_days)
    inbound = derive.inbound_contacts(events, today, limits.repeat_window_days)
    products = active_products(customer)
    interactions = [e for e in derive.chronological(events) if e.type == "interaction"]
    role = customer.household.role if customer.household else "member"
    channel, source = preferred(customer.preferred_channel, interactions)
    return ContextCard(
        customer_id=customer.id,
        name=customer.display_name,
        household=CardHousehold(**dict(household), role=role) if household else None,
        preferred_channel=channel,
        preferred_channel_source=source,
        identities=customer.identities,
        accounts=[a.model_copy(update={"products": []}) for a in customer.accounts],
        active_products=products,
        monthly_spend=sum((p.monthly_price or Decimal(0) for p in products), Decimal(0)),
        open_cases=cases,
        open_promises=owed,
        unapplied_credits=credits,
        open_disputes=disputes,
        recent_changes=changes,
        last_interactions=interactions[::-1][: cfg.interactions],
        flags=[
            *flags.open_complaint(cases),
            *flags.promises(owed),
            *flags.unapplied_credit(credits),
            *flags.recent_commitment_increase(changes, cfg.recent_days),
            *flags.repeat_contact(cases, inbound, limits),
            *flags.billing_dispute(disputes),
            *(family_flags(household, cfg.recent_days) if household and role != "holder" else []),
        ],
        history=coverage(history),
        as_of=today,
    )
