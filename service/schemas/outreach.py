"""The outreach check on the wire: may a campaign or a dialler contact these customers?"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from service.schemas.context_card import FlagCode
from service.schemas.fields import CustomerId, Strict

OutreachKind = Literal["sales", "retention", "survey"]
MAX_IDS = 10_000

# The card's flags, and two of the check's own.
ReasonCode = FlagCode | Literal["unknown_customer", "recent_contact"]


class OutreachCheck(Strict):
    kind: OutreachKind = Field(
        description="sales: a pitch or an upsell; retention: a 'please stay' or win-back "
        "offer; survey: a satisfaction survey."
    )
    customer_ids: list[CustomerId] = Field(min_length=1, max_length=MAX_IDS)


# Plain dataclasses, not models: a check answers for 10,000 customers at once, and
# building a model for each cost a tenth of the check; pydantic still describes and
# serialises them.
@dataclass(frozen=True, slots=True)
class OutreachReason:
    code: ReasonCode
    reason: Annotated[str, Field(description="In words, as the rep's card says it.")]
    event_ids: Annotated[list[str], Field(description="The history events behind it.")]


@dataclass(frozen=True, slots=True)
class OutreachVerdict:
    customer_id: str
    decision: Literal["allowed", "blocked"]
    reasons: Annotated[
        list[OutreachReason], Field(description="Why it is blocked; empty when allowed.")
    ]


class OutreachAnswer(BaseModel):
    kind: OutreachKind
    checked: int
    allowed: int
    blocked: int
    results: list[OutreachVerdict] = Field(description="One per id asked, in the same order.")
