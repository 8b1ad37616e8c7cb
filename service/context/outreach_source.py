"""Reading what the outreach check needs for many customers at once.

Per customer, one call of ``outreach.lua`` in their home: whether the record exists, the
unsettled items' events (however old) and the events inside the rules' window. The calls
go batched (``run_pipelined``): one command per slice of customers on one server, one per
slot on a cluster.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from itertools import islice

import redis.asyncio as aioredis

from service.book.history import open_events, read_events
from service.context.outreach import verdict
from service.schemas import Event
from service.schemas.outreach import OutreachAnswer, OutreachKind, OutreachVerdict
from service.settings import OutreachRules
from service.store.keynames import KeySchema
from service.store.lua import load_script, run_pipelined
from service.store.paging import ms


def _ms(day: date) -> int:
    return ms(datetime.combine(day, time(), UTC))


_SLICE = 1000  # customers a script call reads
Found = tuple[list[Event], list[Event]] | None


class OutreachChecker:
    def __init__(
        self, redis: aioredis.Redis, keys: KeySchema, rules: OutreachRules, event_limit: int
    ) -> None:
        self._redis = redis
        self._keys = keys
        self._limit = event_limit
        self.rules = rules
        self._script = load_script(redis, "service.context", "outreach.lua")

    async def read(self, customer_ids: Sequence[str], today: date) -> list[Found]:
        """Per id: (open-item events, recent events), or None for no customer."""
        k = self._keys
        renewals = _ms(today - timedelta(days=self.rules.recent_days))
        contacts = _ms(today - timedelta(days=self.rules.contact_days))
        calls = [
            (
                self._script,
                [k.customer(c), k.history(c), k.customer_events(c), k.open_items(c)],
                [renewals, contacts, self._limit],
            )
            for c in customer_ids
        ]
        replies = await run_pipelined(self._redis, calls)
        # One decoding of every recent event: most customers have few.
        events = iter(read_events(raw for r in replies if int(r[0]) for raw in r[1]))
        found: list[Found] = []
        for reply in replies:
            if not int(reply[0]):
                found.append(None)
                continue
            recent = list(islice(events, len(reply[1])))
            flat = reply[2]
            fields = dict(zip(flat[::2], flat[1::2], strict=True))
            found.append((open_events(fields, recent), recent))
        return found

    async def check(
        self, kind: OutreachKind, customer_ids: Sequence[str], today: date | None = None
    ) -> OutreachAnswer:
        day = today or datetime.now(UTC).date()

        async def checked(ids: Sequence[str]) -> list[OutreachVerdict]:
            found = await self.read(ids, day)
            return [
                verdict(kind, cid, events, day, self.rules)
                for cid, events in zip(ids, found, strict=True)
            ]

        # In slices, so that no one script call holds a server for long; all at once, so
        # that the server reads one slice while this process weighs another.
        slices = [customer_ids[at : at + _SLICE] for at in range(0, len(customer_ids), _SLICE)]
        results = [v for part in await asyncio.gather(*map(checked, slices)) for v in part]
        blocked = sum(1 for r in results if r.decision == "blocked")
        return OutreachAnswer.model_construct(
            kind=kind,
            checked=len(results),
            allowed=len(results) - blocked,
            blocked=blocked,
            results=results,
        )
