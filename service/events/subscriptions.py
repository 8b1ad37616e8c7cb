"""Subscriptions: where events go, which ones, and the secrets that sign them.

A secret is shown once, when it is made. Rotating it makes a new one and keeps the old
one signing beside it for a while (Standard Webhooks sends both signatures), so a
receiver can switch without refusing a delivery.
"""

from __future__ import annotations

import base64
import json
import secrets
from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

import redis.asyncio as aioredis
from pydantic import AnyHttpUrl, BaseModel, Field, UrlConstraints, field_validator
from redis.asyncio.client import Pipeline

from service.errors import DomainError
from service.schemas import ShortText, Strict
from service.store.keynames import KeySchema
from service.store.redistypes import text_map, texts

EventName = Literal[
    "message.received",
    "message.withdrawn",
    "conversation.claimed",
    "conversation.handed_off",
    "conversation.closed",
    "identity.linked",
]
EVENT_NAMES: tuple[EventName, ...] = EventName.__args__  # type: ignore[attr-defined]
WebhookUrl = Annotated[AnyHttpUrl, UrlConstraints(max_length=2000)]
_SECRET_PREFIX = "whsec_"  # noqa: S105 (the format's prefix, not a secret)


class SubscriptionNotFound(DomainError):
    status, slug = 404, "subscription-not-found"
    default_detail = "No subscription has this id."


class SubscriptionIn(Strict):
    url: WebhookUrl = Field(description="Where events are POSTed (http or https).")
    events: list[EventName] = Field(min_length=1, description="The event types to send.")
    description: ShortText | None = None

    @field_validator("events")
    @classmethod
    def _once_each(cls, value: list[EventName]) -> list[EventName]:
        return sorted(set(value))


class Subscription(BaseModel):
    id: str
    url: str
    events: list[EventName]
    description: str | None = None
    created_at: datetime
    secret_rotated_at: datetime | None = None


class SubscriptionCreated(Subscription):
    secret: str = Field(
        description="Signs every delivery (Standard Webhooks, whsec_ and base64). "
        "Shown this once: keep it in the receiver."
    )


class SecretRotated(BaseModel):
    id: str
    secret: str = Field(description="The new secret, shown this once.")
    previous_valid_until: datetime = Field(
        description="Until then deliveries carry a signature by the old secret too."
    )


class SubscriptionList(BaseModel):
    subscriptions: list[Subscription]


class _Secret(BaseModel):
    secret: str
    until: datetime | None = None  # None: the current one


def new_secret() -> str:
    return _SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def _subscription(subscription_id: str, doc: dict[str, str]) -> Subscription:
    rotated = doc.get("secret_rotated_at")
    return Subscription(
        id=subscription_id,
        url=doc["url"],
        events=json.loads(doc["events"]),
        description=doc.get("description") or None,
        created_at=datetime.fromisoformat(doc["created_at"]),
        secret_rotated_at=datetime.fromisoformat(rotated) if rotated else None,
    )


class Target(BaseModel):
    """A subscription as the dispatcher sends to it: with the secrets that sign now."""

    subscription: Subscription
    secrets: list[str]


