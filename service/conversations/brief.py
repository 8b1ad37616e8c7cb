"""What an incoming rep needs to carry a conversation on without asking the customer to
repeat anything: the context card, the thread so far in short form, the notes left by
earlier owners, and what the customer said elsewhere since the conversation opened."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from matchers.topics import TopicFound
from service.context import ContextCard
from service.context.continuation import with_case
from service.conversations.messages import StoredMessage
from service.schemas import Event
from service.schemas.context_card import CaseLink
from service.schemas.conversation import ConversationDetail

SHORT = 280


def short(value: str | None) -> str:
    value = " ".join((value or "").split())
    return value if len(value) <= SHORT else value[: SHORT - 1] + "…"


class ThreadLine(BaseModel):
    at: datetime
    direction: Literal["inbound", "outbound"]
    by: str | None = Field(default=None, description="The rep who replied.")
    message_id: str | None = Field(default=None, description="The customer's message.")
    text: str
    topic: TopicFound | None = Field(default=None, description="What a message is about.")
    case: CaseLink | None = Field(default=None, description="The open case it continues.")


class BriefNote(BaseModel):
    at: datetime
    by: str | None
    kind: Literal["note", "handoff"]
    to: str | None = None
    text: str


class Elsewhere(BaseModel):
    at: datetime
    channel: str | None
    text: str


class Brief(BaseModel):
    conversation: ConversationDetail
    context: ContextCard | None = None
    thread: list[ThreadLine]
    notes: list[BriefNote]
    elsewhere: list[Elsewhere] = Field(
        description="What the customer said on other channels since this conversation opened."
    )
    on_preferred_channel: bool | None = Field(
        default=None,
        description="Whether this conversation is on the channel the customer prefers "
        "(the card's preferred_channel); none when that is not known.",
    )


def build_brief(
    conversation: ConversationDetail,
    messages: dict[str, StoredMessage],
    card: ContextCard | None,
    since_opened: list[Event],
) -> Brief:
    """Pure: the brief from the conversation's log, its messages and the customer's
    history since it opened."""
    thread: list[ThreadLine] = []
    notes: list[BriefNote] = []
    for entry in conversation.log:
        if entry.type == "inbound" and entry.message_id in messages:
            stored = messages[entry.message_id]
            msg = stored.message
            thread.append(
                ThreadLine(
                    at=msg.sent_at,
                    direction="inbound",
                    message_id=stored.id,
                    text=short(msg.text),
                    topic=stored.topic,
                    case=stored.case,
                )
            )
        elif entry.type == "reply":
            thread.append(
                ThreadLine(at=entry.at, direction="outbound", by=entry.by, text=short(entry.text))
            )
        elif entry.type == "note" or (entry.type == "handed_off" and entry.text):
            notes.append(
                BriefNote(
                    at=entry.at,
                    by=entry.by,
                    kind="note" if entry.type == "note" else "handoff",
                    to=entry.to,
                    text=entry.text or "",
                )
            )
    elsewhere = [
        Elsewhere(at=e.at, channel=e.channel, text=short(e.summary))
        for e in since_opened
        if e.type == "interaction"
        and e.direction != "outbound"
        and (e.channel or "").lower() != conversation.channel
    ]
    cases = [line.case for line in thread if line.case]
    if card is not None and cases:
        card = with_case(card, cases[-1])
    prefers = card.preferred_channel if card else None
    return Brief(
        conversation=conversation,
        context=card,
        thread=thread,
        notes=notes,
        elsewhere=elsewhere,
        on_preferred_channel=None if prefers is None else prefers == conversation.channel,
    )
