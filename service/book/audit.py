"""The audit trail: who looked at or changed what, in an append-only Redis stream.

Every entry says who (the API key, and the rep it acted as), what (the action, the
customer, the conversation), the request id and the time. Entries name a customer by a
pseudonym (``subject``), kept under the customer's own key: while they exist, ``about``
finds their entries through their index; once erased, the pseudonym's key is gone and the
trail shows who did what to a subject that leads to nobody. Entries older than the
retention are trimmed as new ones are written.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import redis.asyncio as aioredis
from pydantic import BaseModel, Field
from redis.asyncio.cluster import RedisCluster

from service.store.autopipeline import ScriptBatcher
from service.store.keynames import KeySchema
from service.store.lua import lua_source
from service.store.redistypes import members, stream_entries, text, texts

PER_CUSTOMER = 1000  # entries indexed under one customer, newest first
DAY_MS = 86_400_000
_SUBJECT_BYTES = 8  # 64 random bits: no two customers of a book share one
# Stream fields beyond at, action, actor, subject and detail, when set.
_OPTIONAL = ("rep", "request_id", "conversation")


class AuditEntry(BaseModel):
    id: str
    at: datetime
    action: str
    customer_id: str | None = Field(
        default=None, description="The customer asked about (never stored in the entry)."
    )
    subject: str | None = Field(
        default=None, description="The customer's pseudonym, which the entry stores."
    )
    actor: str = Field(description="The API key that made the request.")
    rep: str | None = Field(default=None, description="The rep the key acted as.")
    request_id: str | None = None
    conversation: str | None = None
    detail: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Action:
    """One thing to audit; ``customer_id`` None for an action about no customer."""

    action: str
    customer_id: str | None
    actor: str
    detail: dict[str, Any] = field(default_factory=dict)
    rep: str | None = None
    request_id: str | None = None
    conversation: str | None = None
    # The pseudonym of an entry about no living customer (an erasure names whom it
    # erased by it); an entry about a customer gets theirs from the store.
    subject: str | None = None


def fresh_subjects(count: int) -> list[str]:
    """New random pseudonyms, one per customer a call may audit: each is kept only by a
    customer who has none yet. One call to the generator for a whole batch."""
    raw = secrets.token_hex(_SUBJECT_BYTES * count)
    width = 2 * _SUBJECT_BYTES
    return [f"subj_{raw[i : i + width]}" for i in range(0, width * count, width)]


class AuditLog:
    def __init__(self, redis: aioredis.Redis, keys: KeySchema, retention_days: int) -> None:
        self._redis = redis
        self._keys = keys
        self._key = keys.audit()
        self.retention_ms = retention_days * DAY_MS
        # Every read is audited: the calls of concurrent requests go out together. Three
        # steps, each in one home (docs/cluster.md): the customers' pseudonyms, the
        # entries in the stream, then each customer's index of them. A crash before the
        # last leaves an entry that ``about`` does not list; the stream still has it. On
        # one server the three are one script: every request is audited, and two round
        # trips more made a resolve by e-mail half as slow again (docs/performance.md).
        self._one_server = not isinstance(redis, RedisCluster)
        self._all_at_once = ScriptBatcher(redis, lua_source("service.book", "audit_many.lua"))
        self._subjects = ScriptBatcher(redis, lua_source("service.book", "audit_subjects.lua"))
        self._append = ScriptBatcher(redis, lua_source("service.book", "audit_append.lua"))
        self._index = ScriptBatcher(redis, lua_source("service.book", "audit_index.lua"))

    async def record(
        self, action: str, customer_id: str, actor: str, detail: dict[str, Any]
    ) -> None:
        await self.record_many([Action(action, customer_id, actor, detail)])

    async def record_erasure(self, subject: str | None, action: Action) -> str:
        """In the stream only, under the erased customer's pseudonym as the erasure read
        it (None: they had none, and get one that nothing else names); no per-customer
        key may outlive the erasure. Answers the subject recorded."""
        subject = subject or fresh_subjects(1)[0]
        await self.record_many([replace(action, customer_id=None, subject=subject)])
        return subject

    async def record_many(self, actions: Sequence[Action]) -> list[str]:
        """The entries' ids, in the order of the actions."""
        if not actions:
            return []
        at = now()
        if self._one_server:
            call = audit_many_call(self._keys, actions, at=at, retention_ms=self.retention_ms)
            return texts(await self._all_at_once(*call))
        about = sorted({a.customer_id for a in actions if a.customer_id is not None})
        subjects = dict(zip(about, await self._subjects_of(about), strict=True))
        args: list[str | int] = [self.retention_ms]
        for action in actions:
            if action.customer_id is not None:
                action = replace(action, subject=subjects[action.customer_id])
            fields = _entry_fields(action, at)
            args += (len(fields) // 2, *fields)
        ids = texts(await self._append([self._key], args))
        indexed: dict[str, list[str]] = {}
        for action, entry_id in zip(actions, ids, strict=True):
            if action.customer_id is not None:
                indexed.setdefault(action.customer_id, []).append(entry_id)
        await asyncio.gather(
            *(
                self._index([self._keys.customer_audit(cid)], [PER_CUSTOMER, *entry_ids])
                for cid, entry_ids in indexed.items()
            )
        )
        return ids

    async def _subjects_of(self, customer_ids: Sequence[str]) -> list[str]:
        fresh = fresh_subjects(len(customer_ids))
        found = await asyncio.gather(
            *(
                self._subjects([self._keys.audit_subject(cid)], [subject])
                for cid, subject in zip(customer_ids, fresh, strict=True)
            )
        )
        return [text(subject) for [subject] in found]

    async def about(self, customer_id: str) -> list[AuditEntry]:
        """Entries about one living customer, oldest first."""
        ids = members(await self._redis.lrange(self._keys.customer_audit(customer_id), 0, -1))
        found = await self._read(ids[::-1])
        return [e.model_copy(update={"customer_id": customer_id}) for e in found]

    async def page(
        self,
        *,
        customer_id: str | None,
        actor: str | None,
        action: str | None,
        since: datetime | None,
        until: datetime | None,
        limit: int,
        cursor: str | None,
    ) -> tuple[list[AuditEntry], str | None]:
        """Entries newest first that match every filter given, and the cursor of the
        next page (None: no more)."""

        def wanted(entry: AuditEntry) -> bool:
            return (
                (actor is None or entry.actor == actor)
                and (action is None or entry.action == action)
                and (since is None or entry.at >= since)
                and (until is None or entry.at <= until)
            )

        if customer_id is not None:
            found = [e for e in reversed(await self.about(customer_id)) if wanted(e)]
            start = next((i + 1 for i, e in enumerate(found) if e.id == cursor), 0)
            page = found[start : start + limit]
            more = start + limit < len(found)
            return page, page[-1].id if more and page else None
        high = f"({cursor}" if cursor else "+"
        if until is not None and not cursor:
            high = f"{_ms(until)}-{2**64 - 1}"
        low = "-" if since is None else f"{_ms(since)}-0"
        out: list[AuditEntry] = []
        while len(out) < limit:
            chunk = stream_entries(await self._redis.xrevrange(self._key, high, low, count=500))
            if not chunk:
                return out, None
            for entry_id, data in chunk:
                entry = _entry(entry_id, data)
                if wanted(entry):
                    out.append(entry)
                    if len(out) == limit:
                        return out, entry_id
            high = f"({chunk[-1][0]}"
        return out, None

    async def _read(self, ids: Sequence[str]) -> list[AuditEntry]:
        """The entries of these ids still in the stream (older ones were trimmed)."""
        async with self._redis.pipeline(transaction=False) as pipe:
            for entry_id in ids:
                pipe.xrange(self._key, entry_id, entry_id)
            replies = await pipe.execute()
        return [_entry(i, d) for reply in replies for i, d in stream_entries(reply)]


def _ms(at: datetime) -> int:
    """A time as a stream id's milliseconds: ids start at 1970 (an earlier time asks for
    everything from the first entry on)."""
    return max(0, int(at.timestamp() * 1000))


def _entry(entry_id: str, data: dict[str, str]) -> AuditEntry:
    return AuditEntry(
        id=entry_id,
        at=datetime.fromisoformat(data["at"]),
        action=data["action"],
        subject=data.get("subject"),
        actor=data["actor"],
        detail=json.loads(data.get("detail", "{}")),
        **{name: data[name] for name in _OPTIONAL if name in data},
    )


def _entry_fields(action: Action, at: str) -> list[str]:
    fields = [
        "at",
        at,
        "action",
        action.action,
        "actor",
        action.actor,
        "detail",
        json.dumps(action.detail, default=str),
    ]
    for name in (*_OPTIONAL, "subject"):
        value = getattr(action, name)
        if value:
            fields += (name, value)
    return fields


def audit_many_call(
    keys: KeySchema, actions: Sequence[Action], *, at: str, retention_ms: int
) -> tuple[list[str], list[str | int]]:
    """KEYS and ARGV of audit_many.lua, in the order its header states."""
    script_keys = [keys.audit()]
    args: list[str | int] = [retention_ms, PER_CUSTOMER]
    for action, fresh in zip(actions, fresh_subjects(len(actions)), strict=True):
        fields = _entry_fields(action, at)
        if action.customer_id is None:
            script_keys += (keys.audit(), keys.audit())
            args += ("", len(fields) // 2, *fields)
        else:
            script_keys += (
                keys.customer_audit(action.customer_id),
                keys.audit_subject(action.customer_id),
            )
            args += (fresh, len(fields) // 2, *fields)
    return script_keys, args


def now() -> str:
    """An audit entry's time."""
    return datetime.now(UTC).isoformat()
