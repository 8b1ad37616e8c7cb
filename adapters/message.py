"""The typed message every adapter produces, whatever the provider's payload."""

from __future__ import annotations

import hashlib
from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, Field


class Channel(StrEnum):
    TWITTER = "twitter"
    FACEBOOK = "facebook"
    INSTAGRAM = "instagram"
    FORUM = "forum"
    EMAIL = "email"


class PayloadError(ValueError):
    """The payload is not what the provider documents: the delivery goes to the dead
    letters with this reason (never the payload itself: it holds personal data)."""


class Sender(BaseModel, frozen=True):
    external_id: str = Field(min_length=1, description="The provider's id of the sender.")
    handle: str | None = None
    display_name: str | None = None
    email: str | None = None
    location: str | None = None
    bio: str | None = None
    followers: int | None = Field(
        default=None, ge=0, description="The sender's public audience, where the payload says."
    )


class Attachment(BaseModel, frozen=True):
    kind: str | None = None
    content_type: str | None = None
    name: str | None = None
    url: str | None = None
    size: int | None = None


class ReplyRef(BaseModel, frozen=True):
    """What answering the message on its own channel takes besides its sender (the
    recipient) and its event id (the message answered)."""

    site: str | None = Field(default=None, description="Discourse: the instance's URL.")
    topic_id: str | None = Field(default=None, description="Discourse: the topic.")
    post_number: int | None = Field(default=None, description="Discourse: the post's number.")
    references: list[str] = Field(
        default_factory=list,
        description="E-mail: the Message-IDs of the thread before the message, oldest first.",
    )


class InboundMessage(BaseModel, frozen=True):
    channel: Channel
    provider: str = Field(description="Which webhook format it came in (tweet, dm, ...).")
    event_id: str = Field(description="The provider's id of the message or event.")
    dedup_key: str = Field(description="Stable across the provider's retries.")
    sender: Sender
    text: str = ""
    subject: str | None = None
    sent_at: datetime
    private: bool = Field(description="A direct message or e-mail rather than a public post.")
    thread_keys: list[str] = Field(
        default_factory=list,
        description="Keys shared by messages of one conversation (a DM pair, a reply "
        "chain, a page post, a forum topic, an e-mail References chain).",
    )
    attachments: list[Attachment] = Field(default_factory=list)
    likes: int | None = Field(
        default=None, ge=0, description="Likes and shares of a public post, where the payload says."
    )
    change: Literal["new", "edit", "withdraw"] = Field(
        default="new",
        description="new: a message; edit: new text for the message ``origin`` names; "
        "withdraw: the sender unsent or deleted it.",
    )
    reply_ref: ReplyRef | None = Field(
        default=None, description="What a reply on the channel needs, where the ids above lack it."
    )
    origin: str | None = Field(
        default=None,
        description="A stable key of the provider's message that this one is or changes "
        "(the same for the message, its edits and its withdrawal); None: its dedup_key.",
    )

    @property
    def origin_key(self) -> str:
        return self.origin or self.dedup_key

    @property
    def message_id(self) -> str:
        """socialid's id of the message: the same for every retry of its delivery."""
        digest = hashlib.blake2b(self.dedup_key.encode(), digest_size=12).hexdigest()
        return f"msg_{digest}"
