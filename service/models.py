"""Customer, event and lookup models shared by the API, the CLI and the demo.

A first cut: the customer-book issue extends the fields and normalisation; the names and
shapes here are the public API and stay.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from service.keyschema import CUSTOMER_ID_PATTERN

CustomerId = Annotated[str, StringConstraints(pattern=CUSTOMER_ID_PATTERN)]
ShortText = Annotated[str, StringConstraints(max_length=200)]
LongText = Annotated[str, StringConstraints(max_length=10_000)]


class Strict(BaseModel):
    """Unknown fields are refused: a typo must not be silently dropped."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Channel(StrEnum):
    TWITTER = "twitter"
    FACEBOOK = "facebook"
    FORUM = "forum"
    EMAIL = "email"


class Identity(Strict):
    channel: Channel
    external_id: Annotated[str, StringConstraints(min_length=1, max_length=320)]
    handle: ShortText | None = None


class Product(Strict):
    name: ShortText
    kind: ShortText | None = None
    status: Literal["active", "suspended", "ended"] = "active"
    monthly_price: Decimal | None = Field(default=None, ge=0, max_digits=12, decimal_places=2)
    started_at: date | None = None
    ended_at: date | None = None


class Account(Strict):
    number: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    status: Literal["active", "suspended", "closed"] = "active"
    opened_at: date | None = None
    products: list[Product] = Field(default_factory=list, max_length=200)


class CustomerIn(Strict):
    """A customer as sent to ``PUT /v1/customers/{id}`` (the id comes from the path)."""

    given_name: ShortText | None = None
    family_name: ShortText | None = None
    name: ShortText | None = None
    emails: list[ShortText] = Field(default_factory=list, max_length=20)
    phones: list[ShortText] = Field(default_factory=list, max_length=20)
    accounts: list[Account] = Field(default_factory=list, max_length=50)
    identities: list[Identity] = Field(default_factory=list, max_length=50)
    preferred_channel: Channel | None = None
    attributes: dict[ShortText, str | int | float | bool | None] = Field(
        default_factory=dict, max_length=100
    )


class Customer(CustomerIn):
    id: CustomerId

    @property
    def display_name(self) -> str:
        if self.name:
            return self.name
        return " ".join(p for p in (self.given_name, self.family_name) if p) or self.id


EventType = Literal[
    "interaction",
    "case_opened",
    "case_updated",
    "case_closed",
    "promise",
    "promise_kept",
    "promise_broken",
    "credit",
    "contract_change",
    "billing",
    "note",
]


class EventIn(Strict):
    """One entry of a customer's service history."""

    id: Annotated[str, StringConstraints(min_length=1, max_length=128)] | None = Field(
        default=None, description="Caller's id; makes a resend harmless. Generated if absent."
    )
    type: EventType
    at: datetime
    channel: ShortText | None = None
    direction: Literal["inbound", "outbound"] | None = None
    case_id: ShortText | None = None
    category: ShortText | None = None
    status: ShortText | None = None
    promise_id: ShortText | None = Field(
        default=None, description="For promise_kept/promise_broken: the promise event's id."
    )
    summary: LongText | None = None
    amount: Decimal | None = Field(default=None, max_digits=12, decimal_places=2)
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")] | None = None
    due: date | None = None
    by: ShortText | None = Field(default=None, description="Who made the promise or change.")


class Event(EventIn):
    id: str  # always set once stored


class HistoryPage(BaseModel):
    events: list[Event]


class Sender(Strict):
    external_id: ShortText | None = None
    handle: ShortText | None = None
    display_name: ShortText | None = None
    email: ShortText | None = None
    phone: ShortText | None = None


class LookupRequest(Strict):
    channel: Channel
    sender: Sender
    text: LongText | None = None
    thread: ShortText | None = None
