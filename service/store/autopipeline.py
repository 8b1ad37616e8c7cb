"""Concurrent calls of one Lua script, sent together: one round trip for a burst.

Each webhook request stores its delivery with one script call. Under load, requests
arrive faster than Redis answers; calls made while a round trip is in flight wait for
the next one, which sends them all at once (what ioredis calls auto-pipelining), as one
call of a wrapper script that runs the script once per call. One command and one reply
per burst, rather than one per call, is what the client library spends its time on.
Each caller still gets its own reply or error, and is answered only once its call ran.
"""

from __future__ import annotations

import asyncio
from typing import Any

import redis.asyncio as aioredis

Call = tuple[list[str], list[str | int], "asyncio.Future[Any]"]

# The script becomes a function of its own KEYS and ARGV. A call that fails (a Redis
# error inside it) answers its own error; the calls after it still run, as they would
# have as separate commands. A nil answer is kept as false, so the replies stay in order.
_WRAPPER = """
local function one(KEYS, ARGV)
%s
end
local calls = tonumber(ARGV[1])
local replies = {}
local k, a = 0, 1 + 2 * calls
for c = 1, calls do
  local nk, na = tonumber(ARGV[2 * c]), tonumber(ARGV[2 * c + 1])
  local keys, argv = {}, {}
  for i = 1, nk do keys[i] = KEYS[k + i] end
  for i = 1, na do argv[i] = ARGV[a + i] end
  k, a = k + nk, a + na
  local ok, reply = pcall(one, keys, argv)
  if not ok then
    if type(reply) == 'table' and reply.err then replies[c] = reply
    else replies[c] = {err = tostring(reply)} end
  elseif reply == nil then
    replies[c] = false
  else
    replies[c] = reply
  end
end
return replies
"""


class ScriptBatcher:
    def __init__(self, redis: aioredis.Redis, source: str, *, max_batch: int = 256):
        self._script = redis.register_script(_WRAPPER % source)
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
            keys: list[str] = []
            counts: list[int] = [len(batch)]
            args: list[str | int] = []
            for call_keys, call_args, _ in batch:
                keys += call_keys
                args += call_args
                counts += (len(call_keys), len(call_args))
            try:
                # (A server that lost its scripts is sent this one again by the client.)
                replies = await self._script(keys=keys, args=[*counts, *args])
            except Exception as exc:  # the store away: every caller of the batch learns it
                for _, _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for (_, _, future), reply in zip(batch, replies, strict=True):
                if future.done():
                    pass  # the caller went away (a client disconnect); its call still ran
                elif isinstance(reply, Exception):
                    future.set_exception(reply)
                else:
                    future.set_result(reply)
