"""The conversation scripts' calls: one typed builder of each script's KEYS and ARGV
(the only code that knows their order, mirrored by the ``.lua`` headers), and one reader
of each reply, which turns a refusal into the ``ConversationError`` a caller sees."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel

from service.book.history import event_record
from service.errors import DomainError
from service.schemas import EventIn
from service.schemas.conversation import SendOutcome
from service.store.keynames import KeySchema
from service.store.outbox import outbox_args
from service.store.redistypes import text, texts

# What conversation_op.lua does; a reply is reply.lua's.
Operation = Literal["claim", "release", "close", "reopen", "note", "handoff", "priority"]
ScriptCall = tuple[list[str], list[str | int]]


def conversation_prelude(keys: KeySchema, sla: dict[str, int]) -> list[str]:
    """The seven ARGV values ``prelude(at)`` of ``_conversation.lua`` reads, in order."""
    p = keys.key_prefixes()
    return [
        p["queue"],
        p["rep"],
        p["status"],
        keys.live_channel(),
        json.dumps(sla),
        *outbox_args(keys),
    ]


def log_time() -> datetime:
    """The time an action is logged with: milliseconds, as the log's ISO text keeps it."""
    at = datetime.now(UTC)
    return at.replace(microsecond=at.microsecond // 1000 * 1000)


def _iso(at: datetime) -> str:
    return at.isoformat(timespec="milliseconds")


def _expected(version: int | None) -> str:
    return "" if version is None else str(version)


def op_call(
    keys: KeySchema,
    sla: dict[str, int],
    *,
    conversation_id: str,
    op: Operation,
    rep: str,
    version: int | None,
    at: datetime,
    text_: str = "",
    to_rep: str = "",
    to_team: str = "",
    ref: str = "",
) -> ScriptCall:
    """KEYS and ARGV of ``conversation_op.lua``."""
    return (
        [keys.conversation(conversation_id), keys.conversation_log(conversation_id)],
        [
            *conversation_prelude(keys, sla),
            conversation_id,
            rep,
            _expected(version),
            _iso(at),
            op,
            text_,
            to_rep,
            to_team,
            ref,
        ],
    )


class HistoryDue(BaseModel):
    """A reply's event for its customer's history, waiting on the conversation until it
    is added in the customer's home (``reply.lua``)."""

    customer_id: str
    event_id: str
    event: str  # its JSON, as _history.lua stores it
    score: int
    role: str


def reply_call(
    keys: KeySchema,
    sla: dict[str, int],
    *,
    conversation_id: str,
    rep: str,
    version: int | None,
    at: datetime,
    text_: str,
    reply_id: str,
    customer_id: str | None,
    channel: str | None,
) -> ScriptCall:
    """KEYS and ARGV of ``reply.lua``, for the conversation's customer and channel as
    read before the call (``customer_id`` None: the conversation has no customer)."""
    due = ""
    if customer_id:
        # The customer's history shows what the company said, on which channel.
        event = EventIn(
            id=reply_id,
            type="interaction",
            at=at,
            kind="reply",
            channel=channel,
            direction="outbound",
            summary=text_,
            by=rep,
        )
        event_id, event_json, score, role = event_record(event)
        due = HistoryDue(
            customer_id=customer_id, event_id=event_id, event=event_json, score=score, role=role
        ).model_dump_json()
    return (
        [keys.conversation(conversation_id), keys.conversation_log(conversation_id)],
        [
            *conversation_prelude(keys, sla),
            conversation_id,
            rep,
            _expected(version),
            _iso(at),
            text_,
            reply_id,
            customer_id or "",
            due,
        ],
    )


# The log entry of each send outcome.
SEND_ENTRY = {"sent": "reply_sent", "failed": "reply_failed", "off": "reply_send_off"}


def send_outcome_call(
    keys: KeySchema,
    sla: dict[str, int],
    *,
    conversation_id: str,
    rep: str,
    reply_id: str,
    outcome: SendOutcome,
) -> ScriptCall:
    """KEYS and ARGV of ``send_outcome.lua``."""
    return (
        [keys.conversation(conversation_id), keys.conversation_log(conversation_id)],
        [
            *conversation_prelude(keys, sla),
            conversation_id,
            rep,
            _iso(outcome.at),
            SEND_ENTRY[outcome.status],
            reply_id,
            outcome.provider_id or "",
            "" if outcome.provider_status is None else str(outcome.provider_status),
            outcome.reason or "",
        ],
    )


def rewrite_log_call(
    keys: KeySchema,
    conversation_id: str,
    read: list[tuple[str, dict[str, str]]],
    entries: list[tuple[str, dict[str, str]]],
) -> ScriptCall:
    """KEYS and ARGV of ``rewrite_log.lua``: the log as ``read`` (its length and last
    id, the condition) to be written again as ``entries``."""
    args: list[str | int] = [len(read), read[-1][0]]
    for entry_id, fields in entries:
        args += (entry_id, len(fields))
        for name, value in fields.items():
            args += (name, value)
    return [keys.conversation_log(conversation_id)], args


class ConversationError(DomainError):
    """A change that did not happen, and why."""

    def __init__(
        self, status: int, slug: str, detail: str, extensions: dict[str, Any] | None = None
    ) -> None:
        super().__init__(detail, status=status, slug=slug, extensions=extensions)


def op_outcome(reply: list[bytes | str]) -> int:
    """``conversation_op.lua``'s reply: the new version, or the error saying why not."""
    status, *rest = texts(reply)
    if status == "ok":
        return int(rest[0])
    if status == "missing":
        raise ConversationError(404, "conversation-not-found", "No conversation has this id.")
    if status == "conflict":
        owner, version = rest[0] or None, int(rest[1])
        who = f"{owner} owns it" if owner else "it changed"
        raise ConversationError(
            409,
            "conversation-conflict",
            f"Someone else acted first: {who} (version {version}).",
            {"owner": owner, "version": version},
        )
    if status == "not_owner":
        owner = rest[0] or None
        raise ConversationError(
            409,
            "not-owner",
            f"Only the owner may do this; the owner is {owner or 'nobody'}.",
            {"owner": owner, "version": int(rest[1])},
        )
    if status == "off_shift":
        raise ConversationError(
            409,
            "rep-off-shift",
            "The rep is off shift: start the shift (POST /v1/reps/{id}/shift/start) to take "
            "conversations on.",
            {"version": int(rest[0])},
        )
    raise ConversationError(
        409,
        "bad-transition",
        f"Not allowed while the conversation is {rest[0]}.",
        {"status": rest[0], "version": int(rest[1])},
    )


def reply_outcome(reply: list[bytes | str]) -> tuple[int, list[HistoryDue]] | None:
    """``reply.lua``'s reply: the new version and the history steps due; None when the
    conversation's customer changed since it was read (the event was built for another:
    build it again)."""
    if text(reply[0]) == "customer_changed":
        return None
    if text(reply[0]) != "ok":
        return op_outcome(reply), []  # raises why nothing was written
    return op_outcome(reply[:2]), [HistoryDue.model_validate_json(d) for d in reply[2:]]
