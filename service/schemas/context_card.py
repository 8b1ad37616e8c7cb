"""What the context card looks like on the wire."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, Field

from service.schemas import Account, Event, Identity

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
    household: str | None = Field(
        default=None,
        description="Set when the item is on the family account of this household: the "
        "events are the holder's.",
    )


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


class CaseLink(BaseModel):
    """The open case a message continues, and why socialid (or a rep) thinks so."""

    case_id: str
    category: str | None
    summary: str | None
    opened_at: datetime
    contacts: int = Field(description="Contacts about the case, this message's included.")
    channels: list[str] = Field(description="The channels the customer used about it.")
    evidence: list[str] = Field(description="Why this case, in the words a rep reads.")
    line: str = Field(
        description='For the card: "likely about case 4471: broadband outage, open 6 days, '
        '3rd contact, 2 channels".'
    )
    by: str = Field(description='"socialid", or the rep who moved the message to the case.')


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


class HouseholdMember(BaseModel):
    """A member as others in the household see them: no personal data beyond the name."""

    customer_id: str
    name: str
    role: Literal["holder", "member"]


class HouseholdView(BaseModel):
    """A household: its members, the family accounts (the holder's) and their open items."""

    id: str
    holder: HouseholdMember | None
    members: list[HouseholdMember]
    accounts: list[Account]
    open_cases: list[OpenCase]
    open_promises: list[OpenPromise]
    unapplied_credits: list[MoneyItem]
    open_disputes: list[MoneyItem]
    recent_changes: list[ContractChange] = Field(
        description="Contract changes on the family accounts within the recent days."
    )


class CardHousehold(HouseholdView):
    role: Literal["holder", "member"] = Field(description="This customer's role in it.")


class HistoryCoverage(BaseModel):
    """How much of the history the card summarises."""

    events: int = Field(description="Events in the customer's history.")
    recent_read: int = Field(
        description="The newest events read for interactions, changes and contacts."
    )
    recent_since: datetime | None = Field(description="The oldest of those.")
    open_item_events: int = Field(
        description="Events of unsettled items, read whatever their age (open cases, "
        "promises, credits and disputes are never cut)."
    )
    summary: str


class ContextCard(BaseModel):
    customer_id: str
    name: str
    household: CardHousehold | None
    preferred_channel: str | None = Field(
        description="The channel the customer prefers: as their record states, else the one "
        "they wrote on most among the recent interactions."
    )
    preferred_channel_source: Literal["record", "history"] | None = None
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
    likely_case: CaseLink | None = Field(
        default=None,
        description="When the card is shown for a message (a lookup with text, a "
        "conversation's brief): the open case that message continues.",
    )
    history: HistoryCoverage
    as_of: date
