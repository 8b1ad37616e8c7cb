"""Twitter/X: the Account Activity API (tweets, direct messages) and the newer X
Activity API envelope (``dm.received``, ``post.mention.create``)."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any

from adapters.attachments import tweet_media
from adapters.message import Channel, InboundMessage, PayloadError, Sender
from adapters.payload import items, json_object, obj
from adapters.signatures import hmac_sha256, matches, sha256_base64

SIGNATURE_HEADER = "x-twitter-webhooks-signature"
_CREATED_AT = "%a %b %d %H:%M:%S %z %Y"


def crc_response(crc_token: str, consumer_secret: str) -> dict[str, str]:
    """The answer to X's challenge: proves we hold the consumer secret."""
    digest = hmac_sha256(consumer_secret, crc_token.encode())
    return {"response_token": "sha256=" + base64.b64encode(digest).decode()}


def verify(body: bytes, header: str | None, consumer_secret: str) -> bool:
    return matches(sha256_base64(consumer_secret, body), header)


def _str(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, (str, int)) and not isinstance(value, bool):
        return str(value)
    raise PayloadError("an id or text field has the wrong type")


def _ms(value: Any) -> datetime:
    try:
        return datetime.fromtimestamp(int(str(value)) / 1000, UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        raise PayloadError("a timestamp is not milliseconds since the epoch") from None


def parse(body: bytes) -> list[InboundMessage]:
    """The customer messages in one delivery; the account's own activity is dropped."""
    payload = json_object(body)
    if "data" in payload and "for_user_id" not in payload:
        return _activity(obj(payload["data"], "data"))
    own = _str(payload.get("for_user_id"))
    if own is None:
        raise PayloadError("for_user_id is missing")
    users = obj(payload.get("users") or {}, "users")
    messages = [
        m
        for tweet in items(payload.get("tweet_create_events"), "tweet_create_events")
        if (m := _tweet(obj(tweet, "a tweet"), own)) is not None
    ]
    messages += [
        m
        for event in items(payload.get("direct_message_events"), "direct_message_events")
        if (m := _dm(obj(event, "a direct message"), own, users)) is not None
    ]
    messages += [
        m
        for event in items(payload.get("tweet_delete_events"), "tweet_delete_events")
        if (m := _deleted(obj(event, "a tweet deletion"), own)) is not None
    ]
    return messages


def _deleted(event: dict[str, Any], own: str) -> InboundMessage | None:
    """A tweet its author deleted: the stored one is withdrawn."""
    status = obj(event.get("status") or {}, "a deletion's status")
    tweet_id, user_id = _str(status.get("id")), _str(status.get("user_id"))
    if not tweet_id or not user_id:
        raise PayloadError("a tweet deletion has no status id or user_id")
    if user_id == own:
        return None
    return InboundMessage(
        channel=Channel.TWITTER,
        provider="tweet",
        event_id=tweet_id,
        dedup_key=f"twitter:{own}:tweet:{tweet_id}:deleted",
        origin=f"twitter:{own}:tweet:{tweet_id}",
        change="withdraw",
        sender=Sender(external_id=user_id),
        sent_at=_ms(event.get("timestamp_ms")),
        private=False,
    )


def _user(user: dict[str, Any]) -> Sender:
    external_id = _str(user.get("id_str") or user.get("id"))
    if not external_id:
        raise PayloadError("a user has no id")
    return Sender(
        external_id=external_id,
        handle=_str(user.get("screen_name") or user.get("username")),
        display_name=_str(user.get("name")),
        location=_str(user.get("location")),
        bio=_str(user.get("description")),
        followers=_count(user.get("followers_count")),
    )


def _count(value: object) -> int | None:
    """A count from the payload; anything else (absent, negative, text) is no count."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _tweet(tweet: dict[str, Any], own: str) -> InboundMessage | None:
    sender = _user(obj(tweet.get("user"), "a tweet's user"))
    if sender.external_id == own:
        return None  # the account's own post, echoed back
    tweet_id = _str(tweet.get("id_str"))
    if not tweet_id:
        raise PayloadError("a tweet has no id_str")
    extended = tweet.get("extended_tweet")
    full = _str(extended.get("full_text")) if isinstance(extended, dict) else None
    text = full or _str(tweet.get("text")) or ""
    if "timestamp_ms" in tweet:
        sent_at = _ms(tweet["timestamp_ms"])
    else:
        try:
            sent_at = datetime.strptime(str(tweet.get("created_at")), _CREATED_AT)
        except ValueError:
            raise PayloadError("a tweet has no readable time") from None
    reply_to = _str(tweet.get("in_reply_to_status_id_str"))
    media = tweet_media(extended if isinstance(extended, dict) else {}) or tweet_media(tweet)
    return InboundMessage(
        channel=Channel.TWITTER,
        provider="tweet",
        event_id=tweet_id,
        dedup_key=f"twitter:{own}:tweet:{tweet_id}",
        sender=sender,
        text=text,
        sent_at=sent_at,
        private=False,
        # A reply chain is one conversation: the tweet itself and what it answers.
        thread_keys=[
            f"twitter:status:{tweet_id}",
            *([f"twitter:status:{reply_to}"] if reply_to else []),
        ],
        attachments=media,
        likes=_likes(tweet),
    )


def _likes(tweet: dict[str, Any]) -> int | None:
    """Likes, retweets and quotes: v1.1's counts, or v2's public_metrics."""
    metrics = tweet.get("public_metrics")
    source = metrics if isinstance(metrics, dict) else tweet
    counts = [
        _count(source.get(k))
        for k in ("favorite_count", "like_count", "retweet_count", "quote_count")
    ]
    found = [c for c in counts if c is not None]
    return sum(found) if found else None


def _dm(event: dict[str, Any], own: str, users: dict[str, Any]) -> InboundMessage | None:
    if event.get("type") != "message_create":
        return None
    create = obj(event.get("message_create"), "message_create")
    sender_id = _str(create.get("sender_id"))
    if not sender_id:
        raise PayloadError("a direct message has no sender_id")
    if sender_id == own:
        return None
    event_id = _str(event.get("id"))
    if not event_id:
        raise PayloadError("a direct message has no id")
    data = obj(create.get("message_data") or {}, "message_data")
    profile = users.get(sender_id)
    sender = _user(profile) if isinstance(profile, dict) else Sender(external_id=sender_id)
    pair = "-".join(sorted((own, sender_id)))
    return InboundMessage(
        channel=Channel.TWITTER,
        provider="dm",
        event_id=event_id,
        dedup_key=f"twitter:{own}:dm:{event_id}",
        sender=sender,
        text=_str(data.get("text")) or "",
        sent_at=_ms(event.get("created_timestamp")),
        private=True,
        thread_keys=[f"twitter:dm:{pair}"],
        attachments=tweet_media(data),
    )


def _activity(data: dict[str, Any]) -> list[InboundMessage]:
    """The X Activity API: one event per delivery, deduplicated on its event_uuid."""
    event_type = data.get("event_type")
    uuid = _str(data.get("event_uuid"))
    own = _str(obj(data.get("filter") or {}, "filter").get("user_id"))
    payload = obj(data.get("payload") or {}, "payload")
    if not uuid or not own:
        raise PayloadError("event_uuid or filter.user_id is missing")
    if event_type == "dm.received":
        users = obj(payload.get("users") or {}, "users")
        return [
            m.model_copy(update={"dedup_key": f"x:{uuid}:{m.event_id}"})
            for event in items(payload.get("direct_message_events"), "direct_message_events")
            if (m := _dm(obj(event, "a direct message"), own, users)) is not None
        ]
    if event_type == "post.mention.create":
        author = _str(payload.get("author_id"))
        post_id = _str(payload.get("id"))
        if not author or not post_id:
            raise PayloadError("a post has no id or author_id")
        if author == own:
            return []
        includes = obj(data.get("includes") or {}, "includes")
        found = next(
            (
                u
                for u in items(includes.get("users"), "includes.users")
                if isinstance(u, dict) and _str(u.get("id")) == author
            ),
            None,
        )
        sender = _user(found) if found else Sender(external_id=author)
        created = _str(payload.get("created_at"))
        try:
            sent_at = datetime.fromisoformat(created) if created else datetime.now(UTC)
        except ValueError:
            raise PayloadError("a post has no readable created_at") from None
        conversation = _str(payload.get("conversation_id")) or post_id
        return [
            InboundMessage(
                channel=Channel.TWITTER,
                provider="post",
                event_id=post_id,
                dedup_key=f"x:{uuid}",
                sender=sender,
                text=_str(payload.get("text")) or "",
                sent_at=sent_at,
                private=False,
                thread_keys=[f"twitter:status:{post_id}", f"twitter:status:{conversation}"],
            )
        ]
    return []  # other event types carry no customer message
