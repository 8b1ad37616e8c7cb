"""What a chat tool's lookup needs for a linked sender, read in two round trips.

The link, then the customer's record, newest events and open items: reads that
otherwise follow each other (the events' keys come from the record's id). The link is in
the identity's home and the rest in the customer's (docs/cluster.md), so the common case
of a lookup, a sender already known, costs one read and one script call.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import redis.asyncio as aioredis

from service.book.history import CardHistory, HistoryStore, open_events, read_events
from service.book.households import Households
from service.context.card import build_card
from service.context.household import build_household
from service.schemas import Customer, read_stored
from service.schemas.context_card import ContextCard, HouseholdView
from service.settings import CardSettings
from service.store.keynames import KeySchema
from service.store.lua import load_script
from service.store.redistypes import text

Linked = tuple[str, Customer | None, CardHistory]


def linked_card_reply(owner: str, reply: list[Any]) -> Linked:
    """The reply of customer_card.lua for the customer a link leads to."""
    doc, raws, flat_open, total = reply
    if not doc:
        return owner, None, CardHistory([], [], 0)
    open_fields = dict(zip(flat_open[::2], flat_open[1::2], strict=True))
    recent = read_events(raws)
    history = CardHistory(recent, open_events(open_fields, recent), int(total))
    return owner, read_stored(doc), history


class CardSource:
    def __init__(
        self, redis: aioredis.Redis, keys: KeySchema, history: HistoryStore, limit: int
    ) -> None:
        self._keys = keys
        self._limit = limit
        self._history = history
        self._households = Households(redis, keys)
        self._redis = redis
        self._script = load_script(redis, "service.context", "customer_card.lua")

    async def history(self, customer_id: str) -> CardHistory:
        return await self._history.for_card(customer_id, self._limit)

    async def members(self, household_id: str) -> list[Customer]:
        """The household's customers (for search hits); [] for none."""
        return await self._households.members(household_id)

    async def household(
        self, household_id: str, today: date, recent_days: int
    ) -> HouseholdView | None:
        """The household as a card shows it; None when no customer names it.
        ``recent_days``: how far back its contract changes are recent."""
        members = await self._households.members(household_id)
        if not members:
            return None
        since = datetime.combine(today - timedelta(days=recent_days), time(), UTC)
        holders = [c.id for c in members if c.household and c.household.role == "holder"]
        opened, changes = await self._history.family_items(holders, since, self._limit)
        return build_household(household_id, members, opened, changes, today)

    async def card(
        self, customer: Customer, history: CardHistory, settings: CardSettings
    ) -> ContextCard:
        """The card from a history already read, with the household read now."""
        today = datetime.now(UTC).date()
        household = (
            await self.household(customer.household.id, today, settings.recent_days)
            if customer.household
            else None
        )
        return build_card(customer, history, today, settings, household)

    async def linked(self, channel: str, external_id: str) -> Linked | None:
        """(customer id, record, card history) of a linked identity; None unlinked.
        The record is None when the link outlived it (never expected)."""
        owner = await self._redis.get(self._keys.identity(channel, external_id))
        if owner is None:
            return None
        cid, keys = text(owner), self._keys
        reply = await self._script(
            keys=[
                keys.customer(cid),
                keys.history(cid),
                keys.customer_events(cid),
                keys.open_items(cid),
            ],
            args=[self._limit],
        )
        return linked_card_reply(cid, reply)
