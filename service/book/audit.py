"""The audit trail: who did what to whose record, in a capped Redis stream.

Entries name a customer by a pseudonym (``subject``), kept under the customer's own key:
while they exist, ``about`` finds their entries through their index; once erased, the
pseudonym's key is gone and the trail shows who did what to a subject that leads to
nobody.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import redis.asyncio as aioredis
from pydantic import BaseModel, Field

from service.store.keynames import KeySchema
from service.store.lua import load_script
from service.store.redistypes import fields, members, stream_entries, texts

# About a year of a busy team's erasures and link changes; older entries are trimmed.
MAX_ENTRIES = 1_000_000
PER_CUSTOMER = 1000
_SUBJECT_BYTES = 8  # 64 random bits: no two customers of a book share one


class AuditEntry(BaseModel):
    id: str
    at: datetime
    action: str
    customer_id: str = Field(description="The customer asked about (not stored in the entry).")
    subject: str = Field(description="The customer's pseudonym, which the entry stores.")
    actor: str
    detail: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Action:
    action: str
    customer_id: str
    actor: str
    detail: dict[str, Any]


def fresh_subjects(count: int) -> list[str]:
    """New random pseudonyms, one per customer a call may audit: each is kept only by a
    customer who has none yet. One call to the generator for a whole batch."""
    raw = secrets.token_hex(_SUBJECT_BYTES * count)
    width = 2 * _SUBJECT_BYTES
    return [f"subj_{raw[i : i + width]}" for i in range(0, width * count, width)]


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

    async def record_erasure(self, subject: str | None, actor: str, detail: dict[str, Any]) -> str:
        """In the stream only, under the erased customer's pseudonym as the erasure read
        it (None: they had none, and get one that nothing else names); no per-customer
        key may outlive the erasure. Answers the subject recorded."""
        subject = subject or fresh_subjects(1)[0]
        entry = {
            "at": now(),
            "action": "erase",
            "subject": subject,
            "actor": actor,
            "detail": json.dumps(detail, default=str),
        }
        await self._redis.xadd(self._key, fields(entry), maxlen=MAX_ENTRIES, approximate=True)
        return subject

    async def record_many(self, actions: list[Action]) -> list[str]:
        """The entries' ids, in the order of the actions."""
        if not actions:
            return []
        keys, args = audit_many_call(self._keys, actions, at=now())
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
                        customer_id=customer_id,
                        subject=data["subject"],
                        actor=data["actor"],
                        detail=json.loads(data["detail"]),
                    )
                )
        return found


def audit_many_call(
    keys: KeySchema, actions: Sequence[Action], *, at: str
) -> tuple[list[str], list[str | int]]:
    """KEYS and ARGV of audit_many.lua, in the order its header states."""
    script_keys = [keys.audit()]
    args: list[str | int] = [MAX_ENTRIES, PER_CUSTOMER]
    for action, fresh in zip(actions, fresh_subjects(len(actions)), strict=True):
        script_keys += (
            keys.customer_audit(action.customer_id),
            keys.audit_subject(action.customer_id),
        )
        args += (
            fresh,
            at,
            action.action,
            action.actor,
            json.dumps(action.detail, default=str),
        )
    return script_keys, args


def audit_many_reply(reply: list[bytes | str]) -> list[str]:
    """The new entries' ids, in the order of the actions."""
    return texts(reply)


def now() -> str:
    """An audit entry's time."""
    return datetime.now(UTC).isoformat()