class SubscriptionStore:
    def __init__(self, redis: aioredis.Redis, keys: KeySchema) -> None:
        self._redis = redis
        self._keys = keys

    async def create(self, body: SubscriptionIn) -> SubscriptionCreated:
        subscription_id = "sub_" + secrets.token_hex(12)
        secret = new_secret()
        now = datetime.now(UTC)
        doc = {
            "url": str(body.url),
            "events": json.dumps(body.events),
            "description": body.description or "",
            "created_at": now.isoformat(),
            "secrets": json.dumps([_Secret(secret=secret).model_dump(mode="json")]),
        }
        k = self._keys
        # The record in its own home first, then the listing and the wanted types on the
        # desk: a create cut off between leaves a record nothing lists, never a listing
        # of nothing.
        await self._redis.hset(k.subscription(subscription_id), mapping=dict(doc.items()))
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.sadd(k.subscriptions(), subscription_id)
            # Only ever widened here; a delete narrows it again (see _narrow).
            pipe.sadd(k.event_types_wanted(), *body.events)
            await pipe.execute()
        return SubscriptionCreated(
            **_subscription(subscription_id, doc).model_dump(), secret=secret
        )

    async def get(self, subscription_id: str) -> Subscription:
        doc = text_map(await self._redis.hgetall(self._keys.subscription(subscription_id)))
        if not doc:
            raise SubscriptionNotFound
        return _subscription(subscription_id, doc)

    async def listed(self) -> list[Subscription]:
        return [t.subscription for t in await self.targets()]

    async def targets(self) -> list[Target]:
        """Every subscription with its signing secrets, oldest first."""
        ids = sorted(texts(await self._redis.smembers(self._keys.subscriptions())))
        async with self._redis.pipeline(transaction=False) as pipe:
            for subscription_id in ids:
                pipe.hgetall(self._keys.subscription(subscription_id))
            docs = [text_map(d) for d in await pipe.execute()]
        now = datetime.now(UTC)
        found = [
            Target(subscription=_subscription(i, d), secrets=_signing(d, now))
            for i, d in zip(ids, docs, strict=True)
            if d
        ]
        return sorted(found, key=lambda t: t.subscription.created_at)

    async def rotate(self, subscription_id: str, overlap: timedelta) -> SecretRotated:
        key = self._keys.subscription(subscription_id)
        now = datetime.now(UTC)
        secret = new_secret()
        until = now + overlap

        async def swap(pipe: Pipeline) -> None:
            raw = await pipe.hget(key, "secrets")
            if raw is None:
                raise SubscriptionNotFound
            kept = [
                s.model_copy(update={"until": s.until or until})
                for s in (_Secret.model_validate(x) for x in json.loads(raw))
                if s.until is None or s.until > now
            ]
            pipe.multi()  # type: ignore[no-untyped-call]
            stored = [_Secret(secret=secret), *kept]
            pipe.hset(
                key,
                mapping={
                    "secrets": json.dumps([s.model_dump(mode="json") for s in stored]),
                    "secret_rotated_at": now.isoformat(),
                },
            )

        await self._redis.transaction(swap, key)
        return SecretRotated(id=subscription_id, secret=secret, previous_valid_until=until)

    async def delete(self, subscription_id: str) -> None:
        """The subscription and every delivery it has, pending or dead."""
        k = self._keys
        if not await self._redis.srem(k.subscriptions(), subscription_id):
            raise SubscriptionNotFound
        # Its keys share one hash tag: a SCAN of that pattern finds them all.
        pattern = k.subscription(subscription_id).removesuffix(":doc") + ":*"
        doomed = [key async for key in self._redis.scan_iter(match=pattern, count=1000)]
        for start in range(0, len(doomed), 500):
            await self._redis.unlink(*doomed[start : start + 500])
        await self._narrow()

    async def _narrow(self) -> None:
        """The wanted event types, as the subscriptions left want them: events nobody
        wants stop being written."""
        k = self._keys

        async def recompute(pipe: Pipeline) -> None:
            ids = texts(await pipe.smembers(k.subscriptions()))
            wanted: set[str] = set()
            # Read past the watch (the records are other homes): a record's event types
            # never change, and a subscription made meanwhile changes the watched ids.
            async with self._redis.pipeline(transaction=False) as reads:
                for subscription_id in sorted(ids):
                    reads.hget(k.subscription(subscription_id), "events")
                raws = await reads.execute()
            for raw in raws:
                wanted.update(json.loads(raw) if raw else [])
            pipe.multi()  # type: ignore[no-untyped-call]
            pipe.delete(k.event_types_wanted())
            if wanted:
                pipe.sadd(k.event_types_wanted(), *wanted)

        # A subscription made meanwhile changes the set of ids: computed again.
        await self._redis.transaction(recompute, k.subscriptions())


def _signing(doc: dict[str, str], now: datetime) -> list[str]:
    """The secrets that sign now: the current one first, then any still in overlap."""
    found = [_Secret.model_validate(x) for x in json.loads(doc.get("secrets", "[]"))]
    return [s.secret for s in found if s.until is None or s.until > now]
