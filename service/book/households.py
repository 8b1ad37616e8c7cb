"""Households: who belongs to one, read from the blocking index's household entries.

A customer's record names their household and role (holder or member). The index lists
every customer under an entry for their household (kind ``hh``), written in the same
script as the record, so the members are read from it rather than from a second list
that could disagree. Entries are digests: the records read back are checked to name
this household.
"""

from __future__ import annotations

import redis.asyncio as aioredis

from service.book.blocking import index_entry, index_location
from service.schemas import Customer, read_stored
from service.store.keynames import KeySchema
from service.store.reads import get_many
from service.store.redistypes import text, texts

SPILLED = "*"


class Households:
    def __init__(self, redis: aioredis.Redis, keys: KeySchema) -> None:
        self._redis = redis
        self._keys = keys

    async def members(self, household_id: str) -> list[Customer]:
        """The household's customers, holders first, then by id; [] for none."""
        bucket, field, spill = index_location(self._keys, index_entry("hh", household_id))
        listed = await self._redis.hget(bucket, field)
        if listed is None:
            return []
        ids = (
            texts(await self._redis.smembers(spill))
            if text(listed) == SPILLED
            else text(listed).split()
        )
        docs = await get_many(self._redis, [self._keys.customer(i) for i in sorted(ids)])
        found = [read_stored(d) for d in docs if d is not None]
        return sorted(
            (c for c in found if c.household and c.household.id == household_id),
            key=lambda c: (c.household is None or c.household.role != "holder", c.id),
        )
