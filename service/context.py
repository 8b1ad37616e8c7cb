"""The context card: what a rep must know before answering, derived from the history.

Pure functions over a customer and their events; nothing here is stored, so the card
can never disagree with the history it summarises.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

from pydantic import BaseModel

from service.models import Customer, Event


class OpenCase(BaseModel):
    case_id: str
    category: str | None
    opened_at: datetime
    summary: str | None


class OpenPromise(BaseModel):
    event_id: str
    summary: str | None
    amount: Decimal | None
    due: date | None
    by: str | None
    overdue: bool


class ActiveProduct(BaseModel):
    account: str
    name: str
    monthly_price: Decimal | None


class Credit(BaseModel):
    event_id: str
    summary: str | None
    amount: Decimal | None
    at: datetime


class ContractChange(BaseModel):
    event_id: str
    summary: str | None
    at: datetime


class ContextCard(BaseModel):
    customer_id: str
    name: str
    preferred_channel: str | None
    active_products: list[ActiveProduct]
    open_cases: list[OpenCase]
    open_promises: list[OpenPromise]
    credits: list[Credit]
    recent_changes: list[ContractChange]
    last_interactions: list[Event]


def open_cases(events: list[Event]) -> list[OpenCase]:
    cases: dict[str, OpenCase] = {}
    for ev in sorted(events, key=lambda e: e.at):
        if ev.case_id is None:
            continue
        if ev.type == "case_opened":
            cases[ev.case_id] = OpenCase(
                case_id=ev.case_id, category=ev.category, opened_at=ev.at, summary=ev.summary
            )
        elif ev.type == "case_closed":
            cases.pop(ev.case_id, None)
    return sorted(cases.values(), key=lambda c: c.opened_at)


def open_promises(events: list[Event], today: date) -> list[OpenPromise]:
    settled = {e.promise_id for e in events if e.type in ("promise_kept", "promise_broken")}
    return [
        OpenPromise(
            event_id=e.id,
            summary=e.summary,
            amount=e.amount,
            due=e.due,
            by=e.by,
            overdue=e.due is not None and e.due < today,
        )
        for e in sorted(events, key=lambda e: e.at)
        if e.type == "promise" and e.id not in settled
    ]


def active_products(customer: Customer) -> list[ActiveProduct]:
    return [
        ActiveProduct(account=acc.number, name=p.name, monthly_price=p.monthly_price)
        for acc in customer.accounts
        if acc.status != "closed"
        for p in acc.products
        if p.status == "active"
    ]


def credits(events: list[Event]) -> list[Credit]:
    return [
        Credit(event_id=e.id, summary=e.summary, amount=e.amount, at=e.at)
        for e in sorted(events, key=lambda e: e.at)
        if e.type == "credit"
    ]


def recent_changes(events: list[Event], today: date, days: int) -> list[ContractChange]:
    since = today - timedelta(days=days)
    return [
        ContractChange(event_id=e.id, summary=e.summary, at=e.at)
        for e in sorted(events, key=lambda e: e.at)
        if e.type == "contract_change" and e.at.date() >= since
    ]


def build_card(
    customer: Customer,
    events: list[Event],
    today: date,
    interactions: int = 5,
    recent_days: int = 90,
) -> ContextCard:
    recent = sorted((e for e in events if e.type == "interaction"), key=lambda e: e.at)
    return ContextCard(
        customer_id=customer.id,
        name=customer.display_name,
        preferred_channel=customer.preferred_channel,
        active_products=active_products(customer),
        open_cases=open_cases(events),
        open_promises=open_promises(events, today),
        credits=credits(events),
        recent_changes=recent_changes(events, today, recent_days),
        last_interactions=list(reversed(recent[-interactions:])),
    )
