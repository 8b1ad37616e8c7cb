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
from collections.abc import Callable
from datetime import UTC, datetime

import redis.asyncio as aioredis
from redis.exceptions import NoScriptError, ResponseError
from redis.typing import StreamIdT

from adapters.delivery import parse_delivery
from adapters.message import Channel, InboundMessage, PayloadError
from matchers.extract import Found
from service.ingest.deliveries import DeliveryStore, decode, entry_time
from service.ingest.messages import Mention, MessageStore, StoredMessage
from service.ingest.names import GraphNames
from service.ingest.query import message_query
from service.keyschema import KeySchema
from service.logs import get_logger
from service.metrics import Metrics
from service.models import EventIn
from service.redistypes import stream_entries, text_or_none, texts
from service.resolve import KnownSender, Resolver

log = get_logger("socialid.worker")
GROUP = "workers"


def interaction(message: InboundMessage) -> EventIn:
    """The history entry of a resolved inbound message; its id is the message's, so a
    message processed twice is recorded once."""
    summary = message.text or message.subject or ""
    return EventIn(
        id=message.message_id,
        type="interaction",
        at=message.sent_at,
        kind=message.provider,
        channel=message.channel.value,
        direction="inbound",
        summary=summary[:10_000] or None,
    )


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
        names: GraphNames | None = None,
        metrics: Metrics | None = None,
        batch: int = 64,
        claim_after: float = 30.0,
        max_attempts: int = 5,
        consumer: str | None = None,
        block_ms: int = 500,
    ) -> None:
        self._redis = redis
        self._keys = keys
        self._stream = keys.ingest_stream()
        self._deliveries = deliveries
        self._messages = messages
        self._resolver = resolver
        self._extract = extract
        self._names = names
        self._metrics = metrics
        self._batch = batch
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
        await self.setup()
        log.info("worker_started", consumer=self.consumer)
        while not stop.is_set():
            try:
                await self.run_once(block_ms=self._block_ms)
            except asyncio.CancelledError:
                raise
            except ResponseError as exc:
                if "NOGROUP" in str(exc):
                    # The stream was deleted (a flush, an operator): start it again.
                    await self.setup()
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
                GROUP, self.consumer, {self._stream: ">"}, count=self._batch, block=block_ms
            )
        finally:
            self.waiting = False
        for item in reply or []:
            batch = stream_entries(item[1])
            await asyncio.gather(*(self._process(eid, fields) for eid, fields in batch))
            handled += len(batch)
        return handled

    async def _claim(self) -> int:
        pending = await self._redis.xpending_range(
            self._stream, GROUP, "-", "+", self._batch, idle=self._claim_after_ms
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
                log.info("delivery_claimed", entry=entry_id, attempts=attempts.get(entry_id))
                await self._process(entry_id, fields)
        return len(claimed)

    async def _process(self, entry_id: str, fields: dict[str, str]) -> None:
        try:
            delivery = decode(fields)
            messages = parse_delivery(delivery)
        except (PayloadError, ValueError, KeyError) as exc:
            # The receiving parser read it, so a later parser refuses it: keep it for
            # a replay after the fix rather than retrying forever.
            await self._dead(entry_id, fields, f"{type(exc).__name__}: {exc}")
            return
        wanted = set(fields.get("ids", "").split())
        received = datetime.fromtimestamp(entry_time(entry_id), UTC)
        try:
            prepared = [await self._prepare(m, received) for m in messages
                        if m.message_id in wanted]  # fmt: skip
        except NoScriptError:
            # The server lost its scripts (a restart, SCRIPT FLUSH): load them, try again.
            await self._messages.load_scripts()
            prepared = [await self._prepare(m, received) for m in messages
                        if m.message_id in wanted]  # fmt: skip
        done = [(s, interaction(s.message) if s.resolution.customer_id else None)
                for s in prepared]  # fmt: skip
        stored_now = await self._messages.record(self._stream, GROUP, entry_id, done)
        for stored, new in zip(prepared, stored_now, strict=True):
            if new:
                self._processed(stored)
        if self._metrics is not None:
            self._metrics.ingest_delay.observe(max(0.0, time.time() - entry_time(entry_id)))

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

    async def _prepare(self, message: InboundMessage, received_at: datetime) -> StoredMessage:
        """Resolve and thread one message (nothing written but its thread keys)."""
        message = await self._named(message)
        sender = message.sender
        k = self._keys
        async with self._redis.pipeline(transaction=False) as pipe:
            # The sender's link, the customers ruled out and the thread: one round trip.
            pipe.get(k.identity(message.channel, sender.external_id))
            pipe.smembers(k.identity_rejections(message.channel, sender.external_id))
            threaded = self._messages.queue_thread(pipe, message)
            replies = await pipe.execute()
        known = KnownSender(owner=text_or_none(replies[0]), ruled_out=frozenset(texts(replies[1])))
        conversation = self._messages.conversation_of(message, replies[2] if threaded else None)
        resolution = await self._resolver.resolve(message_query(message), known=known)
        # Positions are in the message's text (the subject is evidence, not shown).
        mentions = [Mention(kind=f.kind, value=f.value, start=f.start, end=f.end)
                    for f in self._extract(message.text)]  # fmt: skip
        return StoredMessage(
            id=message.message_id,
            message=message,
            resolution=resolution,
            conversation_id=conversation,
            mentions=mentions,
            received_at=received_at,
            processed_at=datetime.now(UTC),
        )

    def _processed(self, stored: StoredMessage) -> None:
        channel, resolution = stored.message.channel.value, stored.resolution
        if self._metrics is not None:
            self._metrics.processed.labels(channel, resolution.status).inc()
        log.info(
            "message_processed",
            message_id=stored.id,
            channel=channel,
            status=resolution.status,
            method=resolution.method,
            conversation_id=stored.conversation_id,
        )

    async def _named(self, message: InboundMessage) -> InboundMessage:
        sender = message.sender
        if self._names is None or message.channel != Channel.FACEBOOK or sender.display_name:
            return message
        name = await self._names.name(message.channel.value, sender.external_id)
        if name is None:
            return message
        return message.model_copy(
            update={"sender": sender.model_copy(update={"display_name": name})}
        )
