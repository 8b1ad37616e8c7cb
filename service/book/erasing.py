"""Erasing a customer: steps in each home (docs/cluster.md), the record last.

1. Each identity that leads to them (from their record, from a put that stopped
   half-way, or linked through the API) stops leading to them (``erase_identity.lua``).
2. They leave every blocking bucket that lists them (``index_apply.lua``).
3. Their own keys go, unless the record or their API identities changed since they
   were read (``erase_record.lua``): the caller then starts again.
4. The counters they counted in go down by one, and the book's count.

Until step 3 the customer exists, with fewer ways to find them: a resolution meanwhile
may miss them, never find someone else. A crash before step 3 leaves them to be erased
again; steps 1 and 2 are idempotent.
"""

from __future__ import annotations

from collections.abc import Sequence

import redis.asyncio as aioredis
from redis.asyncio.cluster import RedisCluster

from service.book.blocking import COUNTED_KINDS, index_kind
from service.book.putting import BucketChanges
from service.store.keynames import KeySchema
from service.store.lua import load_script, run_pipelined
from service.store.redistypes import text


class Erased:
    """What step 3 found: how many events the customer had and their audit pseudonym."""

    def __init__(self, events: int, subject: str) -> None:
        self.events = events
        self.subject = subject


class Eraser:
    def __init__(self, redis: aioredis.Redis, keys: KeySchema) -> None:
        self._redis = redis
        self._keys = keys
        self._identity = load_script(redis, "service.book", "erase_identity.lua")
        self._buckets = load_script(redis, "service.book", "index_apply.lua")
        self._cluster = isinstance(redis, RedisCluster)
        self._record = load_script(redis, "service.book", "erase_record.lua")

    async def erase(
        self,
        customer_id: str,
        *,
        etag: str,
        identities: Sequence[str],
        linked_by_api: Sequence[str],
        entries: Sequence[str],
    ) -> tuple[Erased | str, int, int]:
        """Steps 1 to 4 for what the caller read. ``identities``: every identity whose
        link may lead to them (``identity_suffix`` forms); ``entries``: the blocking
        entries they may be in. Answers the outcome of step 3 (or "missing",
        "precondition"), the identity links removed and the index entries removed."""
        keys = self._keys
        every = sorted({*identities, *linked_by_api})
        links = await run_pipelined(
            self._redis,
            [(self._identity, keys.identity_keys(s), [customer_id]) for s in every],
        )
        listed = BucketChanges(keys, self._cluster)
        counted: list[str] = []
        for entry in entries:
            if index_kind(entry) in COUNTED_KINDS:
                counted.append(entry)
            else:
                listed.add("-", entry, customer_id)
        removed = await run_pipelined(
            self._redis, [(self._buckets, k, a) for k, a in listed.calls()]
        )
        reply = await self._record(
            keys=[*keys.customer_keys(customer_id), keys.customer_identities(customer_id)],
            args=[etag, len(linked_by_api)],
        )
        status = text(reply[0])
        if status != "erased":
            return status, 0, 0
        counts = BucketChanges(keys, self._cluster)
        for entry in counted:
            counts.add("#", entry, -1)
        await run_pipelined(self._redis, [(self._buckets, k, a) for k, a in counts.calls()])
        await self._redis.decr(keys.customer_count())
        return (
            Erased(int(reply[1]), text(reply[2])),
            sum(int(n) for n in links),
            sum(int(n) for n in removed) + len(counted),
        )
