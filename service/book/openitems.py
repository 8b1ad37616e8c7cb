"""Open items: what a customer is still owed or still waiting on, kept until settled.

The card's open cases, promises, credits and disputes must not fall off when newer events
pile up, so each event that opens, adds to or settles an item also updates a store of
the unsettled items' events (``_history.lua``, in the same script as the event itself).
This module says which item an event belongs to and how; ``service.context.derive``
reads the items with the same rules.

An item is named ``<kind>:<id>``: ``case:<case_id>``, or ``promise:``, ``credit:`` or
``dispute:`` with the id of the event that made it. A settlement removes the item's
events. One that arrives before the item (an import in another order) is remembered, so
the item never opens: a promise kept, a credit applied or a dispute resolved settles the
item whenever it arrives; a case closes only what it follows in time (a case may reopen).
"""

from __future__ import annotations

from typing import Literal

from service.schemas import EventIn

# Channels on which the company, not the customer, opens cases.
NOT_CONTACT_CHANNELS = frozenset({"system", "internal", "crm", "batch"})
# The settlement bound of items settled whatever the times: beyond every event's score.
ALWAYS = 2**62

Verb = Literal["open", "attach", "settle"]


def norm(value: str | None) -> str | None:
    return value.strip().lower() if value else None


def from_customer(event: EventIn) -> bool:
    """An interaction or case opening the customer made (undirected counts as theirs)."""
    return event.direction != "outbound" and norm(event.channel) not in NOT_CONTACT_CHANNELS


def item_role(event_id: str, event: EventIn, score: int) -> tuple[Verb, str, int] | None:
    """(what the event does, to which item, up to which time a settlement reaches), or
    None for an event that belongs to no item."""
    kind = event.kind if event.type == "billing" else None
    if event.case_id is not None:
        case = f"case:{event.case_id}"
        if event.type == "case_opened":
            return "open", case, score
        if event.type == "case_closed":
            return "settle", case, score
        if event.type == "case_updated" or (event.type == "interaction" and from_customer(event)):
            return "attach", case, score
    if event.type == "promise":
        return "open", f"promise:{event_id}", score
    if event.type == "credit":
        return "open", f"credit:{event_id}", score
    if kind == "dispute":
        return "open", f"dispute:{event_id}", score
    if event.ref is None:
        return None
    if event.type == "promise_broken":
        return "attach", f"promise:{event.ref}", score
    if event.type == "promise_kept":
        return "settle", f"promise:{event.ref}", ALWAYS
    if kind == "credit_applied":
        return "settle", f"credit:{event.ref}", ALWAYS
    if kind in ("dispute_resolved", "refund"):
        return "settle", f"dispute:{event.ref}", ALWAYS
    return None


def role_arg(event_id: str, event: EventIn, score: int) -> str:
    """The role as ``_history.lua`` takes it: "" or "<verb> <bound> <item>" (the item
    last: an id may hold spaces)."""
    role = item_role(event_id, event, score)
    if role is None:
        return ""
    verb, item, bound = role
    return f"{verb} {bound} {item}"
