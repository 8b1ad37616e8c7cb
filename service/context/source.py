"""What a chat tool's lookup needs for a linked sender, read in one round trip.

The link, the customer's record and their newest events: three reads that otherwise
follow each other (the record's key comes from the link, the events' from the record's
id). One script call makes the common case of a lookup, a sender already known, cost one
round trip to the store instead of four.
"""

from __future__ import annotations

from typing import Any

import redis.asyncio as aioredis
from pydantic import TypeAdapter, ValidationError

from service.schemas import Customer, Event, StoreIntegrityError, describe, read_stored
from service.store.keynames import KeySchema
from service.store.lua import load_script
from service.store.redistypes import text

_EVENTS: TypeAdapter[list[Event]] = TypeAdapter(list[Event])


Linked = tuple[str, Customer | None, list[Event]]


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
        event_limit,
    ]


def linked_card_reply(reply: list[Any]) -> Linked | None:
    """The reply of linked_card.lua, as ``CardSource.linked`` answers it."""
    if not reply:
        return None
    owner, doc, raws = text(reply[0]), reply[1], reply[2]
    if not doc:
        return owner, None, []
    customer = read_stored(doc)
    try:
        events = _EVENTS.validate_json("[" + ",".join(map(text, raws)) + "]") if raws else []
    except ValidationError as exc:
        raise StoreIntegrityError(f"stored event does not validate: {describe(exc)}") from None
    return owner, customer, events


class CardSource:
    def __init__(self, redis: aioredis.Redis, keys: KeySchema, limit: int) -> None:
        self._keys = keys
        self._limit = limit
        self._script = load_script(redis, "service.context", "linked_card.lua")

    async def linked(self, channel: str, external_id: str) -> Linked | None:
        """(customer id, record, newest events) of a linked identity; None unlinked.
        The record is None when the link outlived it (never expected)."""
        keys, args = linked_card_call(self._keys, channel, external_id, event_limit=self._limit)
        return linked_card_reply(await self._script(keys=keys, args=args))
