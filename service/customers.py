"""Customers, their identity links and their history in Redis.

Serialisation is pydantic's JSON; this class only moves documents in and out and keeps
the identity index consistent with the customer documents.
"""

from __future__ import annotations

import uuid

import redis.asyncio as aioredis
from redis.exceptions import WatchError

from service.keyschema import KeySchema
from service.models import Customer, Event, EventIn
from service.redistypes import text_or_none


class IdentityConflict(Exception):
    """An identity in the document is already linked to another customer."""

    def __init__(self, channel: str, other_customer: str) -> None:
        super().__init__(f"a {channel} identity in this document belongs to another customer")
        self.channel = channel
        self.other_customer = other_customer


def _identity_keys(keys: KeySchema, customer: Customer | None) -> set[str]:
    if customer is None:
        return set()
    return {keys.identity(i.channel, i.external_id) for i in customer.identities}


class CustomerStore:
    def __init__(self, redis: aioredis.Redis, keys: KeySchema) -> None:
        self._redis = redis
        self._keys = keys

    async def get(self, customer_id: str) -> Customer | None:
        raw = await self._redis.get(self._keys.customer(customer_id))
        return Customer.model_validate_json(raw) if raw is not None else None

    async def put(self, customer: Customer) -> bool:
        """Create or replace; returns True when the customer is new.

        Identity links move with the document. A link held by another customer is never
        taken over silently: the write is refused with ``IdentityConflict``.
        """
        doc_key = self._keys.customer(customer.id)
        wanted = _identity_keys(self._keys, customer)
        async with self._redis.pipeline(transaction=True) as pipe:
            while True:
                try:
                    await pipe.watch(doc_key, *wanted)
                    raw = await pipe.get(doc_key)
                    old = Customer.model_validate_json(raw) if raw is not None else None
                    for ident in customer.identities:
                        key = self._keys.identity(ident.channel, ident.external_id)
                        owner = text_or_none(await pipe.get(key))
                        if owner is not None and owner != customer.id:
                            raise IdentityConflict(ident.channel, owner)
                    pipe.multi()  # type: ignore[no-untyped-call]
                    pipe.set(doc_key, customer.model_dump_json(exclude_defaults=True))
                    for stale in _identity_keys(self._keys, old) - wanted:
                        pipe.delete(stale)
                    for key in wanted:
                        pipe.set(key, customer.id)
                    await pipe.execute()
                    return old is None
                except WatchError:
                    continue

    async def resolve_identity(self, channel: str, external_id: str) -> str | None:
        return text_or_none(await self._redis.get(self._keys.identity(channel, external_id)))

    async def add_events(self, customer_id: str, events: list[EventIn]) -> int:
        """Append to the history; an event whose id is already there is left as it was."""
        stored = [
            Event.model_validate({**e.model_dump(), "id": e.id or uuid.uuid4().hex}) for e in events
        ]
        async with self._redis.pipeline(transaction=True) as pipe:
            for ev in stored:
                pipe.hsetnx(self._keys.customer_events(customer_id), ev.id, ev.model_dump_json())
                pipe.zadd(
                    self._keys.history(customer_id),
                    {ev.id: ev.at.timestamp() * 1000},
                    nx=True,
                )
            results = await pipe.execute()
        return sum(int(added) for added in results[0::2])

    async def history(self, customer_id: str, limit: int = 500) -> list[Event]:
        """Newest first."""
        ids: list[bytes | str] = await self._redis.zrevrange(  # type: ignore[assignment]
            self._keys.history(customer_id), 0, limit - 1
        )
        if not ids:
            return []
        raws = await self._redis.hmget(self._keys.customer_events(customer_id), ids)
        return [Event.model_validate_json(r) for r in raws if r is not None]
