"""Concurrent calls of one Lua script, sent together: one round trip for a burst.

Each webhook request stores its delivery with one script call. Under load, requests
arrive faster than Redis answers; calls made while a round trip is in flight wait for
the next one, which sends them all in one pipeline (what ioredis calls auto-pipelining).
Each caller still gets its own reply or error, and is answered only once its call ran.
"""

from __future__ import annotations

import asyncio
from typing import Any

import redis.asyncio as aioredis
from redis.commands.core import AsyncScript
from redis.exceptions import NoScriptError

Call = tuple[list[str], list[str | int], "asyncio.Future[Any]"]


class ScriptBatcher:
    def __init__(self, redis: aioredis.Redis, script: AsyncScript, *, max_batch: int = 256):
        self._redis = redis
        self._script = script
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
        reloaded = False
        while self._pending:
            batch, self._pending = self._pending[: self._max], self._pending[self._max :]
            try:
                async with self._redis.pipeline(transaction=False) as pipe:
                    for keys, args, _ in batch:
                        pipe.evalsha(self._script.sha, len(keys), *keys, *args)
                    replies = await pipe.execute(raise_on_error=False)
            except Exception as exc:  # the store away: every caller of the batch learns it
                for _, _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            again: list[Call] = []
            for call, reply in zip(batch, replies, strict=True):
                future = call[2]
                if isinstance(reply, NoScriptError) and not reloaded:
                    again.append(call)  # not run: the server lost the script
                elif future.done():
                    pass  # the caller went away (a client disconnect); its call still ran
                elif isinstance(reply, Exception):
                    future.set_exception(reply)
                else:
                    future.set_result(reply)
            if again:
                reloaded = True
                await self._redis.script_load(self._script.script)
                self._pending[:0] = again
