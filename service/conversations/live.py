"""Live conversation events for server-sent-event clients.

One subscription to the store's pub/sub channel per process, fanned out to every
connected client through a bounded queue each: a client too slow to keep up loses its
oldest events, never holds the others up, and a thousand consoles cost one connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

import redis.asyncio as aioredis

from service.ops.logs import get_logger

log = get_logger("socialid.live")
QUEUE_SIZE = 1000
_POLL = 0.5  # seconds; under the client's socket timeout


class LiveHub:
    def __init__(self, redis: aioredis.Redis, channel: str) -> None:
        self._redis = redis
        self._channel = channel
        self._clients: set[asyncio.Queue[dict[str, Any] | None]] = set()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        """End every client's stream (so shutdown does not wait on them), then stop."""
        for queue in list(self._clients):
            self._put(queue, None)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def join(self) -> asyncio.Queue[dict[str, Any] | None]:
        queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue(QUEUE_SIZE)
        self._clients.add(queue)
        return queue

    def leave(self, queue: asyncio.Queue[dict[str, Any] | None]) -> None:
        self._clients.discard(queue)

    @staticmethod
    def _put(queue: asyncio.Queue[dict[str, Any] | None], event: dict[str, Any] | None) -> None:
        if queue.full():
            queue.get_nowait()  # drop the oldest for a client that fell behind
        queue.put_nowait(event)

    async def _run(self) -> None:
        while True:
            try:
                async with self._redis.pubsub(ignore_subscribe_messages=True) as pubsub:
                    await pubsub.subscribe(self._channel)
                    while True:
                        message = await pubsub.get_message(timeout=_POLL)
                        if message is None or not self._clients:
                            continue
                        event = json.loads(message["data"])
                        for queue in list(self._clients):
                            self._put(queue, event)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the store away: subscribe again after a pause
                log.warning("live_subscription_lost", error=type(exc).__name__)
                await asyncio.sleep(1.0)
