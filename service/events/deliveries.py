"""Each event's delivery to each subscription: durable in Redis from the moment it is
made, with its attempts, until it is delivered or becomes a dead letter.

A delivery's id is its event's id, which is also the ``webhook-id`` a receiver sees:
the same on every retry and replay, so a receiver can drop what it has already had.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

import redis.asyncio as aioredis
from pydantic import BaseModel, Field

from service.events.subscriptions import EventName
from service.store.keynames import KeySchema
from service.store.lua import load_script
from service.store.paging import encode_cursor, newest_first
from service.store.redistypes import members, text_map, texts

DeliveryStatus = Literal["pending", "delivered", "dead"]
Outcome = Literal["delivered", "retry", "dead"]


class Delivery(BaseModel):
    id: str = Field(description="The event's id: the webhook-id header of every attempt.")
    type: EventName
    status: DeliveryStatus
    attempts: int
    created_at: datetime = Field(description="When the event happened.")
    next_attempt_at: datetime | None = None
    last_attempt_at: datetime | None = None
    delivered_at: datetime | None = None
    dead_at: datetime | None = None
    last_status: int | None = Field(
        default=None, description="The receiver's HTTP status at the last attempt."
    )
    last_error: str | None = Field(
        default=None, description="Why the last attempt failed, when it did."
    )


class DeliveryPage(BaseModel):
    deliveries: list[Delivery]
    next_cursor: str | None = None


@dataclass(frozen=True, slots=True)
class Due:
    """A claimed delivery, as the dispatcher sends it."""

    event_id: str
    body: str
    first_attempt_ms: int | None
    attempts: int  # made before this one


def now_ms() -> int:
    return int(datetime.now(UTC).timestamp() * 1000)


def _at(value: str | None) -> datetime | None:
    return datetime.fromtimestamp(int(value) / 1000, UTC) if value else None


def _delivery(event_id: str, doc: dict[str, str]) -> Delivery:
    status = doc.get("last_status")
    return Delivery(
        id=event_id,
        type=doc["type"],
        status=doc["status"],
        attempts=int(doc.get("attempts", "0")),
        created_at=_at(doc["at_ms"]) or datetime.now(UTC),
        next_attempt_at=_at(doc.get("next_attempt_ms")) if doc["status"] == "pending" else None,
        last_attempt_at=_at(doc.get("last_attempt_ms")),
        delivered_at=_at(doc.get("delivered_ms")),
        dead_at=_at(doc.get("dead_ms")),
        last_status=int(status) if status else None,
        last_error=doc.get("last_error") or None,
    )


class DeliveryLog:
    def __init__(self, redis: aioredis.Redis, keys: KeySchema, *, keep_days: int) -> None:
        self._redis = redis
        self._keys = keys
        self._keep_ms = keep_days * 86_400_000
        self._enqueue = load_script(redis, "service.events", "enqueue.lua")
        self._claim = load_script(redis, "service.events", "claim_due.lua")
        self._settle = load_script(redis, "service.events", "settle.lua")
        self._replay = load_script(redis, "service.events", "replay.lua")

    def _own(self, subscription_id: str, event_id: str) -> list[str]:
        k = self._keys
        return [
            k.subscription_delivery(subscription_id, event_id),
            k.subscription_due(subscription_id),
        ]

    async def enqueue(
        self, subscription_id: str, event_id: str, event_type: str, at_ms: int, body: str
    ) -> bool:
        """Make the delivery, due now; False when it was made before."""
        now = now_ms()
        fields = {
            "type": event_type,
            "status": "pending",
            "attempts": "0",
            "at_ms": str(at_ms),
            "next_attempt_ms": str(now),
            "body": body,
        }
        made = await self._enqueue(
            keys=[
                *self._own(subscription_id, event_id),
                self._keys.subscription_log(subscription_id),
            ],
            args=[
                event_id,
                at_ms,
                now,
                self._keep_ms,
                *(v for pair in fields.items() for v in pair),
            ],
        )
        return bool(made)

    async def claim(self, subscription_id: str, *, hold_ms: int, count: int) -> list[Due]:
        ids = texts(
            await self._claim(
                keys=[self._keys.subscription_due(subscription_id)],
                args=[now_ms(), hold_ms, count],
            )
        )
        if not ids:
            return []
        async with self._redis.pipeline(transaction=False) as pipe:
            for event_id in ids:
                pipe.hmget(
                    self._keys.subscription_delivery(subscription_id, event_id),
                    ["body", "first_attempt_ms", "attempts"],
                )
            rows = await pipe.execute()
        return [
            Due(event_id, body, int(first) if first else None, int(attempts or 0))
            for event_id, (body, first, attempts) in zip(ids, rows, strict=True)
            if body is not None  # gone meanwhile (a delete): nothing to send
        ]

    async def settle(
        self,
        subscription_id: str,
        event_id: str,
        outcome: Outcome,
        *,
        next_ms: int = 0,
        status: int | None = None,
        error: str = "",
    ) -> None:
        await self._settle(
            keys=[
                *self._own(subscription_id, event_id),
                self._keys.subscription_dead(subscription_id),
            ],
            args=[
                event_id,
                outcome,
                now_ms(),
                next_ms,
                "" if status is None else status,
                error[:500],
            ],
        )

    async def replay(self, subscription_id: str, event_ids: list[str] | None) -> int:
        """Send dead letters again (all of them when ``event_ids`` is None); how many."""
        dead = self._keys.subscription_dead(subscription_id)
        if event_ids is None:
            event_ids = members(await self._redis.zrange(dead, 0, -1))
        replayed = 0
        for event_id in event_ids:
            replayed += int(
                await self._replay(
                    keys=[*self._own(subscription_id, event_id), dead],
                    args=[event_id, now_ms()],
                )
            )
        return replayed

    async def page(
        self,
        subscription_id: str,
        *,
        status: DeliveryStatus | None,
        limit: int,
        cursor: str | None,
    ) -> DeliveryPage:
        """The delivery log, newest event first."""
        found: list[Delivery] = []
        last: tuple[float, str] | None = None
        key = self._keys.subscription_log(subscription_id)
        async for batch in newest_first(self._redis, key, since=None, until=None, cursor=cursor):
            if len(found) == limit:
                break
            async with self._redis.pipeline(transaction=False) as pipe:
                for event_id, _ in batch:
                    pipe.hgetall(self._keys.subscription_delivery(subscription_id, event_id))
                docs = [text_map(d) for d in await pipe.execute()]
            for (event_id, score), doc in zip(batch, docs, strict=True):
                if not doc or (status and doc.get("status") != status):
                    continue
                found.append(_delivery(event_id, doc))
                last = (score, event_id)
                if len(found) == limit:
                    break
        more = last is not None and len(found) == limit
        return DeliveryPage(
            deliveries=found,
            next_cursor=encode_cursor(last[0], last[1]) if more and last else None,
        )

    async def totals(self, subscription_ids: list[str]) -> tuple[int, int]:
        """(pending, dead) deliveries over the subscriptions."""
        k = self._keys
        async with self._redis.pipeline(transaction=False) as pipe:
            for subscription_id in subscription_ids:
                pipe.zcard(k.subscription_due(subscription_id))
                pipe.zcard(k.subscription_dead(subscription_id))
            counts = [int(c) for c in await pipe.execute()]
        return sum(counts[::2]), sum(counts[1::2])
