"""A sender's edits and withdrawals of their messages (unsend, delete, edit).

A withdrawn message loses its text, subject, attachments and mentions; its customer's
history keeps that something was withdrawn and when. An edit replaces the text and keeps
the message's time. A change that comes before its message (providers do not promise
order) waits under the message's origin key and is applied when the message comes.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import redis.asyncio as aioredis

from adapters.message import InboundMessage
from service.book.customers import Contended
from service.book.openitems import item_role
from service.conversations.messages import StoredMessage, replace_call
from service.schemas import EventIn
from service.store.keynames import KeySchema
from service.store.lua import Arg, load_script
from service.store.outbox import emit_call
from service.store.paging import ms
from service.store.reads import get_many
from service.store.redistypes import text, text_or_none

_ATTEMPTS = 20


def history_entry(stored: StoredMessage) -> EventIn:
    """The customer's history entry of an inbound message; its id is the message's, so a
    message processed twice is recorded once."""
    message = stored.message
    if stored.withdrawn_at is not None:
        summary = f"Withdrawn by the sender at {stored.withdrawn_at:%Y-%m-%d %H:%M} UTC."
    else:
        summary = (message.text or message.subject or "")[:10_000]
    return EventIn(
        id=stored.id,
        type="interaction",
        at=message.sent_at,
        kind=message.provider,
        channel=message.channel.value,
        direction="inbound",
        case_id=stored.case.case_id if stored.case else None,
        summary=summary or None,
    )


def amend_call(keys: KeySchema, customer_id: str, event: EventIn) -> tuple[list[str], list[Arg]]:
    """KEYS and ARGV of ``amend_event.lua``: the event replaced in the customer's history
    and attached to the case it names now."""
    stored = event.with_id()
    role = item_role(stored.id, stored, ms(stored.at))
    item = role[1] if role is not None and role[0] == "attach" else ""
    return [
        keys.customer_events(customer_id),
        keys.history(customer_id),
        keys.open_items(customer_id),
    ], [stored.id, stored.model_dump_json(), item]


def amended(stored: StoredMessage, change: InboundMessage) -> StoredMessage:
    """Pure: the message after its sender's change (a withdrawal is final: a later edit
    does not bring the text back)."""
    if stored.withdrawn_at is not None:
        return stored
    message = stored.message
    if change.change == "withdraw":
        gone = message.model_copy(update={"text": "", "subject": None, "attachments": []})
        return stored.model_copy(
            update={
                "message": gone,
                "mentions": [],
                "topic": None,
                "urgency": None,
                "withdrawn_at": change.sent_at,
            }
        )
    edited = message.model_copy(update={"text": change.text})
    # Mentions point into the text: those the edit left where they were stay.
    mentions = [m for m in stored.mentions if change.text[m.start : m.end] == m.value]
    return stored.model_copy(
        update={"message": edited, "mentions": mentions, "edited_at": change.sent_at}
    )


def withdrawn_event(after: StoredMessage, change: InboundMessage) -> str:
    """The message.withdrawn event's fields as JSON when ``change`` is the withdrawal
    the message carries, else "" (an edit, or a message another change withdrew). The
    same change applied again (a delivery claimed after a crash) gives it again: an
    event is sent at least once."""
    if change.change != "withdraw" or after.withdrawn_at != change.sent_at:
        return ""
    assert after.withdrawn_at is not None
    return json.dumps(
        {
            "message_id": after.id,
            "conversation_id": after.conversation_id,
            "channel": after.message.channel.value,
            "withdrawn_at": after.withdrawn_at.isoformat(),
        }
    )


class MessageChanges:
    def __init__(self, redis: aioredis.Redis, keys: KeySchema, *, pending_ttl: int) -> None:
        self._redis = redis
        self._keys = keys
        self._pending_ttl = pending_ttl
        self._replace = load_script(redis, "service.conversations", "replace_message.lua")
        self._amend_event = load_script(redis, "service.conversations", "amend_event.lua")
        self._emit = load_script(redis, "service.store", "emit.lua")

    async def apply(self, change: InboundMessage) -> bool:
        """Apply a change to its stored message; False when the message has not come yet
        (the change then waits for it)."""
        found = await self._redis.get(self._keys.message_origin(change.origin_key))
        if found is None:
            await self._wait(change)
            return False
        key = self._keys.message(text(found))
        for _ in range(_ATTEMPTS):
            raw = await self._redis.get(key)
            if raw is None:
                return True  # erased since: nothing left to change
            stored = StoredMessage.model_validate_json(raw)
            after = amended(stored, change)
            # Three steps, three homes: the message, its customer's history, the desk's
            # outbox. A worker that dies between them leaves the delivery to be claimed
            # and the change applied again, each step as idempotent as the first.
            message_keys, message_args = replace_call(self._keys, raw, after)
            outcome = await self._replace(keys=message_keys, args=message_args)
            if text(outcome) == "changed":
                continue
            if text(outcome) == "missing":
                return True
            customer = stored.resolution.customer_id
            if customer:
                event_keys, event_args = amend_call(self._keys, customer, history_entry(after))
                await self._amend_event(keys=event_keys, args=event_args)
            if fields := withdrawn_event(after, change):
                keys, args = emit_call(self._keys, "message.withdrawn", fields)
                await self._emit(keys=keys, args=args)
            return True
        raise Contended

    async def _wait(self, change: InboundMessage) -> None:
        """Keep the change for its message; a withdrawal outranks an edit."""
        key = self._keys.pending_change(change.origin_key)
        if change.change == "edit":
            waiting = text_or_none(await self._redis.get(key))
            if waiting is not None and InboundMessage.model_validate_json(waiting).change == (
                "withdraw"
            ):
                return
        await self._redis.set(key, change.model_dump_json(), ex=self._pending_ttl)

    async def waiting(self, messages: Sequence[InboundMessage]) -> dict[str, InboundMessage]:
        """The changes that came before these messages, by origin key."""
        if not messages:
            return {}
        origins = [m.origin_key for m in messages]
        raws = await get_many(self._redis, [self._keys.pending_change(o) for o in origins])
        return {
            origin: InboundMessage.model_validate_json(raw)
            for origin, raw in zip(origins, raws, strict=True)
            if raw is not None
        }

    async def remember(self, stored: Sequence[StoredMessage], applied: set[str]) -> None:
        """Where each new message is, for its later edits and withdrawal; the waiting
        changes ``applied`` to them (their origin keys) go."""
        if not stored:
            return
        async with self._redis.pipeline(transaction=False) as pipe:
            for s in stored:
                pipe.set(self._keys.message_origin(s.message.origin_key), s.id, nx=True)
            if applied:
                pipe.delete(*(self._keys.pending_change(o) for o in applied))
            await pipe.execute()
