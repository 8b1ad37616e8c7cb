"""Processing a batch of deliveries in a few round trips, whatever its size.

Per batch: one pipeline reads every sender's link and rejections and threads every
message; resolution runs for all messages at once (a candidate fetch each for senders
without a link); one pipeline records every delivery and acknowledges it. A delivery
whose processing fails is left out and stays pending (another attempt claims it alone),
so one bad delivery never holds up or dead-letters the others.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import redis.asyncio as aioredis
from redis.exceptions import NoScriptError

from adapters.delivery import parse_delivery
from adapters.message import Channel, InboundMessage, PayloadError
from matchers.extract import Found
from matchers.topics import Taxonomy, TopicFound, classify, default_taxonomy
from matchers.urgency import Urgency, urgency
from service.book.history import open_events
from service.context.continuation import likely_case, link_for
from service.context.derive import open_cases
from service.conversations.changes import MessageChanges, amended, history_entry
from service.conversations.messages import Done, Mention, MessageStore, StoredMessage
from service.conversations.recording import Recorder
from service.ingest.deliveries import decode, entry_time
from service.ingest.graph_names import GraphNames
from service.ingest.sender_query import message_query
from service.ops.logs import get_logger
from service.resolution.resolver import KnownSender, Resolution, Resolver
from service.schemas.context_card import OpenCase
from service.store.keynames import KeySchema
from service.store.redistypes import text_or_none, texts

log = get_logger("socialid.worker")
# How long an edit or withdrawal that came first waits for its message.
PENDING_DAYS = 7
DeadLetter = Callable[[str, dict[str, str], str], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Reading:
    """What the worker reads into a message besides who sent it: its topic (and so the
    categories of the open cases it may continue), and from how many contacts about one
    case on a repeat raises the priority."""

    taxonomy: Taxonomy = field(default_factory=default_taxonomy)
    repeat_from: int = 3


@dataclass
class _Job:
    entry_id: str
    received: datetime
    messages: list[InboundMessage]
    changes: list[InboundMessage] = field(default_factory=list)  # edits and withdrawals
    stored: list[StoredMessage] = field(default_factory=list)
    failed: BaseException | None = None


class BatchProcessor:
    def __init__(
        self,
        redis: aioredis.Redis,
        keys: KeySchema,
        messages: MessageStore,
        resolver: Resolver,
        extract: Callable[[str], list[Found]],
        names: GraphNames | None,
        reading: Reading | None = None,
    ) -> None:
        self._redis = redis
        self._reading = reading or Reading()
        self._keys = keys
        self._messages = messages
        self._resolver = resolver
        self._extract = extract
        self._names = names
        self._changes = MessageChanges(redis, keys, pending_ttl=PENDING_DAYS * 86_400)
        self._recorder = Recorder(redis, keys, messages.routing)

    async def process(
        self, stream: str, group: str, entries: list[tuple[str, dict[str, str]]], dead: DeadLetter
    ) -> list[StoredMessage]:
        """Process and acknowledge the entries; returns the messages stored now."""
        jobs = []
        for entry_id, fields in entries:
            try:
                messages = parse_delivery(decode(fields))
            except (PayloadError, ValueError, KeyError) as exc:
                # The receiving parser read it, so a later parser refuses it: keep it
                # for a replay after the fix rather than retrying forever.
                await dead(entry_id, fields, f"{type(exc).__name__}: {exc}")
                continue
            wanted = set(fields.get("ids", "").split())
            received = datetime.fromtimestamp(entry_time(entry_id), UTC)
            fresh = [m for m in messages if m.message_id in wanted]
            jobs.append(
                _Job(
                    entry_id,
                    received,
                    [m for m in fresh if m.change == "new"],
                    [m for m in fresh if m.change != "new"],
                )
            )
        if not jobs:
            return []
        # Changes first: one that finds no message yet waits for it, and the messages of
        # this batch are checked for waiting changes before they are recorded.
        for job in jobs:
            try:
                for change in job.changes:
                    await self._changes.apply(change)
            except Exception as exc:  # the store away, a contended message: retried
                job.failed = exc
        await self._prepare([j for j in jobs if j.failed is None])
        applied = await self._apply_waiting(jobs)
        ready = [j for j in jobs if j.failed is None]
        for job in jobs:
            if job.failed is not None:
                log.warning(
                    "delivery_failed",
                    entry=job.entry_id,
                    error=type(job.failed).__name__,
                    detail=str(job.failed)[:200],
                )
        done: list[list[Done]] = [
            [(s, history_entry(s) if s.resolution.customer_id else None) for s in j.stored]
            for j in ready
        ]
        results = await self._recorder.record(
            stream, group, [(j.entry_id, d) for j, d in zip(ready, done, strict=True)]
        )
        stored_now: list[StoredMessage] = []
        for job, result in zip(ready, results, strict=True):
            if isinstance(result, Exception):
                log.warning("delivery_failed", entry=job.entry_id, error=type(result).__name__)
                continue
            stored_now += [s for s, new in zip(job.stored, result, strict=True) if new]
        await self._changes.remember([s for j in ready for s in j.stored], applied)
        return stored_now

    async def _apply_waiting(self, jobs: list[_Job]) -> set[str]:
        """Changes that came before their message, applied to it before it is recorded;
        their origin keys."""
        ready = [j for j in jobs if j.failed is None]
        waiting = await self._changes.waiting([s.message for j in ready for s in j.stored])
        for job in ready:
            job.stored = [
                amended(s, waiting[s.message.origin_key]) if s.message.origin_key in waiting else s
                for s in job.stored
            ]
        return set(waiting)

    async def _prepare(self, jobs: list[_Job]) -> None:
        """Name, read, thread and resolve every message; a job whose step fails is
        marked failed and left out of the rest."""
        messages = [m for j in jobs for m in j.messages]
        # A failed name lookup leaves the message unnamed, never unprocessed.
        named = await asyncio.gather(*(self._named(m) for m in messages), return_exceptions=True)
        targets = [
            m if isinstance(n, BaseException) else n for m, n in zip(messages, named, strict=True)
        ]
        try:
            known, conversations = await self._read(targets)
        except NoScriptError:
            await self._messages.load_scripts()  # the server lost it: a restart, a flush
            known, conversations = await self._read(targets)
        resolved = await asyncio.gather(
            *(self._resolve(m, known[m.message_id]) for m in targets), return_exceptions=True
        )
        at = 0
        for job in jobs:
            for _ in job.messages:
                target, resolution = targets[at], resolved[at]
                at += 1
                if isinstance(resolution, BaseException):
                    job.failed = job.failed or resolution
                    continue
                job.stored.append(self._stored(target, resolution, conversations, job.received))
        await self._continue_cases(jobs)

    async def _continue_cases(self, jobs: list[_Job]) -> None:
        """Each message of a known customer tied to the open case it continues, and its
        urgency weighed again with that case's contacts."""
        matched = [
            s for j in jobs if j.failed is None for s in j.stored if s.resolution.customer_id
        ]
        customers = list(dict.fromkeys(str(s.resolution.customer_id) for s in matched))
        if not customers:
            return
        async with self._redis.pipeline(transaction=False) as pipe:
            for cid in customers:
                pipe.hgetall(self._keys.open_items(cid))
            replies = await pipe.execute()
        today = datetime.now(UTC).date()
        cases = {
            cid: open_cases(open_events(fields), today)
            for cid, fields in zip(customers, replies, strict=True)
        }
        tied = {s.id: self._tied(s, cases[str(s.resolution.customer_id)], today) for s in matched}
        for job in jobs:
            job.stored = [tied.get(s.id, s) for s in job.stored]

    def _tied(self, stored: StoredMessage, cases: list[OpenCase], today: date) -> StoredMessage:
        if not cases or stored.topic is None:
            return stored
        found = likely_case(stored.message.text, stored.topic, cases, self._reading.taxonomy.cases)
        if found is None:
            return stored
        case, evidence = found
        link = link_for(case, stored.id, stored.message.channel.value, evidence, today, "socialid")
        about = " ".join(filter(None, ("open", case.category, "case", case.case_id)))
        weighed = _urgency(
            stored.message, stored.topic, (link.contacts, about), self._reading.repeat_from
        )
        return stored.model_copy(update={"case": link, "urgency": weighed})

    async def _read(
        self, messages: list[InboundMessage]
    ) -> tuple[dict[str, KnownSender], dict[str, str]]:
        """Every sender's link and rejections, and every message's conversation."""
        k = self._keys
        threaded = []
        async with self._redis.pipeline(transaction=False) as pipe:
            for m in messages:
                pipe.get(k.identity(m.channel, m.sender.external_id))
                pipe.smembers(k.identity_rejections(m.channel, m.sender.external_id))
                threaded.append(self._messages.queue_thread(pipe, m))
            replies = iter(await pipe.execute())
        known: dict[str, KnownSender] = {}
        conversations: dict[str, str] = {}
        for m, has_thread in zip(messages, threaded, strict=True):
            owner, ruled_out = next(replies), next(replies)
            known[m.message_id] = KnownSender(
                owner=text_or_none(owner), ruled_out=frozenset(texts(ruled_out))
            )
            conversations[m.message_id] = self._messages.conversation_of(
                m, next(replies) if has_thread else None
            )
        return known, conversations

    async def _resolve(self, message: InboundMessage, known: KnownSender) -> Resolution:
        return await self._resolver.resolve(message_query(message), known=known)

    def _stored(
        self,
        message: InboundMessage,
        resolution: Resolution,
        conversations: dict[str, str],
        received: datetime,
    ) -> StoredMessage:
        # Positions are in the message's text (the subject is evidence, not shown). A
        # number read only because it followed "account" is shown when the book held it.
        confirmed = _account_confirmed(resolution)
        mentions = [
            Mention(kind=f.kind, value=f.value, start=f.start, end=f.end)
            for f in self._extract(message.text)
            if confirmed or not f.cued
        ]
        return StoredMessage(
            id=message.message_id,
            message=message,
            resolution=resolution,
            conversation_id=conversations[message.message_id],
            mentions=mentions,
            topic=(topic := classify(message.text, self._reading.taxonomy)),
            urgency=_urgency(message, topic),
            received_at=received,
            processed_at=datetime.now(UTC),
        )

    async def _named(self, message: InboundMessage) -> InboundMessage:
        sender = message.sender
        if self._names is None or message.channel != Channel.FACEBOOK or sender.display_name:
            return message
        name = await self._names.name(message.channel.value, sender.external_id)
        if name is None:
            return message
        return message.model_copy(
            update={"sender": sender.model_copy(update={"display_name": name})}
        )


def _urgency(
    message: InboundMessage,
    topic: TopicFound,
    repeat: tuple[int, str] | None = None,
    repeat_from: int = 3,
) -> Urgency:
    public = not message.private
    return urgency(
        message.text,
        topic,
        repeat=repeat,
        repeat_from=repeat_from,
        followers=message.sender.followers if public else None,
        likes=message.likes if public else None,
    )


def _account_confirmed(resolution: Resolution) -> bool:
    return any(
        e.field == "mentioned" and e.level == "account number in text"
        for c in resolution.candidates
        for e in c.evidence
    )
