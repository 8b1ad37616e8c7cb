"""Conversations, their logs, reps and the requests that act on them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

from service.schemas.fields import LongText, ShortText, Strict

Status = Literal["new", "open", "waiting_on_customer", "closed"]
Priority = Literal["low", "normal", "high", "urgent"]
# Names that become part of key names: no separators, braces or spaces.
REP_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$"
RepId = Annotated[str, StringConstraints(pattern=REP_ID_PATTERN)]
TEAM_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
TeamName = Annotated[str, StringConstraints(pattern=TEAM_PATTERN)]


class Conversation(BaseModel):
    id: str
    channel: str
    customer_id: str | None = None
    status: Status
    owner: str | None = Field(default=None, description="The rep working it, if any.")
    last_owner: str | None = None
    team: str
    priority: Priority = "normal"
    priority_reason: str | None = Field(
        default=None,
        description="Why socialid raised the priority, when it did: the urgency of a message.",
    )
    created_at: datetime
    last_inbound_at: datetime | None = None
    last_outbound_at: datetime | None = None
    sla_due: datetime | None = Field(default=None, description="When a rep must have answered.")
    version: int = Field(description="Send it back (If-Match or `version`) to act on it.")


class LogEntry(BaseModel):
    """One thing that happened in a conversation, in order."""

    id: str
    type: Literal[
        "inbound",
        "reply",
        "note",
        "claimed",
        "released",
        "handed_off",
        "closed",
        "reopened",
        "priority",
        "reply_sent",
        "reply_failed",
        "reply_send_off",
    ]
    at: datetime
    received_at: datetime | None = Field(
        default=None,
        description="Inbound: when socialid stored the delivery (`at` is the provider's time).",
    )
    by: str | None = None
    text: str | None = None
    message_id: str | None = None
    to: str | None = Field(default=None, description="Hand-offs: a rep, or team:<name>.")
    owner: str | None = None
    reply_id: str | None = Field(
        default=None, description="Replies and their send outcomes: the reply's id."
    )
    provider_id: str | None = Field(
        default=None, description="reply_sent: the provider's id of the message it made."
    )
    provider_status: int | None = Field(
        default=None, description="Send outcomes: the provider's HTTP status or SMTP code."
    )
    reason: str | None = Field(
        default=None,
        description="reply_failed, reply_send_off: why it did not reach them; priority by "
        "socialid: why it was raised (the message's urgency).",
    )


SendStatus = Literal["sent", "failed", "off"]


class SendOutcome(BaseModel):
    """What became of sending a reply to the customer."""

    status: SendStatus = Field(
        description="sent: the provider took it; failed: the provider refused it or did not "
        "answer (retry with POST .../replies/{reply_id}/send); off: the channel's send is "
        "not configured, or this kind of message cannot be answered on its channel."
    )
    channel: str
    at: datetime
    provider_id: str | None = Field(
        default=None, description="The provider's id of the message sent (a DM event, a post)."
    )
    provider_status: int | None = Field(
        default=None, description="The provider's HTTP status, or the SMTP reply code."
    )
    reason: str | None = Field(default=None, description="Why it failed or is off.")


class ConversationDetail(Conversation):
    log: list[LogEntry]

    def head(self) -> Conversation:
        """The conversation without its log (what an action answers with)."""
        return Conversation(**self.model_dump(exclude={"log"}))


class ConversationList(BaseModel):
    conversations: list[Conversation]


class RepIn(Strict):
    name: ShortText
    team: TeamName


class Rep(BaseModel):
    id: str
    name: str
    team: str
    on_shift: bool
    shift_started_at: datetime | None = None
    conversations: list[str] = Field(description="Conversations the rep owns.")


class Act(Strict):
    """Who acts, and the version they read (optional; If-Match works too)."""

    rep: RepId | None = Field(
        default=None,
        description="The rep who acts: required with an admin or integration key, implied "
        "by a key bound to a rep (and refused when it names another).",
    )
    version: int | None = None

    def argument(self) -> str:
        """What the operation carries besides who acts (a text, a priority)."""
        return ""


class WithText(Act):
    text: LongText = Field(min_length=1)

    def argument(self) -> str:
        return self.text


class ReplyIn(WithText):
    send: bool = Field(
        default=False,
        description="Also send it to the customer on the conversation's channel; false: "
        "record it only (the team answered on the channel itself).",
    )


class SetPriority(Act):
    priority: Priority

    def argument(self) -> str:
        return self.priority


class ShiftEnd(Strict):
    handoff_to: str | None = Field(
        default=None,
        description="A rep id, or team:<name>; absent: the rep's own team queue.",
        max_length=80,
    )
    note: LongText | None = Field(default=None, description="Left on every conversation.")


class ShiftEnded(BaseModel):
    rep: str
    to: str
    handed_off: list[str] = Field(description="The conversations handed over.")
