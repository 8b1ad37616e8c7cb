"""Conversations and reps in Redis; every change through one atomic script."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import redis.asyncio as aioredis
from pydantic import ValidationError

from matchers.redact import Redactor
from service.book.customers import Contended
from service.conversations.scriptcalls import (
    ConversationError,
    Operation,
    log_time,
    op_call,
    op_outcome,
    reply_call,
    reply_outcome,
    rewrite_log_call,
    send_outcome_call,
)
from service.schemas import StoreIntegrityError, describe
from service.schemas.conversation import (
    TEAM_PATTERN,
    Conversation,
    ConversationDetail,
    LogEntry,
    Rep,
    RepIn,
    SendOutcome,
    ShiftEnded,
)
from service.settings import Routing
from service.store.keynames import KeySchema
from service.store.lua import load_script
from service.store.redistypes import members, stream_entries, text, text_map, text_or_none, texts

_LIST_LIMIT = 500
TEAM = re.compile(TEAM_PATTERN)
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
        self._rewrite = load_script(redis, "service.conversations", "rewrite_log.lua")
        self._send_outcome = load_script(redis, "service.conversations", "send_outcome.lua")

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
        """The owner's reply, logged with the customer's history event for it (same id,
        same time) in one script call; returns the new version, or raises why neither
        was written."""
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
            version_now = reply_outcome(await self._reply(keys=keys, args=args))
            if version_now is not None:
                return version_now
        raise ConversationError(
            409, "conversation-conflict", "The conversation kept changing; try again."
        )

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

    # -- reps and shifts -------------------------------------------------------------
    async def put_rep(self, rep_id: str, rep: RepIn) -> Rep:
        k = self._keys
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(k.rep(rep_id), mapping={"name": rep.name, "team": rep.team})
            pipe.hsetnx(k.rep(rep_id), "on_shift", "0")
            pipe.sadd(k.reps(), rep_id)
            await pipe.execute()
        found = await self.rep(rep_id)
        assert found is not None
        return found

    async def rep(self, rep_id: str) -> Rep | None:
        k = self._keys
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.hgetall(k.rep(rep_id))
            pipe.smembers(k.rep_conversations(rep_id))
            raw, owned = await pipe.execute()
        data = text_map(raw)
        if "team" not in data:
            return None
        return Rep(
            id=rep_id,
            name=data.get("name", ""),
            team=data["team"],
            on_shift=data.get("on_shift") == "1",
            shift_started_at=data.get("shift_started_at") or None,
            conversations=sorted(texts(owned)),
        )

    async def existing_rep(self, rep_id: str) -> Rep:
        found = await self.rep(rep_id)
        if found is None:
            raise ConversationError(404, "rep-not-found", f"No rep has the id {rep_id!r}.")
        return found

    async def shift_start(self, rep_id: str) -> Rep:
        await self.existing_rep(rep_id)
        at = datetime.now(UTC).isoformat(timespec="milliseconds")
        await self._redis.hset(
            self._keys.rep(rep_id), mapping={"on_shift": "1", "shift_started_at": at}
        )
        return await self.existing_rep(rep_id)

    async def shift_end(self, rep_id: str, handoff_to: str | None, note: str | None) -> ShiftEnded:
        """Off shift, and every conversation the rep owns handed over with the note: one
        atomic step per conversation, all in one round trip."""
        rep = await self.existing_rep(rep_id)
        to_rep, to_team = await self._target(rep, handoff_to)
        await self._redis.hset(self._keys.rep(rep_id), "on_shift", "0")
        if not rep.conversations:
            return ShiftEnded(rep=rep_id, to=to_rep or f"team:{to_team}", handed_off=[])
        # Rare and possibly the script's first use on this server: load it, then send
        # every hand-off at once.
        await self._redis.script_load(self._op.script)
        async with self._redis.pipeline(transaction=False) as pipe:
            for conversation_id in rep.conversations:
                keys, args = op_call(
                    self._keys,
                    self._routing.sla_ms,
                    conversation_id=conversation_id,
                    op="handoff",
                    rep=rep_id,
                    version=None,
                    at=log_time(),
                    text_=note or "",
                    to_rep=to_rep,
                    to_team=to_team,
                )
                pipe.evalsha(self._op.sha, len(keys), *keys, *args)
            replies = await pipe.execute()
        # A conversation another rep took meanwhile answers "conflict": not handed over.
        handed = [c for c, r in zip(rep.conversations, replies, strict=True) if text(r[0]) == "ok"]
        return ShiftEnded(rep=rep_id, to=to_rep or f"team:{to_team}", handed_off=handed)

    async def known_teams(self) -> set[str]:
        """The teams conversations are routed to, and those of the reps."""
        routing = self._routing
        teams = {routing.default_team, *routing.channel_teams.values()}
        reps = sorted(texts(await self._redis.smembers(self._keys.reps())))
        async with self._redis.pipeline(transaction=False) as pipe:
            for rep_id in reps:
                pipe.hget(self._keys.rep(rep_id), "team")
            teams.update(text(t) for t in await pipe.execute() if t)
        return teams

    async def _target(self, rep: Rep, handoff_to: str | None) -> tuple[str, str]:
        """(rep, team) a hand-off goes to: a rep who exists, or a team's queue."""
        if handoff_to is None:
            return "", rep.team
        if handoff_to.startswith("team:"):
            team = handoff_to.removeprefix("team:")
            if not TEAM.match(team):
                raise ConversationError(
                    422, "validation-failed", "handoff_to: team:<name>, letters and digits."
                )
            known = await self.known_teams()
            if team not in known:
                # Else the conversations wait in a queue nobody reads.
                raise ConversationError(
                    422,
                    "validation-failed",
                    f"handoff_to: no team {team!r}; teams are {', '.join(sorted(known))}.",
                )
            return "", team
        await self.existing_rep(handoff_to)
        return handoff_to, ""
