"""Conversations in Redis; every change through one atomic script on the desk."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import redis.asyncio as aioredis
from pydantic import ValidationError

from matchers.redact import Redactor
from service.book.customers import Contended
from service.book.history import add_records_call
from service.conversations.reps import RepStore
from service.conversations.scriptcalls import (
    ConversationError,
    HistoryDue,
    Operation,
    log_time,
    op_call,
    op_outcome,
    reply_call,
    reply_outcome,
    rewrite_log_call,
    send_outcome_call,
)
from service.ops.logs import get_logger
from service.schemas import StoreIntegrityError, describe
from service.schemas.conversation import (
    Conversation,
    ConversationDetail,
    LogEntry,
    SendOutcome,
)
from service.settings import Routing
from service.store.keynames import KeySchema
from service.store.lua import load_script, run_pipelined
from service.store.redistypes import members, stream_entries, text, text_map, text_or_none, texts

_LIST_LIMIT = 500
log = get_logger("socialid.conversations")
# The conversation's customer changes at most twice (first resolved, then erased): a
# reply that found it changed mid-way reads it again, this many times at most.
_REPLY_ATTEMPTS = 3
_REWRITE_ATTEMPTS = 8
# What a log entry's fields say about the conversation itself (its kind, time, the reps
# and message it names): the rest is free text a rep wrote.
_STRUCTURAL = frozenset(
    {
        "type",
        "at",
        "id",
        "message_id",
        "by",
        "to",
        "owner",
        "reply_id",
        "provider_id",
        "provider_status",
    }
)


@dataclass(frozen=True, slots=True)
class LoggedReply:
    """A reply as its conversation's log holds it, and whether the customer got it."""

    text: str
    sent: bool


def logged_reply(entries: list[tuple[str, dict[str, str]]], reply_id: str) -> LoggedReply | None:
    """Pure: the reply ``reply_id`` in a conversation's log entries, None when absent."""
    text_, sent = None, False
    for _, fields in entries:
        if fields.get("type") == "reply" and fields.get("id") == reply_id:
            text_ = fields.get("text", "")
        elif fields.get("type") == "reply_sent" and fields.get("reply_id") == reply_id:
            sent = True
    return None if text_ is None else LoggedReply(text_, sent)


def _log_entry(entry_id: str, fields: dict[str, str]) -> LogEntry:
    # A reply keeps its own id in "id", which the entry's stream id takes the place of:
    # it is shown as reply_id, the name its send outcomes give it.
    reply = {"reply_id": fields["id"]} if fields.get("type") == "reply" and "id" in fields else {}
    return LogEntry.model_validate({**fields, **reply, "id": entry_id})


def redacted_log(
    entries: list[tuple[str, dict[str, str]]], redactor: Redactor
) -> list[tuple[str, dict[str, str]]] | None:
    """Pure: the log with every place its free text names the person redacted; None
    when nothing names them."""
    out = [
        (
            entry_id,
            {k: v if k in _STRUCTURAL else redactor.redact(v) for k, v in fields.items()},
        )
        for entry_id, fields in entries
    ]
    return None if out == entries else out


def _conversation(conversation_id: str, raw: dict[str, str]) -> Conversation:
    data: dict[str, Any] = {k: v for k, v in raw.items() if v != ""}
    if "sla_due" in data:
        data["sla_due"] = datetime.fromtimestamp(int(data["sla_due"]) / 1000, UTC)
    try:
        return Conversation.model_validate({**data, "id": conversation_id})
    except ValidationError as exc:
        raise StoreIntegrityError(
            f"stored conversation does not validate: {describe(exc)}"
        ) from None


