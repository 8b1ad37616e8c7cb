"""Reads of many keys in many homes (docs/cluster.md)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import redis.asyncio as aioredis


async def get_many(redis: aioredis.Redis, keys: Sequence[str]) -> list[Any]:
    """GET of each key, in order (None where absent), in one pipeline: MGET takes keys of
    one slot only on a cluster, where the pipeline asks every node at once."""
    if not keys:
        return []
    async with redis.pipeline(transaction=False) as pipe:
        for key in keys:
            pipe.get(key)
        return list(await pipe.execute())
