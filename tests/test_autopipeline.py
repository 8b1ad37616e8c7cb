"""Concurrent script calls sent as one: each caller gets its own answer, or its own error."""

from __future__ import annotations

import asyncio

import pytest
import redis.asyncio as aioredis
from redis.exceptions import ResponseError

from service.store.autopipeline import ScriptBatcher
from service.store.keynames import KeySchema

# Appends ARGV[1] to the list at KEYS[1] and answers its new length; "boom" fails after
# a first write, "none" answers nil.
SCRIPT = """
if ARGV[1] == 'none' then return nil end
local n = redis.call('RPUSH', KEYS[1], ARGV[1])
if ARGV[1] == 'boom' then return redis.call('INCR', KEYS[1]) end
return n
"""


async def test_concurrent_calls_share_a_round_trip_and_keep_their_answers(
    redis: aioredis.Redis, keys: KeySchema
) -> None:
    batcher = ScriptBatcher(redis, SCRIPT)
    key = f"{keys.prefix}:list"
    answers = await asyncio.gather(*(batcher([key], [f"v{i}"]) for i in range(50)))
    assert sorted(answers) == list(range(1, 51))
    assert await redis.llen(key) == 50


async def test_a_failing_call_gets_its_error_and_the_others_run(
    redis: aioredis.Redis, keys: KeySchema
) -> None:
    batcher = ScriptBatcher(redis, SCRIPT)
    a, b = f"{keys.prefix}:a", f"{keys.prefix}:b"
    results = await asyncio.gather(
        batcher([a], ["x"]),
        batcher([b], ["boom"]),
        batcher([a], ["none"]),
        batcher([a], ["y"]),
        return_exceptions=True,
    )
    assert results[0] == 1
    assert isinstance(results[1], ResponseError)
    assert "WRONGTYPE" in str(results[1])
    assert results[2] is None
    assert results[3] == 2
    # What the failing call wrote before its error stays, as with a script of its own.
    assert await redis.lrange(b, 0, -1) == ["boom"]


async def test_a_server_that_lost_its_scripts_is_sent_them_again(
    redis: aioredis.Redis, keys: KeySchema
) -> None:
    batcher = ScriptBatcher(redis, SCRIPT)
    key = f"{keys.prefix}:list"
    assert await batcher([key], ["x"]) == 1
    await redis.script_flush()
    assert await batcher([key], ["y"]) == 2


async def test_a_store_that_is_away_fails_every_caller(keys: KeySchema) -> None:
    away = aioredis.Redis(port=1, socket_connect_timeout=0.2)
    batcher = ScriptBatcher(away, SCRIPT)
    with pytest.raises(aioredis.ConnectionError):
        await asyncio.gather(batcher(["k"], ["x"]), batcher(["k"], ["y"]))
    await away.aclose()
