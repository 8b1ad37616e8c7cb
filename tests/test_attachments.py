"""Attachments from every channel, as metadata with URLs and never content: read from the
providers' own payload shapes, through the webhooks and the worker."""

from __future__ import annotations

from collections.abc import Callable
from email.message import EmailMessage
from typing import Any

import pytest
import redis.asyncio as aioredis

from service.settings import Settings
from tests import channels as ch
from tests.helpers import AppClient, MakeClient, admin, drain

pytestmark = pytest.mark.cluster


@pytest.fixture
async def post(
    make_client: MakeClient, make_settings: Callable[..., Settings], redis: aioredis.Redis
) -> Callable[..., Any]:
    client = await make_client(**ch.CHANNEL_SETTINGS)

    async def send(path: str, raw: bytes, headers: dict[str, str]) -> list[dict[str, Any]]:
        """The delivery's stored messages' attachments, once the worker processed it."""
        resp = await client.post(path, data=raw, headers=headers)
        assert resp.status == 200, await resp.text()
        [message_id] = (await resp.json())["accepted"]
        await drain(redis, make_settings(**ch.CHANNEL_SETTINGS))
        stored = await _message(client, message_id)
        found: list[dict[str, Any]] = stored["message"].get("attachments", [])
        return found

    return send


async def _message(client: AppClient, message_id: str) -> dict[str, Any]:
    resp = await client.get(f"/v1/messages/{message_id}", headers=admin())
    assert resp.status == 200
    stored: dict[str, Any] = await resp.json()
    return stored


async def test_x_media_of_a_tweet(post: Callable[..., Any]) -> None:
    payload = ch.tweet("1800000000000000301", "555123", "look at this bill")
    photo = {
        "id_str": "1",
        "type": "photo",
        "media_url_https": "https://pbs.twimg.com/media/bill.jpg",
    }
    video = {"id_str": "2", "type": "video", "media_url_https": "https://pbs.twimg.com/v.jpg"}
    payload["tweet_create_events"][0]["extended_entities"] = {"media": [photo, video]}
    raw = ch.body(payload)
    found = await post("/webhooks/twitter", raw, ch.twitter_headers(raw))
    assert [(a["kind"], a["url"]) for a in found] == [
        ("photo", "https://pbs.twimg.com/media/bill.jpg"),
        ("video", "https://pbs.twimg.com/v.jpg"),
    ]


async def test_discourse_uploads_resolved_against_the_instance(post: Callable[..., Any]) -> None:
    payload = ch.discourse_post(8901, 311, "Screenshot: ![error|690x388](upload://a1B2c3.png)")
    payload["post"]["cooked"] = (
        '<p>Screenshot: <img src="/uploads/default/original/1X/abc.png" alt="error">'
        ' <img src="/images/emoji/twitter/cry.png" class="emoji" alt=":cry:">'
        ' <a class="attachment" href="/uploads/default/original/1X/log.txt">log.txt</a></p>'
    )
    raw = ch.body(payload)
    found = await post("/webhooks/forum", raw, ch.discourse_headers(raw))
    assert [(a["kind"], a["url"]) for a in found] == [
        ("image", "https://forum.example.com/uploads/default/original/1X/abc.png"),
        ("file", "https://forum.example.com/uploads/default/original/1X/log.txt"),
    ]
    # Without the cooked HTML, the raw markdown's upload:// link is resolved.
    bare = ch.body(ch.discourse_post(8902, 311, "See ![meter reading|100x100](upload://zZ9.jpg)"))
    found = await post("/webhooks/forum", bare, ch.discourse_headers(bare))
    assert [(a["kind"], a["name"], a["url"]) for a in found] == [
        ("image", "meter reading", "https://forum.example.com/uploads/short-url/zZ9.jpg")
    ]


async def test_meta_attachments_story_replies_and_feed_photos(post: Callable[..., Any]) -> None:
    messenger = ch.messenger("m_att1", "7700112233", "my router lights")
    event = messenger["entry"][0]["messaging"][0]
    event["message"]["attachments"] = [
        {"type": "image", "payload": {"url": "https://scontent.example/router.jpg"}}
    ]
    event["message"]["reply_to"] = {"story": {"url": "https://cdn.example/story.mp4", "id": "9"}}
    raw = ch.body(messenger)
    found = await post("/webhooks/facebook", raw, ch.facebook_headers(raw))
    assert [(a["kind"], a["url"]) for a in found] == [
        ("image", "https://scontent.example/router.jpg"),
        ("story", "https://cdn.example/story.mp4"),
    ]
    feed = ch.feed_comment("9001_77", "7700112233", "Dana K", "the outage map is wrong")
    feed["entry"][0]["changes"][0]["value"]["photo"] = "https://scontent.example/map.png"
    raw = ch.body(feed)
    found = await post("/webhooks/facebook", raw, ch.facebook_headers(raw))
    assert [(a["kind"], a["url"]) for a in found] == [("photo", "https://scontent.example/map.png")]


async def test_email_parts_are_listed_without_their_content(post: Callable[..., Any]) -> None:
    mail = EmailMessage()
    mail["From"] = "Dana King <dana@example.net>"
    mail["To"] = "help@acme.example"
    mail["Subject"] = "Bill attached"
    mail["Message-ID"] = "<att1@x.net>"
    mail.set_content("The bill is attached.")
    mail.add_attachment(
        b"%PDF-1.4 secret", maintype="application", subtype="pdf", filename="bill.pdf"
    )
    headers = {**admin(), "Content-Type": "message/rfc822"}
    found = await post("/webhooks/email/raw", mail.as_bytes(), headers)
    assert [(a["content_type"], a["name"]) for a in found] == [("application/pdf", "bill.pdf")]
    assert "secret" not in str(found)  # metadata, never content
