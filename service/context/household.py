"""A household as reps see it: members by name and role, the family accounts (those the
holder holds) and the open items on them. Pure: the reads are ``HouseholdSource``'s.

A member sees nothing of the holder's personal data beyond the name and role: no
contacts, no address, no date of birth, none of the holder's interactions. What is on the
family account (its products, credits, promises, disputes and open cases) is hers too:
a member must not be refused a credit because the voucher is "not in her hand".
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from service.context import derive, flags
from service.schemas import Customer, Event
from service.schemas.context_card import ContractChange, Flag, HouseholdMember, HouseholdView


def member(customer: Customer) -> HouseholdMember:
    role = customer.household.role if customer.household else "member"
    return HouseholdMember(customer_id=customer.id, name=customer.display_name, role=role)


def build_household(
    household_id: str,
    members: Sequence[Customer],
    holders_open: Sequence[Event],
    holders_changes: Sequence[Event],
    today: date,
) -> HouseholdView:
    """``members``: the household's customers; ``holders_open``: the open-item events
    of its holders; ``holders_changes``: their recent contract changes."""
    listed = [member(c) for c in members]
    holders = [c for c in members if c.household and c.household.role == "holder"]
    return HouseholdView(
        id=household_id,
        holder=member(holders[0]) if holders else None,
        members=listed,
        accounts=[a for c in holders for a in c.accounts],
        open_cases=derive.open_cases(holders_open, today),
        open_promises=derive.open_promises(holders_open, today),
        unapplied_credits=derive.unapplied_credits(holders_open),
        open_disputes=derive.open_disputes(holders_open),
        recent_changes=[
            ContractChange(event_id=e.id, kind=e.kind, summary=e.summary, by=e.by, at=e.at)
            for e in derive.chronological(holders_changes)
        ],
    )


def family_flags(household: HouseholdView, recent_days: int) -> list[Flag]:
    """The flags the family account raises, for a member: each says where the item is.
    A renewal on it forbids retention offers to her as much as to the holder."""
    numbers = ", ".join(a.number for a in household.accounts)
    held = f", held by {household.holder.name}" if household.holder else ""
    where = f"On the family account ({numbers}{held}): " if numbers else "On the family account: "
    raised = [
        *flags.open_complaint(household.open_cases),
        *flags.promises(household.open_promises),
        *flags.unapplied_credit(household.unapplied_credits),
        *flags.recent_commitment_increase(household.recent_changes, recent_days),
        *flags.billing_dispute(household.open_disputes),
    ]
    return [
        f.model_copy(update={"reason": where + f.reason, "household": household.id}) for f in raised
    ]
