"""Newest-first pages stay whole while entries arrive: nothing twice."""

from __future__ import annotations

import pytest
import redis.asyncio as aioredis

from service.store.keynames import KeySchema
from service.store.paging import newest_first

pytestmark = pytest.mark.cluster


async def test_entries_added_between_chunks_never_repeat_one(
    redis: aioredis.Redis, keys: KeySchema
) -> None:
    key = keys.messages("all")
    # The same time for all: a burst of tweets sent in one millisecond.
    await redis.zadd(key, {f"msg_{n:04d}": 1_741_079_800_000 for n in range(500)})
    read: list[str] = []
    chunks = 0
    async for chunk in newest_first(redis, key, since=None, until=None, cursor=None):
        read += [member for member, _ in chunk]
        chunks += 1
        if chunks == 1:  # arrivals that sort ahead of what was read
            await redis.zadd(key, {f"msg_9{n:03d}": 1_741_079_800_000 for n in range(30)})
    assert len(read) == len(set(read))
    assert {f"msg_{n:04d}" for n in range(500)} <= set(read)
