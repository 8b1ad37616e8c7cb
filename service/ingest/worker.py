"""The ingestion worker: stored deliveries to resolved, threaded, recorded messages.

Reads the delivery stream through a consumer group, so several workers (in ``serve``
processes or ``socialid worker``) share the load and a delivery is acknowledged only
once its messages are stored. A delivery left pending by a worker that died is claimed
by another after ``claim_after`` seconds; messages already stored are skipped, so it is
processed once. A delivery that keeps failing goes to the dead letters.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Protocol

import redis.asyncio as aioredis
from redis.exceptions import ResponseError
from redis.typing import StreamIdT

from matchers.extract import Found
from service.conversations.messages import MessageStore
from service.ingest.batch import BatchProcessor, Reading
from service.ingest.deliveries import DeliveryStore, entry_time
from service.ingest.graph_names import GraphNames
from service.ops.logs import get_logger
from service.ops.metrics import Metrics
from service.resolution.resolver import Resolver
from service.store.keynames import KeySchema
from service.store.redistypes import stream_entries

log = get_logger("socialid.worker")
GROUP = "workers"


class Worker:
    def __init__(
        self,
        redis: aioredis.Redis,
        keys: KeySchema,
        *,
        deliveries: DeliveryStore,
        messages: MessageStore,
        resolver: Resolver,
        extract: Callable[[str], list[Found]],
        reading: Reading | None = None,
        names: GraphNames | None = None,
        metrics: Metrics | None = None,
        batch: int = 64,
        claim_after: float = 30.0,
        max_attempts: int = 5,
        consumer: str | None = None,
        block_ms: int = 500,
    ) -> None:
        self._redis = redis
        self._stream = keys.ingest_stream()
        self._deliveries = deliveries
        self._messages = messages
        self._batch = BatchProcessor(redis, keys, messages, resolver, extract, names, reading)
        self._metrics = metrics
        self._count = batch
        self._claim_after_ms = int(claim_after * 1000)
        self._max_attempts = max_attempts
        self.consumer = consumer or f"{socket.gethostname()}-{os.getpid()}-{id(self):x}"
        self._last_claim = 0.0
        # Must stay under the client's socket timeout, or an idle wait reads as a failure.
        self._block_ms = block_ms
        self.waiting = False  # in the blocking read: safe to cancel, nothing in hand

    async def setup(self) -> None:
        await self._messages.load_scripts()
        try:
            # From the start of the stream: deliveries stored before any worker existed.
            await self._redis.xgroup_create(self._stream, GROUP, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    async def run(self, stop: asyncio.Event) -> None:
        ready = False
        while not stop.is_set():
            try:
                if not ready:
                    # Inside the loop: a worker started while the store is away waits for it.
                    await self.setup()
                    ready = True
                    log.info("worker_started", consumer=self.consumer)
                await self.run_once(block_ms=self._block_ms)
            except asyncio.CancelledError:
                raise
            except ResponseError as exc:
                if "NOGROUP" in str(exc):
                    # The stream was deleted (a flush, an operator): start it again.
                    ready = False
                    continue
                await self._back_off(stop, exc)
            except Exception as exc:
                await self._back_off(stop, exc)
        log.info("worker_stopped", consumer=self.consumer)

    @staticmethod
    async def _back_off(stop: asyncio.Event, exc: Exception) -> None:
        # The store away or a bug: what was read stays pending and is claimed again;
        # wait a second instead of spinning, unless asked to stop.
        log.warning("worker_error", error=type(exc).__name__, detail=str(exc)[:200])
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=1.0)

    async def run_once(self, block_ms: int | None = None) -> int:
        """Process what is waiting (and what other workers left pending too long);
        returns how many deliveries were handled."""
        handled = 0
        if time.monotonic() - self._last_claim > self._claim_after_ms / 2000:
            self._last_claim = time.monotonic()
            handled += await self._claim()
        self.waiting = True
        try:
            reply = await self._redis.xreadgroup(
                GROUP, self.consumer, {self._stream: ">"}, count=self._count, block=block_ms
            )
        finally:
            self.waiting = False
        for item in reply or []:
            batch = stream_entries(item[1])
            if batch:
                await self._process_batch(batch)
            handled += len(batch)
        return handled

    async def _claim(self) -> int:
        pending = await self._redis.xpending_range(
            self._stream, GROUP, "-", "+", self._count, idle=self._claim_after_ms
        )
        if not pending:
            return 0
        ids: list[StreamIdT] = [str(p["message_id"]) for p in pending]
        attempts = {str(p["message_id"]): int(p["times_delivered"]) for p in pending}
        claimed = stream_entries(
            await self._redis.xclaim(self._stream, GROUP, self.consumer, self._claim_after_ms, ids)
        )
        for entry_id, fields in claimed:
            if attempts.get(entry_id, 0) >= self._max_attempts:
                reason = f"processing failed {attempts[entry_id]} times"
                await self._dead(entry_id, fields, reason)
            else:
                # Alone, so that a delivery that keeps failing fails by itself.
                log.info("delivery_claimed", entry=entry_id, attempts=attempts.get(entry_id))
                await self._process_batch([(entry_id, fields)])
        return len(claimed)

    async def _process_batch(self, entries: list[tuple[str, dict[str, str]]]) -> None:
        stored = await self._batch.process(self._stream, GROUP, entries, self._dead)
        now = time.time()
        counts: dict[str, int] = {}
        for message in stored:
            channel, status = message.message.channel.value, message.resolution.status
            counts[f"{channel}:{status}"] = counts.get(f"{channel}:{status}", 0) + 1
            if self._metrics is not None:
                self._metrics.processed.labels(channel, status).inc()
            log.debug(
                "message_processed",
                message_id=message.id,
                channel=channel,
                status=status,
                conversation_id=message.conversation_id,
            )
        if self._metrics is not None:
            for entry_id, _ in entries:
                self._metrics.ingest_delay.observe(max(0.0, now - entry_time(entry_id)))
        # One line per batch, not per message: under load a line per message would cost
        # the worker a fifth of its time.
        oldest = min(entry_time(e) for e, _ in entries)
        log.info(
            "batch_processed",
            deliveries=len(entries),
            # The deliveries' stream ids, oldest and newest: what traces them back.
            entries=[entries[0][0], entries[-1][0]],
            messages=counts,
            oldest_wait_ms=round((now - oldest) * 1000, 1),
        )

    async def _dead(self, entry_id: str, fields: dict[str, str], reason: str) -> None:
        entry = {k: v for k, v in fields.items() if k != "ids"}
        await self._deliveries.dead_letter(entry, stage="worker", reason=reason)
        await self._ack(entry_id)
        log.warning("delivery_dead_lettered", entry=entry_id, reason=reason[:200])

    async def _ack(self, entry_id: str) -> None:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.xack(self._stream, GROUP, entry_id)
            pipe.xdel(self._stream, entry_id)
            await pipe.execute()


class Background(Protocol):
    """A loop that runs until ``stop`` is set (the worker, the events dispatcher)."""

    @property
    def waiting(self) -> bool:
        """True while idle in a blocking read: nothing in hand, safe to cancel."""

    async def run(self, stop: asyncio.Event) -> None: ...


@asynccontextmanager
async def running(worker: Background, grace: float) -> AsyncIterator[None]:
    """The loop as a background task, stopped (and given ``grace`` seconds to finish
    the batch in hand) when the block ends."""
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    try:
        yield
    finally:
        stop.set()
        if worker.waiting:
            # Idle in a blocking read: stop now rather than when the read times out.
            task.cancel()
        # On timeout wait_for cancels it; its unacknowledged batch is claimed again later.
        with contextlib.suppress(TimeoutError, asyncio.CancelledError):
            await asyncio.wait_for(task, timeout=grace)
