"""A customer's service history: events stored once by id, listed newest first.

Per customer, a hash holds event id -> event JSON and a sorted set orders the ids by
event time (ms). Pages are cut by a cursor naming the last (time, id) seen, so new events
arriving between two calls neither repeat nor skip entries.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import redis.asyncio as aioredis
from pydantic import TypeAdapter, ValidationError

from service.book.openitems import role_arg
from service.schemas import Event, EventIn, HistoryPage, StoreIntegrityError, describe
from service.store.keynames import KeySchema
from service.store.lua import Arg, load_script, run_pipelined
from service.store.paging import encode_cursor, ms, newest_first
from service.store.redistypes import members, text


def event_record(event: EventIn) -> tuple[str, str, int, str]:
    """An event as ``_history.lua`` stores it: its id (derived when absent), JSON,
    score and open-item role."""
    stored = event.with_id()
    score = ms(stored.at)
    return stored.id, stored.model_dump_json(), score, role_arg(stored.id, stored, score)


Record = tuple[str, str, int, str]  # what event_record makes of an event


def add_events_call(
    keys: KeySchema, customer_id: str, events: Sequence[EventIn]
) -> tuple[list[str], list[Arg]]:
    """KEYS and ARGV of add_events.lua for one customer (their home)."""
    return add_records_call(keys, customer_id, [event_record(e) for e in events])


def add_records_call(
    keys: KeySchema, customer_id: str, records: Sequence[Record]
) -> tuple[list[str], list[Arg]]:
    """The same, for events already made records (``event_record``)."""
    args: list[Arg] = [len(records)]
    for record in records:
        args += record
    return [
        keys.customer(customer_id),
        keys.customer_events(customer_id),
        keys.history(customer_id),
        keys.open_items(customer_id),
    ], args


@dataclass(frozen=True, slots=True)
class CardHistory:
    """What a context card is built from: the newest events, the events of every
    unsettled item however old, and how many events the history holds."""

    recent: list[Event]  # newest first
    open: list[Event]
    total: int

    @classmethod
    def whole(cls, events: list[Event]) -> CardHistory:
        """A history read whole (the derivations settle items themselves)."""
        return cls(events, events, len(events))


_EVENTS: TypeAdapter[list[Event]] = TypeAdapter(list[Event])
_CHANGE = '"type":"contract_change"'


def read_events(raws: Iterable[str | bytes]) -> list[Event]:
    """Stored events, validated as one JSON array: a lookup reads dozens, and one call
    into pydantic costs less than one per event."""
    joined = ",".join(map(text, raws))
    if not joined:
        return []
    try:
        return _EVENTS.validate_json(f"[{joined}]")
    except ValidationError as exc:
        raise StoreIntegrityError(f"stored event does not validate: {describe(exc)}") from None


def open_events(
    fields: Mapping[str | bytes, str | bytes], known: Sequence[Event] = ()
) -> list[Event]:
    """The events in a customer's open-items hash (its other fields index the items).
    ``known``: events read already (the newest), taken as they are rather than read again
    (most open items of a busy card are among the newest events)."""
    by_id = {e.id: e for e in known}
    found, unread = [], []
    for name, value in fields.items():
        kind, _, event_id = text(name).partition(":")
        if kind != "e":
            continue
        event = by_id.get(event_id)
        if event is None:
            unread.append(value)
        else:
            found.append(event)
    return found + read_events(unread)


class HistoryStore:
    def __init__(self, redis: aioredis.Redis, keys: KeySchema) -> None:
        self._redis = redis
        self._keys = keys
        self._add_script = load_script(redis, "service.book", "add_events.lua")

    async def add(self, customer_id: str, events: Iterable[EventIn]) -> int | None:
        """Append; an event whose id is already stored is left as it was. None when the
        customer does not exist (checked atomically with the write)."""
        added = await self.add_many({customer_id: list(events)})
        return added[customer_id]

    async def add_many(self, by_customer: dict[str, list[EventIn]]) -> dict[str, int | None]:
        """Events of several customers, one script call each in one pipeline:
        {customer: added or None}."""
        replies = await run_pipelined(
            self._redis,
            [
                (self._add_script, *add_events_call(self._keys, cid, events))
                for cid, events in by_customer.items()
            ],
        )
        return {
            cid: None if int(n) < 0 else int(n) for cid, n in zip(by_customer, replies, strict=True)
        }

    async def recent(self, customer_id: str, limit: int) -> list[Event]:
        """The newest ``limit`` events, newest first (for the context card)."""
        ids = members(
            await self._redis.zrange(self._keys.history(customer_id), 0, limit - 1, desc=True)
        )
        return [e for e in await self._load(customer_id, ids) if e is not None]

    async def for_card(self, customer_id: str, limit: int) -> CardHistory:
        """The newest ``limit`` events, every unsettled item's events and the count."""
        k = self._keys
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.zrange(k.history(customer_id), 0, limit - 1, desc=True)
            pipe.zcard(k.history(customer_id))
            pipe.hgetall(k.open_items(customer_id))
            ids, total, open_fields = await pipe.execute()
        recent = [e for e in await self._load(customer_id, members(ids)) if e is not None]
        return CardHistory(recent, open_events(open_fields, recent), int(total))

    async def family_items(
        self, holders: Sequence[str], since: datetime, limit: int
    ) -> tuple[list[Event], list[Event]]:
        """The holders' open-item events, and their contract changes since ``since``
        (among each one's newest ``limit`` events): what a household shows, in two round
        trips."""
        k = self._keys
        async with self._redis.pipeline(transaction=False) as pipe:
            for cid in holders:
                pipe.hgetall(k.open_items(cid))
                pipe.zrange(
                    k.history(cid), "+inf", ms(since), desc=True, byscore=True, offset=0, num=limit
                )
            replies = await pipe.execute()
        opened = [e for fields in replies[0::2] for e in open_events(fields)]
        async with self._redis.pipeline(transaction=False) as pipe:
            for cid, ids in zip(holders, replies[1::2], strict=True):
                pipe.hmget(k.customer_events(cid), members(ids) or ["-"])
            stored = await pipe.execute()
        # Events are stored as model_dump_json writes them: the type's exact text picks
        # the changes out before any is parsed.
        changes = read_events(
            raw for batch in stored for raw in batch if raw is not None and _CHANGE in text(raw)
        )
        return opened, changes

    async def _load(self, customer_id: str, ids: Sequence[str]) -> list[Event | None]:
        """Events in the order of ``ids``; None where an id has no event (never expected)."""
        if not ids:
            return []
        raws = await self._redis.hmget(self._keys.customer_events(customer_id), list(ids))
        try:
            return [Event.model_validate_json(r) if r is not None else None for r in raws]
        except ValidationError as exc:
            raise StoreIntegrityError(f"stored event does not validate: {describe(exc)}") from None

    async def page(
        self,
        customer_id: str,
        *,
        limit: int = 50,
        cursor: str | None = None,
        types: frozenset[str] = frozenset(),
        channels: frozenset[str] = frozenset(),
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> HistoryPage:
        events: list[Event] = []
        last: tuple[float, str] | None = None
        key = self._keys.history(customer_id)
        async for batch in newest_first(self._redis, key, since=since, until=until, cursor=cursor):
            if len(events) == limit:
                break
            loaded = await self._load(customer_id, [m for m, _ in batch])
            for (_, score), event in zip(batch, loaded, strict=True):
                if event is None:
                    continue
                if types and event.type not in types:
                    continue
                if channels and (event.channel or "").lower() not in channels:
                    continue
                events.append(event)
                last = (score, event.id)
                if len(events) == limit:
                    break
        next_cursor = encode_cursor(*last) if last is not None and len(events) == limit else None
        return HistoryPage(events=events, next_cursor=next_cursor)
