"""Assemble the card from a customer and their recent history."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from service.context import derive, flags
from service.schemas import Customer, Event
from service.schemas.context_card import ActiveProduct, ContextCard
from service.settings import CardSettings


def active_products(customer: Customer) -> list[ActiveProduct]:
    return [
        ActiveProduct(account=a.number, name=p.name, kind=p.kind, monthly_price=p.monthly_price)
        for a in customer.accounts
        if a.status != "closed"
        for p in a.products
        if p.status == "active"
    ]


def build_card(
    customer: Customer,
    events: Sequence[Event],
    today: date,
    settings: CardSettings | None = None,
) -> ContextCard:
    cfg = settings or CardSettings()
    limits = cfg.thresholds
    cases = derive.open_cases(events, today)
    owed = derive.open_promises(events, today)
    credits = derive.unapplied_credits(events)
    disputes = derive.open_disputes(events)
    changes = derive.recent_changes(events, today, cfg.recent_days)
    inbound = derive.inbound_contacts(events, today, limits.repeat_window_days)
    products = active_products(customer)
    interactions = [e for e in derive.chronological(events) if e.type == "interaction"]
    return ContextCard(
        customer_id=customer.id,
        name=customer.display_name,
        household=customer.household,
        preferred_channel=customer.preferred_channel,
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
        ],
        as_of=today,
    )
