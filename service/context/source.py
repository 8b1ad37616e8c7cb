"""What a chat tool's lookup needs for a linked sender, read in one round trip.

The link, the customer's record and their newest events: three reads that otherwise
follow each other (the record's key comes from the link, the events' from the record's
id). One script call makes the common case of a lookup, a sender already known, cost one
round trip to the store instead of four.
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


def linked_card_call(
    keys: KeySchema, channel: str, external_id: str, *, event_limit: int
) -> tuple[list[str], list[str | int]]:
    """KEYS and ARGV of linked_card.lua."""
    customer_head, doc_tail = keys.around_id(keys.customer)
    return [keys.identity(channel, external_id)], [
        customer_head,
        doc_tail,
        keys.around_id(keys.history)[1],
        keys.around_id(keys.customer_events)[1],
        keys.around_id(keys.open_items)[1],
        event_limit,
    ]


def linked_card_reply(reply: list[Any]) -> Linked | None:
    """The reply of linked_card.lua, as ``CardSource.linked`` answers it."""
    if not reply:
        return None
    owner, doc, raws, flat_open, total = text(reply[0]), reply[1], reply[2], reply[3], reply[4]
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
        self._script = load_script(redis, "service.context", "linked_card.lua")

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
        keys, args = linked_card_call(self._keys, channel, external_id, event_limit=self._limit)
        return linked_card_reply(await self._script(keys=keys, args=args))