class ConversationStore:
    def __init__(self, redis: aioredis.Redis, keys: KeySchema, routing: Routing) -> None:
        self._redis = redis
        self._keys = keys
        self._routing = routing
        self._op = load_script(redis, "service.conversations", "conversation_op.lua")
        self._reply = load_script(redis, "service.conversations", "reply.lua")
        self._add_events = load_script(redis, "service.book", "add_events.lua")
        self._rewrite = load_script(redis, "service.conversations", "rewrite_log.lua")
        self._send_outcome = load_script(redis, "service.conversations", "send_outcome.lua")
        self.reps = RepStore(redis, keys, routing)

    # -- reading ---------------------------------------------------------------------
    async def get(self, conversation_id: str) -> ConversationDetail | None:
        k = self._keys
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.hgetall(k.conversation(conversation_id))
            pipe.xrange(k.conversation_log(conversation_id))
            head, log = await pipe.execute()
        raw = text_map(head)
        if "status" not in raw:
            return None
        base = _conversation(conversation_id, raw)
        entries = [_log_entry(entry_id, fields) for entry_id, fields in stream_entries(log)]
        return ConversationDetail(**base.model_dump(), log=entries)

    async def many(self, ids: list[str]) -> list[Conversation]:
        async with self._redis.pipeline(transaction=False) as pipe:
            for conversation_id in ids:
                pipe.hgetall(self._keys.conversation(conversation_id))
            raws = [text_map(r) for r in await pipe.execute()]
        return [_conversation(i, r) for i, r in zip(ids, raws, strict=True) if "status" in r]

    async def queue(self, team: str, limit: int) -> list[Conversation]:
        """The team's conversations not closed, the most urgent (SLA due first) first."""
        ids = members(await self._redis.zrange(self._keys.team_queue(team), 0, limit - 1))
        return await self.many(ids)

    async def listed(self, owner: str | None, status: str | None, limit: int) -> list[Conversation]:
        """By owner (then filtered by status) or by status, most recent activity first."""
        if owner is not None:
            ids = sorted(texts(await self._redis.smembers(self._keys.rep_conversations(owner))))
        elif status is not None:
            key = self._keys.conversations_by_status(status)
            ids = members(await self._redis.zrange(key, 0, _LIST_LIMIT - 1, desc=True))
        else:
            ids = []
            for each in ("new", "open", "waiting_on_customer"):
                key = self._keys.conversations_by_status(each)
                ids += members(await self._redis.zrange(key, 0, _LIST_LIMIT - 1, desc=True))
        found = await self.many(ids)
        if status is not None:
            found = [c for c in found if c.status == status]
        return found[:limit]

    # -- acting ----------------------------------------------------------------------
    async def act(
        self,
        conversation_id: str,
        op: Operation,
        rep: str,
        *,
        version: int | None = None,
        text_: str = "",
        to_rep: str = "",
        to_team: str = "",
        ref: str = "",
    ) -> int:
        """Apply one operation; returns the new version, or raises why it did not."""
        keys, args = op_call(
            self._keys,
            self._routing.sla_ms,
            conversation_id=conversation_id,
            op=op,
            rep=rep,
            version=version,
            at=log_time(),
            text_=text_,
            to_rep=to_rep,
            to_team=to_team,
            ref=ref,
        )
        return op_outcome(await self._op(keys=keys, args=args))

    async def reply(
        self, conversation_id: str, rep: str, *, version: int | None, text_: str, reply_id: str
    ) -> int:
        """The owner's reply, logged, then its event (same id, same time) added to the
        customer's history; returns the new version, or raises why nothing was written.
        If the history step fails, the reply stands and its event waits on the
        conversation for the next reply (``reply.lua``)."""
        conv = self._keys.conversation(conversation_id)
        for _ in range(_REPLY_ATTEMPTS):
            customer_id, channel = (
                text_or_none(v) for v in await self._redis.hmget(conv, ["customer_id", "channel"])
            )
            keys, args = reply_call(
                self._keys,
                self._routing.sla_ms,
                conversation_id=conversation_id,
                rep=rep,
                version=version,
                at=log_time(),
                text_=text_,
                reply_id=reply_id,
                customer_id=customer_id,
                channel=channel,
            )
            outcome = reply_outcome(await self._reply(keys=keys, args=args))
            if outcome is not None:
                version_now, due = outcome
                try:
                    await self._add_due(conv, due)
                except Exception as exc:
                    # The reply stands (it may be on its way to the customer): its event
                    # waits on the conversation for the next reply, rather than a failed
                    # answer that a rep would retry into a second reply.
                    log.warning("reply_history_due", error=type(exc).__name__)
                return version_now
        raise ConversationError(
            409, "conversation-conflict", "The conversation kept changing; try again."
        )

    async def _add_due(self, conv: str, due: list[HistoryDue]) -> None:
        """The history steps a reply left due, taken (each in its customer's home; an
        event whose customer is gone is dropped), then cleared from the conversation."""
        if not due:
            return
        records = [
            add_records_call(self._keys, d.customer_id, [(d.event_id, d.event, d.score, d.role)])
            for d in due
        ]
        replies = await run_pipelined(self._redis, [(self._add_events, k, a) for k, a in records])
        done = [d for d, r in zip(due, replies, strict=True) if not isinstance(r, Exception)]
        if done:
            await self._redis.hdel(conv, *(f"due:{d.event_id}" for d in done))
        for reply in replies:
            if isinstance(reply, Exception):
                raise reply

    async def logged_reply(self, conversation_id: str, reply_id: str) -> LoggedReply | None:
        """The reply, from the conversation's log (None: the log has no such reply)."""
        log = await self._redis.xrange(self._keys.conversation_log(conversation_id))
        return logged_reply(stream_entries(log), reply_id)

    async def record_send(
        self, conversation_id: str, rep: str, reply_id: str, outcome: SendOutcome
    ) -> bool:
        """Log what became of sending the reply; False when the conversation is gone."""
        keys, args = send_outcome_call(
            self._keys,
            self._routing.sla_ms,
            conversation_id=conversation_id,
            rep=rep,
            reply_id=reply_id,
            outcome=outcome,
        )
        return text(await self._send_outcome(keys=keys, args=args)) == "ok"

    async def erase_of(self, customer_id: str, conversation_ids: set[str]) -> int:
        """Delete the conversations that are the customer's (erasure): their state, log
        (replies and notes may repeat what the customer said) and every listing."""
        k = self._keys
        ids = sorted(conversation_ids)
        async with self._redis.pipeline(transaction=False) as pipe:
            for conversation_id in ids:
                pipe.hmget(
                    k.conversation(conversation_id), "customer_id", "team", "owner", "status"
                )
            heads = await pipe.execute()
        theirs = [(c, h) for c, h in zip(ids, heads, strict=True) if h[0] == customer_id]
        async with self._redis.pipeline(transaction=True) as pipe:
            for conversation_id, (_, team, owner, status) in theirs:
                pipe.delete(
                    k.conversation(conversation_id),
                    k.conversation_log(conversation_id),
                    k.conversation_messages(conversation_id),
                )
                if team:
                    pipe.zrem(k.team_queue(team), conversation_id)
                if owner:
                    pipe.srem(k.rep_conversations(owner), conversation_id)
                if status:
                    pipe.zrem(k.conversations_by_status(status), conversation_id)
            await pipe.execute()
        return len(theirs)

    async def redact_logs(self, conversation_ids: set[str], redactor: Redactor) -> int:
        """Redact what names a person in the logs of others' conversations (an erased
        customer whom their messages listed as a candidate): rep notes, replies and
        hand-off notes. Answers how many logs changed."""
        changed = 0
        for conversation_id in sorted(conversation_ids):
            key = self._keys.conversation_log(conversation_id)
            for _ in range(_REWRITE_ATTEMPTS):
                read = stream_entries(await self._redis.xrange(key))
                entries = redacted_log(read, redactor) if read else None
                if entries is None:
                    break
                keys, args = rewrite_log_call(self._keys, conversation_id, read, entries)
                if text(await self._rewrite(keys=keys, args=args)) == "rewritten":
                    changed += 1
                    break
            else:
                raise Contended
        return changed
