"""The delivery stream and its dead letters: what webhooks store before answering 200.

A delivery is stored as received (the body, its format, the headers its parser needs),
so that it can be parsed again after a fix. Its dedup keys are claimed in the same
script that appends it: a retry finds them held and stores nothing.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime

import redis.asyncio as aioredis
from pydantic import BaseModel, Field
from redis.exceptions import ResponseError

from adapters.delivery import Delivery, Format, parse_delivery
from adapters.message import InboundMessage, PayloadError
from service.store.autopipeline import ScriptBatcher
from service.store.keynames import KeySchema
from service.store.lua import lua_source
from service.store.paging import LAST_STREAM_ID
from service.store.redistypes import fields, stream_entries, texts


class Accepted(BaseModel):
    accepted: list[str] = Field(description="Ids of the messages stored for processing.")
    duplicates: int = Field(description="Messages of this delivery already received.")
    dead_letter: str | None = Field(
        default=None, description="Set when the delivery could not be read: kept for replay."
    )


class DeadLetter(BaseModel):
    id: str
    format: Format
    received_at: datetime
    failed_at: datetime
    stage: str = Field(description="receive: refused by the parser; worker: failed later.")
    reason: str
    size: int = Field(description="Bytes of the stored delivery.")


class DeadLetterPage(BaseModel):
    dead_letters: list[DeadLetter]
    next_cursor: str | None = None


class NotFound(LookupError):
    pass


class FsyncUnavailable(RuntimeError):
    pass


def encode(delivery: Delivery) -> dict[str, str]:
    """A delivery as stream entry fields. Bodies that are not UTF-8 (raw mail in another
    charset) go as base64, because the client decodes every reply as UTF-8."""
    try:
        body, enc = delivery.body.decode(), "utf8"
    except UnicodeDecodeError:
        body, enc = base64.b64encode(delivery.body).decode(), "b64"
    return {
        "format": delivery.format.value,
        "received_at": delivery.received_at.isoformat(),
        "enc": enc,
        "body": body,
        # Most deliveries carry no headers for their parser; json.dumps costs even for {}.
        "meta": json.dumps(delivery.meta, separators=(",", ":")) if delivery.meta else "{}",
    }


def decode(entry: dict[str, str]) -> Delivery:
    body = entry.get("body", "")
    raw = base64.b64decode(body) if entry.get("enc") == "b64" else body.encode()
    return Delivery(
        format=Format(entry["format"]),
        received_at=datetime.fromisoformat(entry["received_at"]),
        body=raw,
        meta=json.loads(entry.get("meta") or "{}"),
    )


def accept_call(
    keys: KeySchema,
    *,
    ttl: int,
    replay: bool,
    messages: list[InboundMessage],
    entry: dict[str, str],
) -> tuple[list[str], list[str | int]]:
    """KEYS and ARGV of ``accept.lua``: store ``entry`` for the messages not seen within
    ``ttl`` seconds (every message when ``replay``)."""
    args: list[str | int] = [ttl, "force" if replay else ""]
    args += [m.message_id for m in messages]
    for name, value in entry.items():
        args += [name, value]
    return [keys.ingest_stream(), *(keys.dedup(m.dedup_key) for m in messages)], args


def accepted_ids(reply: list[bytes | str]) -> list[str]:
    """``accept.lua``'s reply: the ids of the messages stored."""
    return texts(reply)


def entry_time(entry_id: str) -> float:
    """Seconds since the epoch at which the stream entry was appended."""
    return int(entry_id.partition("-")[0]) / 1000


def from_customers(
    messages: list[InboundMessage], brand: Mapping[str, frozenset[str]]
) -> list[InboundMessage]:
    """The messages not posted by one of the brand's own accounts (a page's post can
    arrive under another page's entry, an agent's reply from a second handle)."""
    if not brand:
        return messages
    return [m for m in messages if m.sender.external_id not in brand.get(m.channel.value, ())]


