"""What the context card looks like on the wire."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel

from service.schemas import Account, Event, Household, Identity

FlagCode = Literal[
    "open_complaint",
    "promise_due",
    "promise_overdue",
    "unapplied_credit",
    "recent_commitment_increase",
    "repeat_contact",
    "billing_dispute",
]


class Flag(BaseModel):
    code: FlagCode
    reason: str
    event_ids: list[str]


class OpenCase(BaseModel):
    case_id: str
    category: str | None
    status: str | None
    opened_at: datetime
    age_days: int
    summary: str | None
    contacts: int
    channels: list[str]
    event_ids: list[str]


class OpenPromise(BaseModel):
    event_id: str
    summary: str | None
    amount: Decimal | None
    currency: str | None
    due: date | None
    by: str | None
    made_at: datetime
    broken: bool = False
    overdue: bool


class MoneyItem(BaseModel):
    """An unapplied credit or an unresolved dispute."""

    event_id: str
    summary: str | None
    amount: Decimal | None
    currency: str | None
    at: datetime


class ContractChange(BaseModel):
    event_id: str
    kind: str | None
    summary: str | None
    by: str | None
    at: datetime


class ActiveProduct(BaseModel):
    account: str
    name: str
    kind: str | None
    monthly_price: Decimal | None


class ContextCard(BaseModel):
    customer_id: str
    name: str
    household: Household | None
    preferred_channel: str | None
    identities: list[Identity]
    accounts: list[Account]
    active_products: list[ActiveProduct]
    monthly_spend: Decimal
    open_cases: list[OpenCase]
    open_promises: list[OpenPromise]
    unapplied_credits: list[MoneyItem]
    open_disputes: list[MoneyItem]
    recent_changes: list[ContractChange]
    last_interactions: list[Event]
    flags: list[Flag]
    as_of: date
