"""Meta webhooks: Messenger, the Facebook Page feed, and Instagram (same envelope)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from adapters.message import Attachment, Channel, InboundMessage, PayloadError, Sender
from adapters.payload import items, json_object, obj
from adapters.signatures import matches, sha256_hex

SIGNATURE_HEADER = "X-Hub-Signature-256"


def challenge(query: Mapping[str, str], verify_token: str) -> str | None:
    """The hub.challenge to echo when the subscription request carries our token."""
    if query.get("hub.mode") != "subscribe" or not matches(
        verify_token, query.get("hub.verify_token")
    ):
        return None
    return query.get("hub.challenge")


def verify(body: bytes, header: str | None, app_secret: str) -> bool:
    return matches(sha256_hex(app_secret, body), header)


def _id(value: Any) -> str | None:
    if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value):
        return str(value)
    return None


def _time(value: Any, unit: float) -> datetime:
    try:
        return datetime.fromtimestamp(float(value) / unit, UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        raise PayloadError("a time is not a number") from None


def parse(body: bytes) -> list[InboundMessage]:
    payload = json_object(body)
    kind = payload.get("object")
    if kind not in ("page", "instagram"):
        raise PayloadError("object is neither page nor instagram")
    channel = Channel.INSTAGRAM if kind == "instagram" else Channel.FACEBOOK
    messages: list[InboundMessage] = []
    for entry in items(payload.get("entry"), "entry"):
        entry = obj(entry, "an entry")
        page = _id(entry.get("id"))
        if page is None:
            raise PayloadError("an entry has no id")
        for event in items(entry.get("messaging"), "messaging"):
            message = _messaging(obj(event, "a messaging event"), channel, page)
            if message is not None:
                messages.append(message)
        for change in items(entry.get("changes"), "changes"):
            message = _change(obj(change, "a change"), channel, page, entry.get("time"))
            if message is not None:
                messages.append(message)
    return messages


def _messaging(event: dict[str, Any], channel: Channel, page: str) -> InboundMessage | None:
    edit = event.get("message_edit")
    edited = isinstance(edit, dict)
    message = edit if edited else event.get("message")
    if not isinstance(message, dict) or message.get("is_echo"):
        return None  # reactions, delivery and read receipts, and the page's own sends
    sender = _id(obj(event.get("sender"), "sender").get("id"))
    mid = _id(message.get("mid"))
    if sender is None or mid is None:
        raise PayloadError("a message has no sender id or mid")
    if sender == page:
        return None
    if edited:
        text = str(message.get("text") or "")
        return _mid_change(event, channel, sender, mid, f"edit:{message.get('num_edit')}", text)
    if message.get("is_deleted"):  # unsent (Instagram, Messenger)
        return _mid_change(event, channel, sender, mid, "deleted")
    attachments = [
        Attachment(
            kind=str(a.get("type")) if a.get("type") else None,
            url=str(a["payload"]["url"])
            if isinstance(a.get("payload"), dict) and a["payload"].get("url")
            else None,
        )
        for a in items(message.get("attachments"), "attachments")
        if isinstance(a, dict)
    ]
    reply_to = message.get("reply_to")
    parent = _id(reply_to.get("mid")) if isinstance(reply_to, dict) else None
    story = reply_to.get("story") if isinstance(reply_to, dict) else None
    if isinstance(story, dict) and isinstance(story.get("url"), str):
        # A reply to the brand's story: what it answers is the story itself.
        attachments.append(Attachment(kind="story", url=story["url"]))
    return InboundMessage(
        channel=channel,
        provider="message",
        event_id=mid,
        dedup_key=f"{channel.value}:mid:{mid}",
        # Page-scoped ids carry no name; the Graph API lookup adds it when configured.
        sender=Sender(external_id=sender),
        text=str(message.get("text") or ""),
        sent_at=_time(event.get("timestamp"), 1000),
        private=True,
        thread_keys=[
            f"{channel.value}:dm:{page}-{sender}",
            *([f"{channel.value}:mid:{parent}"] if parent else []),
        ],
        attachments=attachments,
    )


def _mid_change(
    event: dict[str, Any], channel: Channel, sender: str, mid: str, what: str, text: str = ""
) -> InboundMessage:
    """An edit (``what`` "edit:<n>", with the new ``text``) or an unsend ("deleted") of
    the message its mid names."""
    return InboundMessage(
        channel=channel,
        provider="message",
        event_id=mid,
        dedup_key=f"{channel.value}:mid:{mid}:{what}",
        origin=f"{channel.value}:mid:{mid}",
        change="withdraw" if what == "deleted" else "edit",
        sender=Sender(external_id=sender),
        text=text,
        sent_at=_time(event.get("timestamp"), 1000),
        private=True,
    )


def _change(
    change: dict[str, Any], channel: Channel, page: str, entry_time: Any
) -> InboundMessage | None:
    field = change.get("field")
    value = obj(change.get("value") or {}, "a change's value")
    if field == "feed":
        verb = value.get("verb")
        if value.get("item") not in ("comment", "post", "status") or verb not in (
            "add",
            "edited",
            "remove",
        ):
            return None
        author = obj(value.get("from") or {}, "from")
        sender_id = _id(author.get("id"))
        item_id = _id(value.get("comment_id")) or _id(value.get("post_id"))
        if sender_id is None or item_id is None:
            raise PayloadError("a feed change has no author or id")
        if sender_id == page:
            return None
        post = _id(value.get("post_id")) or item_id
        created = value.get("created_time", entry_time)
        shared = [
            Attachment(kind=kind, url=value[kind])
            for kind in ("photo", "video", "link")
            if isinstance(value.get(kind), str) and value[kind]
        ]
        return InboundMessage(
            channel=channel,
            provider="feed",
            event_id=item_id,
            dedup_key=f"{channel.value}:feed:{item_id}:{verb}",
            origin=f"{channel.value}:feed:{item_id}",
            change={"add": "new", "edited": "edit", "remove": "withdraw"}[str(verb)],
            sender=Sender(external_id=sender_id, display_name=_name(author.get("name"))),
            text=str(value.get("message") or ""),
            sent_at=_time(created, 1),
            private=False,
            thread_keys=[f"{channel.value}:post:{post}"],
            attachments=shared,
        )
    if field == "comments":  # Instagram
        author = obj(value.get("from") or {}, "from")
        sender_id = _id(author.get("id"))
        comment = _id(value.get("id"))
        if sender_id is None or comment is None:
            raise PayloadError("a comment has no author or id")
        media = value.get("media")
        media_id = _id(media.get("id")) if isinstance(media, dict) else None
        return InboundMessage(
            channel=channel,
            provider="comment",
            event_id=comment,
            dedup_key=f"{channel.value}:comment:{comment}",
            sender=Sender(external_id=sender_id, handle=_name(author.get("username"))),
            text=str(value.get("text") or ""),
            sent_at=_time(entry_time, 1) if entry_time is not None else datetime.now(UTC),
            private=False,
            thread_keys=[f"{channel.value}:post:{media_id or comment}"],
        )
    return None


def _name(value: Any) -> str | None:
    return str(value) if isinstance(value, str) and value else None
