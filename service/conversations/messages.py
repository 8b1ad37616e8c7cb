"""Processed messages and the conversations they were threaded into."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

import redis.asyncio as aioredis
from pydantic import BaseModel, Field, ValidationError
from redis.asyncio.client import Pipeline

from adapters.message import Channel, InboundMessage
from matchers.redact import Redactor, apply, moved, overlaps
from matchers.topics import TopicFound
from matchers.urgency import Urgency
from service.book.customers import Contended, etag_of
from service.conversations.scriptcalls import ScriptCall
from service.resolution.resolver import Resolution
from service.schemas import EventIn, StoreIntegrityError, describe
from service.schemas.context_card import CaseLink
from service.settings import Routing
from service.store.keynames import KeySchema
from service.store.lua import Arg, load_script
from service.store.paging import encode_cursor, newest_first
from service.store.reads import get_many
from service.store.redistypes import members, text

ResolutionStatus = Literal["matched", "ambiguous", "no_match"]


class Mention(BaseModel):
    """An identifier found in the message's text, with its position."""

    kind: str
    value: str
    start: int
    end: int


class StoredMessage(BaseModel):
    id: str
    message: InboundMessage
    resolution: Resolution
    conversation_id: str
    mentions: list[Mention] = Field(default_factory=list)
    urgency: Urgency | None = Field(
        default=None, description="How urgent it reads, and why: the least priority it sets."
    )
    topic: TopicFound | None = Field(
        default=None,
        description="What the message is about, with the phrases that decided it; none "
        "once withdrawn.",
    )
    case: CaseLink | None = Field(
        default=None,
        description="The sender's open case this message continues: socialid's suggestion, "
        "or where a rep moved it.",
    )
    state: Literal["processed"] = "processed"
    received_at: datetime = Field(description="When socialid stored the delivery.")
    processed_at: datetime
    edited_at: datetime | None = Field(
        default=None, description="When the sender last edited it (the text is the edit's)."
    )
    withdrawn_at: datetime | None = Field(
        default=None,
        description="When the sender unsent or deleted it: its text, subject and "
        "attachments are gone.",
    )


class MessagePage(BaseModel):
    messages: list[StoredMessage]
    next_cursor: str | None = None


Done = tuple[StoredMessage, EventIn | None]


def replace_call(
    keys: KeySchema, raw: str | bytes, after: StoredMessage
) -> tuple[list[str], list[Arg]]:
    """KEYS and ARGV of ``replace_message.lua``: ``after`` in place of the message as it
    was read (``raw``), unless it changed since."""
    return [keys.message(after.id)], [etag_of(raw), after.model_dump_json(exclude_none=True)]


_REPLACE_ATTEMPTS = 8
_LAST_LOOKS = 20  # a conversation's newest messages a reply looks through for one not withdrawn


@dataclass
class Listed:
    """Other senders' messages that listed an erased customer as a candidate: how many
    changed, and the conversations of them all."""

    changed: int = 0
    conversations: set[str] = field(default_factory=set)


def without_candidate(
    stored: StoredMessage, customer_id: str, redactor: Redactor
) -> StoredMessage | None:
    """Pure: the message with the customer out of its candidates and every place its
    text names them redacted (mentions inside those places go, the others move with the
    text); None when nothing names them."""
    msg, res = stored.message, stored.resolution
    spans = redactor.spans(msg.text)
    sender = msg.sender.model_copy(
        update={
            f: redactor.redact(v)
            for f in ("display_name", "handle", "email", "location", "bio")
            if isinstance(v := getattr(msg.sender, f), str)
        }
    )
    message = msg.model_copy(
        update={
            "text": apply(msg.text, spans),
            "subject": None if msg.subject is None else redactor.redact(msg.subject),
            "sender": sender,
            "attachments": [
                a if a.name is None else a.model_copy(update={"name": redactor.redact(a.name)})
                for a in msg.attachments
            ],
        }
    )
    mentions = [
        m.model_copy(update={"start": moved(m.start, spans), "end": moved(m.end, spans)})
        for m in stored.mentions
        if not overlaps(m.start, m.end, spans) and not redactor.spans(m.value)
    ]
    resolution = res.model_copy(
        update={"candidates": [c for c in res.candidates if c.customer_id != customer_id]}
    )
    scrubbed = stored.model_copy(
        update={"message": message, "resolution": resolution, "mentions": mentions}
    )
    return None if scrubbed == stored else scrubbed


def new_conversation_id(message_id: str) -> str:
    """Derived from the message that opened it, so a retried message opens the same one."""
    return "conv_" + hashlib.blake2b(message_id.encode(), digest_size=12).hexdigest()


def thread_call(keys: KeySchema, message: InboundMessage, *, ttl: int) -> ScriptCall:
    """KEYS and ARGV of ``thread.lua``: the message's thread keys, kept ``ttl`` seconds."""
    own = new_conversation_id(message.message_id)
    return [keys.thread(k) for k in message.thread_keys], [ttl, own]


