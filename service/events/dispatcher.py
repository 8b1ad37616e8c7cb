"""The dispatcher: outbox events to deliveries, and deliveries to the receivers.

It runs beside each ingestion worker. Reading the outbox through a consumer group, the
dispatchers of several processes share the events, and an event is acknowledged only
once a delivery exists for every subscription that wants it. Sending claims due
deliveries for a while, so two dispatchers never send one at once, and one that dies
leaves its claims to come due again.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import socket
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import aiohttp
import redis.asyncio as aioredis
from redis.exceptions import ResponseError

from service import __version__
from service.events.deliveries import DeliveryLog, Due, Outcome, now_ms
from service.events.payloads import EventBodies, event_time
from service.events.signing import signed_headers
from service.events.subscriptions import EVENT_NAMES, EventName, SubscriptionStore, Target
from service.ops.logs import get_logger
from service.ops.metrics import Metrics
from service.store.keynames import KeySchema
from service.store.redistypes import stream_entries

log = get_logger("socialid.events")
GROUP = "dispatchers"
_CLAIM = 32  # deliveries of one subscription sent at once
_IDLE = 0.5  # seconds between looks for due retries when nothing wakes the sender


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff with jitter, for ``give_up_after`` seconds from the first
    attempt; then the delivery is a dead letter."""

    base: float = 5.0
    cap: float = 3600.0
    give_up_after: float = 86_400.0

    def delay(self, attempts: int) -> float:
        """Seconds before the next attempt, after ``attempts`` failed ones. Jitter spreads
        the retries of a receiver that was down for everyone at once."""
        delay: float = min(self.base * 2 ** (attempts - 1), self.cap)
        return delay * random.uniform(0.75, 1.0)  # noqa: S311 (timing, not secrets)

    def next_attempt_ms(self, first_ms: int, attempts: int, now: int) -> int | None:
        """When to try again; None when that would be past the retry window."""
        at = now + int(self.delay(attempts) * 1000)
        return None if at - first_ms > self.give_up_after * 1000 else at


def event_id_of(entry_id: str) -> str:
    return "evt_" + entry_id.replace("-", "_")