class DeliveryStore:
    def __init__(
        self,
        redis: aioredis.Redis,
        keys: KeySchema,
        *,
        dedup_days: int,
        fsync: bool,
        brand_accounts: Mapping[str, Iterable[str]] | None = None,
    ) -> None:
        self.brand = {c: frozenset(ids) for c, ids in (brand_accounts or {}).items()}
        self._redis = redis
        self._keys = keys
        self._ttl = dedup_days * 86_400
        self._fsync = fsync
        self._accept = ScriptBatcher(redis, lua_source("service.ingest", "accept.lua"))

    async def receive(self, delivery: Delivery) -> Accepted:
        """Parse, then store the delivery unless every message in it was seen before.

        A delivery the parser refuses is stored as a dead letter: the provider gets its
        answer and stops retrying, and the delivery waits for a fixed parser.
        """
        try:
            messages = from_customers(parse_delivery(delivery), self.brand)
        except PayloadError as exc:
            dead = await self.dead_letter(encode(delivery), stage="receive", reason=str(exc))
            return Accepted(accepted=[], duplicates=0, dead_letter=dead)
        return await self.store(delivery, messages)

    async def store(
        self, delivery: Delivery, messages: list[InboundMessage], *, replay: bool = False
    ) -> Accepted:
        if not messages:
            return Accepted(accepted=[], duplicates=0)
        keys, args = accept_call(
            self._keys, ttl=self._ttl, replay=replay, messages=messages, entry=encode(delivery)
        )
        fresh = accepted_ids(await self._accept(keys=keys, args=args))
        if fresh and self._fsync:
            await self._wait_fsync()
        return Accepted(accepted=fresh, duplicates=len(messages) - len(fresh))

    async def check_fsync(self) -> None:
        """Fail at start-up, not on the first webhook, when fsync was asked of a store
        that keeps no append-only file."""
        if self._fsync:
            try:
                await self._wait_fsync()
            except ResponseError as exc:
                raise FsyncUnavailable(
                    "SOCIALID_INGEST_FSYNC needs a store with appendonly yes "
                    f"(the store says: {exc})"
                ) from None

    async def _wait_fsync(self) -> None:
        # WAITAOF: block until the local append-only file holds the write (Redis 7.2+).
        await self._redis.execute_command("WAITAOF", 1, 0, 1000)  # type: ignore[no-untyped-call]

    async def dead_letter(self, entry: dict[str, str], *, stage: str, reason: str) -> str:
        record = {
            **entry,
            "stage": stage,
            "reason": reason[:500],
            "failed_at": datetime.now(UTC).isoformat(),
        }
        entry_id = await self._redis.xadd(self._keys.dead_letters(), fields(record))
        if self._fsync:
            await self._wait_fsync()
        return entry_id if isinstance(entry_id, str) else entry_id.decode()

    async def dead_letters(self, *, limit: int, cursor: str | None) -> DeadLetterPage:
        """Oldest first, so a replay after a fix works through them in order."""
        if cursor == LAST_STREAM_ID:
            return DeadLetterPage(dead_letters=[])  # nothing can follow it
        low = f"({cursor}" if cursor else "-"
        raw = stream_entries(
            await self._redis.xrange(self._keys.dead_letters(), low, "+", count=limit)
        )
        page = [
            DeadLetter(
                id=entry_id,
                format=Format(e["format"]),
                received_at=datetime.fromisoformat(e["received_at"]),
                failed_at=datetime.fromisoformat(e["failed_at"]),
                stage=e.get("stage", "receive"),
                reason=e.get("reason", ""),
                size=len(e.get("body", "")),
            )
            for entry_id, e in raw
        ]
        more = len(page) == limit
        return DeadLetterPage(dead_letters=page, next_cursor=page[-1].id if more else None)

    async def replay(self, dead_id: str) -> Accepted:
        """Parse a dead letter again; when it now reads, store it as a new delivery and
        drop the dead letter. Raises ``PayloadError`` when it still cannot be read."""
        raw = stream_entries(
            await self._redis.xrange(self._keys.dead_letters(), dead_id, dead_id, count=1)
        )
        if not raw:
            raise NotFound(dead_id)
        delivery = decode(raw[0][1])
        messages = parse_delivery(delivery)
        accepted = await self.store(delivery, messages, replay=True)
        await self._redis.xdel(self._keys.dead_letters(), dead_id)
        return accepted

    async def backlog(self) -> tuple[float, int, int]:
        """Age in seconds of the oldest delivery not yet processed (0 when none), how
        many wait, and how many dead letters there are."""
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.xrange(self._keys.ingest_stream(), "-", "+", count=1)
            pipe.xlen(self._keys.ingest_stream())
            pipe.xlen(self._keys.dead_letters())
            oldest, waiting, dead = await pipe.execute()
        first = stream_entries(oldest)
        age = max(0.0, time.time() - entry_time(first[0][0])) if first else 0.0
        return age, int(waiting), int(dead)
