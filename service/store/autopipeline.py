"""Concurrent calls of one Lua script, sent together: one round trip for a burst.

Each webhook request stores its delivery with one script call. Under load, requests
arrive faster than Redis answers; calls made while a round trip is in flight wait for
the next one, which sends them all at once (what ioredis calls auto-pipelining), as one
call of a wrapper script that runs the script once per call. One command and one reply
per burst, rather than one per call, is what the client library spends its time on.
Each caller still gets its own reply or error, and is answered only once its call ran.

The wrapper is ``store/_batch.lua``, read with ``lua_source`` like any script. One line
of it, ``--#wrapped script``, stands where the wrapped script's text goes: inside a Lua
function ``one(KEYS, ARGV)``, so the script runs unchanged on each call's own KEYS and
ARGV. ``lua.run_pipelined`` makes the wrapper and groups the calls (by slot on a
cluster); the wrapped text is the script's expanded source (``lua_source(package,
name)``), so its own includes are already in place.
"""

from __future__ import annotations

import asyncio
from typing import Any

import redis.asyncio as aioredis

from service.store.lua import run_pipelined

Call = tuple[list[str], list[str | int], "asyncio.Future[Any]"]


class ScriptBatcher:
    def __init__(self, redis: aioredis.Redis, source: str, *, max_batch: int = 256) -> None:
        """``source``: the script each call runs, usually ``lua_source(package, name)``."""
        self._redis = redis
        self._script = redis.register_script(source)
        self._max = max_batch
        self._pending: list[Call] = []
        self._flusher: asyncio.Task[None] | None = None

    async def __call__(self, keys: list[str], args: list[str | int]) -> Any:
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending.append((keys, args, future))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush())
        return await future

    async def _flush(self) -> None:
        while self._pending:
            batch, self._pending = self._pending[: self._max], self._pending[self._max :]
            try:
                # One wrapper call for the burst on one server; one per slot, in one
                # pipeline, on a cluster (run_pipelined groups them).
                replies = await run_pipelined(
                    self._redis, [(self._script, keys, args) for keys, args, _ in batch]
                )
            except Exception as exc:  # the store away: every caller of the batch learns it
                _fail(batch, exc)
                continue
            _answer(batch, replies)


def _fail(batch: list[Call], exc: Exception) -> None:
    for _, _, future in batch:
        if not future.done():
            future.set_exception(exc)


def _answer(batch: list[Call], replies: list[Any]) -> None:
    for (_, _, future), reply in zip(batch, replies, strict=True):
        if future.done():
            pass  # the caller went away (a client disconnect); its call still ran
        elif isinstance(reply, Exception):
            future.set_exception(reply)
        else:
            future.set_result(reply)
