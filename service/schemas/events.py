"""Entries of a customer's service history."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, Literal, Self

from pydantic import (
    AwareDatetime,
    BaseModel,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from service.schemas.fields import CustomerId, LongText, ShortText, Strict

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

# The kinds an event type may carry; a type listed here requires one.
KINDS: dict[str, frozenset[str]] = {
    "contract_change": frozenset({"renewal", "upgrade", "downgrade", "new_line", "line_removed"}),
    "billing": frozenset({"charge", "dispute", "dispute_resolved", "refund", "credit_applied"}),
}
_NEEDS_CASE = frozenset({"case_opened", "case_updated", "case_closed"})
_NEEDS_REF = frozenset({"promise_kept", "promise_broken"})


class EventIn(Strict):
    """One entry of a customer's service history."""

    id: Annotated[str, StringConstraints(min_length=1, max_length=128)] | None = Field(
        default=None,
        description="The caller's id. Absent: derived from the content, so a resend of the "
        "same event (or the same import file) is stored once.",
    )
    type: EventType
    at: AwareDatetime = Field(description="With a time zone, e.g. 2026-11-23T10:00:00Z.")
    kind: ShortText | None = Field(
        default=None,
        description="contract_change: renewal, upgrade, downgrade, new_line, line_removed; "
        "billing: charge, dispute, dispute_resolved, refund, credit_applied; "
        "interaction: free (message, call, store_visit, ...).",
    )
    channel: ShortText | None = None
    direction: Literal["inbound", "outbound"] | None = None
    case_id: ShortText | None = None
    category: ShortText | None = Field(
        default=None, description="Cases: complaint, outage, billing, sales, technical, ..."
    )
    status: ShortText | None = None
    ref: ShortText | None = Field(
        default=None,
        description="The event this one settles: the promise of promise_kept/broken, the "
        "dispute of dispute_resolved/refund, the credit of credit_applied.",
    )
    account: ShortText | None = None
    summary: LongText | None = None
    amount: Decimal | None = Field(default=None, max_digits=12, decimal_places=2)
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")] | None = None
    due: date | None = None
    by: ShortText | None = Field(default=None, description="Who made the promise or change.")

    @field_validator("at")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        # One zone in storage: times sort and compare the same whatever the sender used.
        try:
            return value.astimezone(UTC)
        except OverflowError:
            raise ValueError("time is out of range once converted to UTC") from None

    @model_validator(mode="after")
    def _complete_for_type(self) -> Self:
        kinds = KINDS.get(self.type)
        if kinds is not None and self.kind not in kinds:
            raise ValueError(f"{self.type} needs kind, one of: {', '.join(sorted(kinds))}")
        if self.type in _NEEDS_CASE and not self.case_id:
            raise ValueError(f"{self.type} needs case_id")
        if self.type in _NEEDS_REF and not self.ref:
            raise ValueError(f"{self.type} needs ref, the id of the promise")
        return self

    def with_id(self) -> Event:
        if self.id is not None:
            return Event.model_validate(self.model_dump())
        digest = hashlib.sha256(self.model_dump_json(exclude_none=True).encode()).hexdigest()
        return Event.model_validate({**self.model_dump(), "id": f"h-{digest[:24]}"})


class Event(EventIn):
    id: str  # always set once stored


class ImportEvent(EventIn):
    """An event line of an import file: it names its customer."""

    customer_id: CustomerId

    def event(self) -> EventIn:
        """The event itself, without the line's customer id (already validated)."""
        return EventIn.model_construct(**self.model_dump(exclude={"customer_id"}))


class HistoryPage(BaseModel):
    events: list[Event]
    next_cursor: str | None = None