class Dispatcher:
    def __init__(
        self,
        redis: aioredis.Redis,
        keys: KeySchema,
        *,
        subscriptions: SubscriptionStore,
        deliveries: DeliveryLog,
        bodies: EventBodies,
        session: aiohttp.ClientSession,
        policy: RetryPolicy,
        timeout: float,
        metrics: Metrics | None = None,
        block_ms: int = 500,
        claim_after: float = 30.0,
    ) -> None:
        self._redis = redis
        self._outbox = keys.event_outbox()
        self._subscriptions = subscriptions
        self._deliveries = deliveries
        self._bodies = bodies
        self._session = session
        self._policy = policy
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._hold_ms = int((timeout + 5) * 1000)
        self._metrics = metrics
        self._block_ms = block_ms
        self._claim_after_ms = int(claim_after * 1000)
        self._wake = asyncio.Event()
        self._busy = 0
        self._user_agent = f"socialid/{__version__}"
        self.consumer = f"{socket.gethostname()}-{os.getpid()}-{id(self):x}"

    @property
    def waiting(self) -> bool:
        # Cancelled while idle, nothing is lost; in the middle of a fan-out or of sends,
        # stopping waits for them, so that no attempt is cut off unrecorded.
        return self._busy == 0

    async def setup(self) -> None:
        try:
            await self._redis.xgroup_create(self._outbox, GROUP, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    async def run(self, stop: asyncio.Event) -> None:
        # No setup first: the outbox's group is made when a read finds it missing, so a
        # dispatcher started while the store is away waits for it like every later step.
        await asyncio.gather(self._loop(stop, self.fan_out), self._loop(stop, self.send_due))

    async def _loop(self, stop: asyncio.Event, step: Callable[[], Awaitable[int]]) -> None:
        while not stop.is_set():
            try:
                await step()
            except asyncio.CancelledError:
                raise
            except ResponseError as exc:
                if "NOGROUP" not in str(exc):
                    await _pause(stop, exc)
                    continue
                try:
                    await self.setup()  # a new store, or the outbox was deleted (a flush)
                except Exception as again:
                    await _pause(stop, again)
            except Exception as exc:
                await _pause(stop, exc)

    # -- events to deliveries ---------------------------------------------------------
    async def fan_out(self) -> int:
        """Turn waiting events into deliveries; how many events were handled."""
        claimed = await self._redis.xautoclaim(
            self._outbox, GROUP, self.consumer, self._claim_after_ms, "0-0", count=64
        )
        entries = stream_entries(claimed[1])
        if not entries:
            reply = await self._redis.xreadgroup(
                GROUP, self.consumer, {self._outbox: ">"}, count=64, block=self._block_ms
            )
            entries = [e for item in reply or [] for e in stream_entries(item[1])]
        if not entries:
            return 0
        self._busy += 1
        try:
            targets = await self._subscriptions.targets()
            for entry_id, fields in entries:
                await self._fan_out_one(entry_id, fields, targets)
            async with self._redis.pipeline(transaction=True) as pipe:
                ids = [e for e, _ in entries]
                pipe.xack(self._outbox, GROUP, *ids)
                pipe.xdel(self._outbox, *ids)
                await pipe.execute()
        finally:
            self._busy -= 1
        self._wake.set()
        return len(entries)

    async def _fan_out_one(
        self, entry_id: str, fields: dict[str, str], targets: list[Target]
    ) -> None:
        event_type = fields.pop("type", "")
        if event_type not in EVENT_NAMES:
            log.warning("event_unknown", entry=entry_id)
            return
        name: EventName = event_type
        wanting = [t for t in targets if name in t.subscription.events]
        if not wanting:
            return
        at = event_time(entry_id)
        body = await self._bodies.body(name, at, fields)
        if body is None:
            return
        event_id = event_id_of(entry_id)
        for target in wanting:
            await self._deliveries.enqueue(
                target.subscription.id, event_id, name, int(at.timestamp() * 1000), body
            )

    # -- deliveries to receivers ------------------------------------------------------
    async def send_due(self) -> int:
        """Send every delivery that is due; how many were attempted. Waits a little
        first when there were none."""
        self._wake.clear()
        attempts = []
        self._busy += 1
        try:
            for target in await self._subscriptions.targets():
                due = await self._deliveries.claim(
                    target.subscription.id, hold_ms=self._hold_ms, count=_CLAIM
                )
                attempts += [self._attempt(target, d) for d in due]
            if attempts:
                await asyncio.gather(*attempts)
        finally:
            self._busy -= 1
        if not attempts:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=_IDLE)
        return len(attempts)

    async def _attempt(self, target: Target, due: Due) -> None:
        subscription = target.subscription
        started = time.perf_counter()
        headers = signed_headers(due.event_id, due.body, target.secrets, datetime.now(UTC))
        headers["User-Agent"] = self._user_agent
        status: int | None = None
        try:
            async with self._session.post(
                subscription.url,
                data=due.body.encode(),
                headers=headers,
                timeout=self._timeout,
                allow_redirects=False,
            ) as response:
                status = response.status
                await response.read()
            error = "" if 200 <= status < 300 else f"answered HTTP {status}"
        except TimeoutError:
            error = f"no answer within {self._timeout.total:g} s"
        except aiohttp.ClientError as exc:
            error = f"{type(exc).__name__}: {exc}"[:300]
        outcome = await self._settle(subscription.id, due, status, error)
        if self._metrics is not None:
            self._metrics.events_sent.labels(outcome).inc()
            self._metrics.event_attempt_seconds.observe(time.perf_counter() - started)
        if outcome != "delivered":
            log.warning(
                "event_delivery_failed",
                subscription=subscription.id,
                event_id=due.event_id,
                status=status,
                error=error[:200],
                outcome=outcome,
            )

    async def _settle(
        self, subscription_id: str, due: Due, status: int | None, error: str
    ) -> Outcome:
        if not error:
            await self._deliveries.settle(subscription_id, due.event_id, "delivered", status=status)
            return "delivered"
        now = now_ms()
        first = due.first_attempt_ms or now
        next_ms = self._policy.next_attempt_ms(first, due.attempts + 1, now)
        outcome: Outcome = "dead" if next_ms is None else "retry"
        await self._deliveries.settle(
            subscription_id,
            due.event_id,
            outcome,
            next_ms=next_ms or 0,
            status=status,
            error=error,
        )
        return outcome


async def _pause(stop: asyncio.Event, exc: Exception) -> None:
    # The store away or a bug: what was read stays pending and is read again; wait a
    # second instead of spinning, unless asked to stop.
    log.warning("dispatcher_error", error=type(exc).__name__, detail=str(exc)[:200])
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=1.0)
