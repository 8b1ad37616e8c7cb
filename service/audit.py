"""The audit trail: who did what to whose record, in a capped Redis stream."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import redis.asyncio as aioredis
from pydantic import BaseModel

from service.keyschema import KeySchema
from service.redistypes import fields, stream_entries, text

# About a year of a busy team's erasures and link changes; older entries are trimmed.
_MAX_ENTRIES = 1_000_000


class AuditEntry(BaseModel):
    id: str
    at: datetime
    action: str
    customer_id: str
    actor: str
    detail: dict[str, Any]


class AuditLog:
    def __init__(self, redis: aioredis.Redis, keys: KeySchema) -> None:
        self._redis = redis
        self._key = keys.audit()

    async def record(
        self, action: str, customer_id: str, actor: str, detail: dict[str, Any]
    ) -> str:
        entry = {
            "at": datetime.now(UTC).isoformat(),
            "action": action,
            "customer_id": customer_id,
            "actor": actor,
            "detail": json.dumps(detail, default=str),
        }
        entry_id = await self._redis.xadd(
            self._key, fields(entry), maxlen=_MAX_ENTRIES, approximate=True
        )
        return text(entry_id)

    async def about(self, customer_id: str, limit: int = 1000) -> list[AuditEntry]:
        """Entries about one customer, oldest first (a scan: audit reads are rare)."""
        found: list[AuditEntry] = []
        for entry_id, data in stream_entries(await self._redis.xrange(self._key)):
            if data.get("customer_id") == customer_id:
                found.append(
                    AuditEntry(
                        id=entry_id,
                        at=datetime.fromisoformat(data["at"]),
                        action=data["action"],
                        customer_id=customer_id,
                        actor=data["actor"],
                        detail=json.loads(data["detail"]),
                    )
                )
                if len(found) >= limit:
                    break
        return found
