"""The hiredis packer sends what redis-py's own packer sends, and refuses what it refuses."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis
from redis.exceptions import DataError

from service.settings import Settings
from service.store.client import redis_client
from service.store.keynames import KeySchema


@pytest.fixture
async def packed(redis_url: str, redis: aioredis.Redis) -> AsyncIterator[aioredis.Redis]:
    # ``redis`` (the plain client) removes what the tests leave under their prefix.
    client = redis_client(redis_url, Settings(redis_url=redis_url))
    yield client
    await client.aclose()


async def test_values_round_trip(packed: aioredis.Redis, keys: KeySchema) -> None:
    key = f"{keys.prefix}:packing"
    await packed.rpush(key, "plain", "ünïcode ✓", "", "a b\r\nc", 42, 2.5, b"by\x00tes")
    stored = await packed.lrange(key, 0, -1)
    assert stored == ["plain", "ünïcode ✓", "", "a b\r\nc", "42", "2.5", "by\x00tes"]


@pytest.mark.parametrize("value", [True, False])
async def test_booleans_are_refused_as_redis_py_does(
    packed: aioredis.Redis, keys: KeySchema, value: bool
) -> None:
    with pytest.raises(DataError):
        await packed.set(f"{keys.prefix}:flag", value)
    assert await packed.exists(f"{keys.prefix}:flag") == 0
