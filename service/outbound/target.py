"""Whom a reply goes to, and what it answers: read from the customer's last message."""

from __future__ import annotations

from dataclasses import dataclass, field

from adapters.message import Channel, InboundMessage, ReplyRef


@dataclass(frozen=True, slots=True)
class ReplyTarget:
    channel: Channel
    kind: str  # the webhook format the message came in: dm, tweet, post, message, feed, ...
    recipient: str  # the provider's id of the customer, or their e-mail address
    answers: str  # the provider's id of the message answered: a tweet, a comment, a Message-ID
    subject: str | None = None
    ref: ReplyRef = field(default_factory=ReplyRef)

    @classmethod
    def of(cls, message: InboundMessage) -> ReplyTarget:
        recipient = message.sender.external_id
        if message.channel is Channel.EMAIL:
            recipient = message.sender.email or recipient
        return cls(
            channel=message.channel,
            kind=message.provider,
            recipient=recipient,
            answers=message.event_id,
            subject=message.subject,
            ref=message.reply_ref or ReplyRef(),
        )
