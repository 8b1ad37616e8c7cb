"""Forums: Discourse webhooks, and a documented generic JSON for other forum software."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ValidationError

from adapters.attachments import discourse_uploads
from adapters.message import Channel, InboundMessage, PayloadError, ReplyRef, Sender
from adapters.payload import json_object
from adapters.signatures import matches, sha256_hex

SIGNATURE_HEADER = "X-Discourse-Event-Signature"
EVENT_HEADER = "X-Discourse-Event"
INSTANCE_HEADER = "X-Discourse-Instance"
_POST_EVENTS = frozenset({"post_created", "post_edited", "post_destroyed", "topic_created"})
# What each event does to the post its id names.
_CHANGES: dict[str, Literal["new", "edit", "withdraw"]] = {
    "post_edited": "edit",
    "post_destroyed": "withdraw",
}


def verify(body: bytes, header: str | None, secret: str) -> bool:
    return matches(sha256_hex(secret, body), header)


def _when(value: Any) -> datetime:
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise PayloadError("a post has no readable created_at") from None


def parse(body: bytes, event: str | None, instance: str | None) -> list[InboundMessage]:
    """Posts from ``post_created``/``post_edited``/``topic_created``; pings and other
    events carry no customer message."""
    payload = json_object(body)
    if event not in _POST_EVENTS:
        return []
    post = payload.get("post")
    if not isinstance(post, dict):
        if event == "topic_created":
            return []  # the topic's first post arrives as post_created
        raise PayloadError("the post object is missing")
    post_id, user = post.get("id"), post.get("user_id")
    topic = post.get("topic_id")
    if not isinstance(post_id, int) or not isinstance(topic, int) or user is None:
        raise PayloadError("a post has no id, topic_id or user_id")
    site = (instance or "discourse").rstrip("/")
    try:
        site.encode()  # aiohttp hands a header's bytes that are not UTF-8 over as surrogates
    except UnicodeEncodeError:
        raise PayloadError(f"{INSTANCE_HEADER} is not UTF-8") from None
    updated = str(post.get("updated_at") or post.get("created_at") or "")
    number = post.get("post_number")
    return [
        InboundMessage(
            channel=Channel.FORUM,
            provider="discourse",
            event_id=str(post_id),
            dedup_key=f"forum:{site}:{event}:{post_id}:{updated}",
            origin=f"forum:{site}:post:{post_id}",
            change=_CHANGES.get(str(event), "new"),
            sender=Sender(
                external_id=f"{site}/u/{user}",
                handle=str(post.get("username") or "") or None,
                display_name=str(post.get("name") or "") or None,
            ),
            text=str(post.get("raw") or ""),
            subject=str(post.get("topic_title") or "") or None,
            sent_at=_when(post.get("created_at")),
            private=post.get("topic_archetype") == "private_message",
            thread_keys=[f"forum:{site}:topic:{topic}"],
            attachments=discourse_uploads(str(post.get("raw") or ""), post.get("cooked"), site),
            reply_ref=ReplyRef(
                site=site,
                topic_id=str(topic),
                post_number=number if isinstance(number, int) and number > 0 else None,
            ),
        )
    ]


class GenericPost(BaseModel, extra="forbid"):
    """The generic forum format (for forum software other than Discourse)."""

    forum: str
    post_id: str
    topic_id: str
    user_id: str
    username: str | None = None
    name: str | None = None
    title: str | None = None
    text: str
    created_at: datetime
    updated_at: datetime | None = None
    private: bool = False


def parse_generic(body: bytes) -> list[InboundMessage]:
    try:
        post = GenericPost.model_validate_json(body)
    except ValidationError as exc:
        raise PayloadError(f"not the generic forum format: {exc.error_count()} errors") from None
    created = post.created_at if post.created_at.tzinfo else post.created_at.replace(tzinfo=UTC)
    updated = (post.updated_at or created).isoformat()
    return [
        InboundMessage(
            channel=Channel.FORUM,
            provider="generic",
            event_id=post.post_id,
            dedup_key=f"forum:{post.forum}:post:{post.post_id}:{updated}",
            sender=Sender(
                external_id=f"{post.forum}/u/{post.user_id}",
                handle=post.username,
                display_name=post.name,
            ),
            text=post.text,
            subject=post.title,
            sent_at=created,
            private=post.private,
            thread_keys=[f"forum:{post.forum}:topic:{post.topic_id}"],
        )
    ]
