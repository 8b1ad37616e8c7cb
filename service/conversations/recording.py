"""Recording what the worker made of a delivery: one step per home, then the ack.

A delivery's messages touch several homes (docs/cluster.md): each message's own key, its
customer's messages and history, the customers it listed as candidates, and the desk (listings,
counts, the conversation and its log). Each is one idempotent step, run in that order,
and the delivery is acknowledged only after all of them, so a worker that dies between
steps leaves the delivery pending; whoever claims it runs the steps again and the ones
done already change nothing. The message is stored before the desk announces it, so the
message.received event never names a message that is not there yet.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import redis.asyncio as aioredis
from redis.commands.core import AsyncScript

from service.book.history import add_records_call, event_record
from service.conversations.messages import Done
from service.conversations.scriptcalls import conversation_prelude
from service.settings import Routing
from service.store.keynames import KeySchema
from service.store.lua import Arg, load_script, run_pipelined
from service.store.paging import ms

Call = tuple[AsyncScript, list[str], list[Arg]]


@dataclass
class Steps:
    """The steps of some deliveries, in the order they run, each with the delivery (its
    place in the batch) it belongs to."""

    messages: list[tuple[int, str, str]] = field(default_factory=list)  # key, JSON
    # A customer's messages and candidacies: key, score, message id
    listings: list[tuple[int, str, int, str]] = field(default_factory=list)
    scripts: list[tuple[int, Call]] = field(default_factory=list)  # customers', then desk's
    desk: list[int] = field(default_factory=list)  # where each delivery's desk step is


def desk_call(
    keys: KeySchema, routing: Routing, done: Sequence[Done]
) -> tuple[list[str], list[Arg]]:
    """KEYS and ARGV of ``record.lua`` for one delivery's messages."""
    script_keys: list[str] = []
    args: list[Arg] = [len(done), *conversation_prelude(keys, routing.sla_ms)]
    for stored, _ in done:
        msg, res = stored.message, stored.resolution
        conv = stored.conversation_id
        script_keys += [
            keys.messages("all"),
            keys.messages(f"ch:{msg.channel.value}"),
            keys.messages(f"st:{res.status}"),
            keys.resolution_counts(),
            keys.conversation(conv),
            keys.conversation_messages(conv),
            keys.conversation_log(conv),
        ]
        args += [
            ms(msg.sent_at),
            stored.id,
            f"{msg.channel.value}:{res.status}",
            msg.channel.value,
            msg.sent_at.isoformat(timespec="milliseconds"),
            res.customer_id or "",
            routing.team_of(msg.channel.value),
            conv,
            stored.received_at.isoformat(timespec="milliseconds"),
            stored.urgency.priority if stored.urgency else "normal",
            ", ".join(stored.urgency.reasons) if stored.urgency else "",
        ]
    return script_keys, args


class Recorder:
    def __init__(self, redis: aioredis.Redis, keys: KeySchema, routing: Routing) -> None:
        self._redis = redis
        self._keys = keys
        self._routing = routing
        self._desk = load_script(redis, "service.conversations", "record.lua")
        self._history = load_script(redis, "service.book", "add_events.lua")

    def steps(self, deliveries: Sequence[Sequence[Done]]) -> Steps:
        k = self._keys
        steps = Steps()
        for d, done in enumerate(deliveries):
            for stored, event in done:
                json = stored.model_dump_json(exclude_none=True)
                steps.messages.append((d, k.message(stored.id), json))
                score, cid = ms(stored.message.sent_at), stored.resolution.customer_id
                if cid and event is not None:
                    # Only while the customer exists (add_events.lua): an event racing an
                    # erasure leaves no history.
                    steps.listings.append((d, k.customer_messages(cid), score, stored.id))
                    history = add_records_call(k, cid, [event_record(event)])
                    steps.scripts.append((d, (self._history, *history)))
                # So that an erasure of a candidate finds the messages that name them.
                listed = {c.customer_id for c in stored.resolution.candidates} - {cid}
                steps.listings += [
                    (d, k.customer_candidacies(c), score, stored.id) for c in sorted(listed)
                ]
        for d, done in enumerate(deliveries):
            steps.desk.append(len(steps.scripts))
            steps.scripts.append((d, (self._desk, *desk_call(k, self._routing, done))))
        return steps

    async def record(
        self, stream: str, group: str, entries: Sequence[tuple[str, Sequence[Done]]]
    ) -> list[list[bool] | Exception]:
        """Record each delivery's messages, then acknowledge the deliveries whose every
        step succeeded. Per delivery: True for each message recorded now, False for one
        recorded before; or the error of a step that failed (the delivery then stays
        pending, to be run again; one that cannot be recorded holds back no other)."""
        steps = self.steps([done for _, done in entries])
        failed: dict[int, Exception] = {}
        async with self._redis.pipeline(transaction=False) as pipe:
            for _, key, json in steps.messages:
                # NX: a message edited or withdrawn since keeps that.
                pipe.set(key, json, nx=True)
            for _, key, score, message_id in steps.listings:
                pipe.zadd(key, {message_id: score})
            answers = await pipe.execute(raise_on_error=False)
        owners = [d for d, *_ in steps.messages] + [d for d, *_ in steps.listings]
        replies = await run_pipelined(self._redis, [call for _, call in steps.scripts])
        owners += [d for d, _ in steps.scripts]
        for d, answer in zip(owners, [*answers, *replies], strict=True):
            if isinstance(answer, Exception):
                failed.setdefault(d, answer)
        results: list[list[bool] | Exception] = [
            failed[d] if d in failed else [int(x) == 1 for x in replies[steps.desk[d]]]
            for d in range(len(entries))
        ]
        acked = [e for (e, _), r in zip(entries, results, strict=True) if isinstance(r, list)]
        if acked:
            async with self._redis.pipeline(transaction=False) as pipe:
                pipe.xack(stream, group, *acked)
                pipe.xdel(stream, *acked)
                await pipe.execute()
        return results