class MessageStore:
    def __init__(
        self,
        redis: aioredis.Redis,
        keys: KeySchema,
        *,
        thread_days: int,
        routing: Routing | None = None,
    ) -> None:
        self._routing = routing or Routing()
        self._redis = redis
        self._keys = keys
        self._thread_ttl = thread_days * 86_400
        self._thread = load_script(redis, "service.conversations", "thread.lua")
        self._replace = load_script(redis, "service.conversations", "replace_message.lua")

    def queue_thread(self, pipe: Pipeline, message: InboundMessage) -> bool:
        """Find or open the message's conversation as part of the caller's pipeline;
        False when the message has no thread key (it opens a conversation of its own).

        EVALSHA directly: a pipeline given the script object checks that the server has
        it on every execute, one more round trip per message. ``load_scripts`` loads it
        once; NoScriptError says when it must be loaded again.
        """
        if not message.thread_keys:
            return False
        keys, args = thread_call(self._keys, message, ttl=self._thread_ttl)
        pipe.evalsha(self._thread.sha, len(keys), *keys, *args)
        return True

    @property
    def routing(self) -> Routing:
        return self._routing

    async def load_scripts(self) -> None:
        await self._redis.script_load(self._thread.script)

    @staticmethod
    def conversation_of(message: InboundMessage, reply: bytes | str | None) -> str:
        """The conversation id from ``thread.lua``'s reply to ``queue_thread`` (None: it
        queued nothing)."""
        if reply is None:
            return new_conversation_id(message.message_id)
        return text(reply)

    async def get(self, message_id: str) -> StoredMessage | None:
        raw = await self._redis.get(self._keys.message(message_id))
        return None if raw is None else self._read(raw)

    def _read(self, raw: str | bytes) -> StoredMessage:
        try:
            return StoredMessage.model_validate_json(raw)
        except ValidationError as exc:
            raise StoreIntegrityError(
                f"stored message does not validate: {describe(exc)}"
            ) from None

    async def page(
        self,
        *,
        channel: str | None,
        status: ResolutionStatus | None,
        since: datetime | None,
        until: datetime | None,
        limit: int,
        cursor: str | None,
    ) -> MessagePage:
        """Newest first. The listing narrowed by channel (or else status) is read and the
        other filter applied to what it holds."""
        facet = f"ch:{channel}" if channel else (f"st:{status}" if status else "all")
        found: list[StoredMessage] = []
        last: tuple[float, str] | None = None
        async for batch in newest_first(
            self._redis, self._keys.messages(facet), since=since, until=until, cursor=cursor
        ):
            if len(found) == limit:
                break
            raws = await get_many(self._redis, [self._keys.message(m) for m, _ in batch])
            for (_, score), raw in zip(batch, raws, strict=True):
                if raw is None:
                    continue
                stored = self._read(raw)
                if status and stored.resolution.status != status:
                    continue
                found.append(stored)
                last = (score, stored.id)
                if len(found) == limit:
                    break
        more = last is not None and len(found) == limit
        next_cursor = encode_cursor(last[0], last[1]) if more and last else None
        return MessagePage(messages=found, next_cursor=next_cursor)

    async def of_customer(self, customer_id: str) -> list[StoredMessage]:
        """Every message resolved to the customer, oldest first (data-subject export)."""
        ids = members(await self._redis.zrange(self._keys.customer_messages(customer_id), 0, -1))
        return list((await self.many(ids)).values())

    async def erase_customer(self, customer_id: str) -> int:
        """Remove the messages resolved to the customer (their text is personal data) and
        the customer from their conversations; returns how many messages went."""
        k = self._keys
        stored = await self.of_customer(customer_id)
        ids = [s.id for s in stored]
        facets = [
            "all",
            *(f"ch:{c.value}" for c in Channel),
            *(f"st:{s}" for s in ("matched", "ambiguous", "no_match")),
        ]
        # Not one transaction: the keys are in many homes. Each command is idempotent,
        # and an erasure cut off answers an error, so it is asked again.
        async with self._redis.pipeline(transaction=False) as pipe:
            for s in stored:
                pipe.delete(k.message(s.id))
                # A name looked up for the sender (Messenger) goes with them.
                sender = s.message.sender.external_id
                pipe.delete(k.sender_name(s.message.channel.value, sender))
                pipe.zrem(k.conversation_messages(s.conversation_id), s.id)
                pipe.hdel(k.conversation(s.conversation_id), "customer_id")
            if ids:
                for facet in facets:
                    pipe.zrem(k.messages(facet), *ids)
            pipe.delete(k.customer_messages(customer_id))
            await pipe.execute()
        return len(ids)

    async def erase_candidate(self, customer_id: str, redactor: Redactor) -> Listed:
        """Take the customer out of every other sender's message that lists them as a
        candidate (their id and evidence), and redact what names them in its text; the
        answer holds those messages' conversations, whose logs may name them too."""
        listed = Listed()
        key = self._keys.customer_candidacies(customer_id)
        for message_id in members(await self._redis.zrange(key, 0, -1)):
            for _ in range(_REPLACE_ATTEMPTS):
                raw = await self._redis.get(self._keys.message(message_id))
                if raw is None:
                    break
                stored = self._read(raw)
                if stored.resolution.customer_id == customer_id:
                    break  # theirs after all: erased with their own messages
                listed.conversations.add(stored.conversation_id)
                scrubbed = without_candidate(stored, customer_id, redactor)
                if scrubbed is None:
                    break
                script_keys, args = replace_call(self._keys, raw, scrubbed)
                outcome = text(await self._replace(keys=script_keys, args=args))
                if outcome == "replaced":
                    listed.changed += 1
                if outcome != "changed":
                    break
            else:
                raise Contended
        return listed

    async def last_in(self, conversation_id: str) -> StoredMessage | None:
        """The conversation's newest message still there (what a reply answers), else its
        newest withdrawn one (a direct message reaches its sender all the same); None
        when it has none (erased)."""
        key = self._keys.conversation_messages(conversation_id)
        ids = members(await self._redis.zrange(key, 0, _LAST_LOOKS - 1, desc=True))
        found = list((await self.many(ids)).values())
        return next((m for m in found if m.withdrawn_at is None), found[0] if found else None)

    async def many(self, ids: list[str]) -> dict[str, StoredMessage]:
        """The stored messages among ``ids``, by id."""
        raws = await get_many(self._redis, [self._keys.message(i) for i in ids])
        return {i: self._read(r) for i, r in zip(ids, raws, strict=True) if r is not None}
