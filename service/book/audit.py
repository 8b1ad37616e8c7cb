"""The audit trail: who did what to whose record, in a capped Redis stream."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import redis.asyncio as aioredis
from pydantic import BaseModel

from service.store.keynames import KeySchema
from service.store.lua import load_script
from service.store.redistypes import fields, members, stream_entries, texts

# About a year of a busy team's erasures and link changes; older entries are trimmed.
MAX_ENTRIES = 1_000_000
PER_CUSTOMER = 1000


class AuditEntry(BaseModel):
    id: str
    at: datetime
    action: str
    customer_id: str
    actor: str
    detail: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Action:
    action: str
    customer_id: str
    actor: str
    detail: dict[str, Any]


class AuditLog:
    def __init__(self, redis: aioredis.Redis, keys: KeySchema) -> None:
        self._redis = redis
        self._keys = keys
        self._key = keys.audit()
        self._append = load_script(redis, "service.book", "audit_many.lua")

    async def record(
        self, action: str, customer_id: str, actor: str, detail: dict[str, Any]
    ) -> None:
        await self.record_many([Action(action, customer_id, actor, detail)])

    async def record_erasure(self, customer_id: str, actor: str, detail: dict[str, Any]) -> None:
        """In the stream only: no per-customer index may outlive the erasure."""
        await self._redis.xadd(
            self._key,
            fields(_entry(Action("erase", customer_id, actor, detail))),
            maxlen=MAX_ENTRIES,
            approximate=True,
        )

    async def record_many(self, actions: list[Action]) -> list[str]:
        """The entries' ids, in the order of the actions."""
        if not actions:
            return []
        keys, args = audit_many_call(self._keys, actions)
        return audit_many_reply(await self._append(keys=keys, args=args))

    async def about(self, customer_id: str) -> list[AuditEntry]:
        """Entries about one living customer, oldest first."""
        ids = members(await self._redis.lrange(self._keys.customer_audit(customer_id), 0, -1))
        async with self._redis.pipeline(transaction=False) as pipe:
            for entry_id in reversed(ids):
                pipe.xrange(self._key, entry_id, entry_id)
            replies = await pipe.execute()
        found = []
        for reply in replies:
            for entry_id, data in stream_entries(reply):
                found.append(
                    AuditEntry(
                        id=entry_id,
                        at=datetime.fromisoformat(data["at"]),
                        action=data["action"],
                        customer_id=data["customer_id"],
                        actor=data["actor"],
                        detail=json.loads(data["detail"]),
                    )
                )
        return found


def audit_many_call(
    keys: KeySchema, actions: Sequence[Action]
) -> tuple[list[str], list[str | int]]:
    """KEYS and ARGV of audit_many.lua, in the order its header states."""
    script_keys = [keys.audit()]
    args: list[str | int] = [MAX_ENTRIES, PER_CUSTOMER]
    for action in actions:
        entry = _entry(action)
        script_keys.append(keys.customer_audit(action.customer_id))
        args.append(len(entry))
        for name, value in entry.items():
            args += (name, value)
    return script_keys, args


def audit_many_reply(reply: list[bytes | str]) -> list[str]:
    """The new entries' ids, in the order of the actions."""
    return texts(reply)


def now() -> str:
    """An audit entry's time."""
    return datetime.now(UTC).isoformat()


def _entry(action: Action) -> dict[str, str]:
    return {
        "at": now(),
        "action": action.action,
        "customer_id": action.customer_id,
        "actor": action.actor,
        "detail": json.dumps(action.detail, default=str),
    }
