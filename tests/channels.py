"""Signed deliveries of every channel, as the providers send them, for the HTTP tests."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from typing import Any

TWITTER_SECRET = "tw-consumer-secret"
FACEBOOK_SECRET = "fb-app-secret"
FACEBOOK_VERIFY = "fb-verify-token"
FORUM_SECRET = "forum-secret"
MAILGUN_KEY = "mg-signing-key"
SENDGRID_PATH = "sg-path-secret-0123"
POSTMARK_AUTH = "postmark:pm-password"

CHANNEL_SETTINGS: dict[str, Any] = {
    "twitter_consumer_secret": TWITTER_SECRET,
    "facebook_app_secret": FACEBOOK_SECRET,
    "facebook_verify_token": FACEBOOK_VERIFY,
    "discourse_secret": FORUM_SECRET,
    "mailgun_signing_key": MAILGUN_KEY,
    "sendgrid_path_secret": SENDGRID_PATH,
    "postmark_basic_auth": POSTMARK_AUTH,
    "worker": False,  # tests drive the worker themselves
}
PAGE = "104400"
OWN_TWITTER = "900001"


def body(payload: Any) -> bytes:
    return json.dumps(payload).encode()


def twitter_headers(raw: bytes, secret: str = TWITTER_SECRET) -> dict[str, str]:
    digest = hmac.new(secret.encode(), raw, hashlib.sha256).digest()
    return {
        "Content-Type": "application/json",
        "x-twitter-webhooks-signature": "sha256=" + base64.b64encode(digest).decode(),
    }


def hex_signed(raw: bytes, secret: str, header: str) -> dict[str, str]:
    digest = hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
    return {"Content-Type": "application/json", header: "sha256=" + digest}


def facebook_headers(raw: bytes, secret: str = FACEBOOK_SECRET) -> dict[str, str]:
    return hex_signed(raw, secret, "X-Hub-Signature-256")


def discourse_headers(raw: bytes, event: str = "post_created") -> dict[str, str]:
    return {
        **hex_signed(raw, FORUM_SECRET, "X-Discourse-Event-Signature"),
        "X-Discourse-Event": event,
        "X-Discourse-Event-Type": "post",
        "X-Discourse-Instance": "https://forum.example.com",
    }


def tweet(
    tweet_id: str,
    user_id: str,
    text: str,
    *,
    name: str = "Dana K",
    handle: str = "dana_k",
    reply_to: str | None = None,
    at_ms: int = 1741079700000,
) -> dict[str, Any]:
    return {
        "for_user_id": OWN_TWITTER,
        "tweet_create_events": [
            {
                "id_str": tweet_id,
                "created_at": "Tue Mar 04 09:15:00 +0000 2025",
                "text": text,
                "truncated": False,
                "in_reply_to_status_id_str": reply_to,
                "user": {"id_str": user_id, "screen_name": handle, "name": name},
                "timestamp_ms": str(at_ms),
            }
        ],
    }


def dm(event_id: str, sender: str, text: str, at_ms: int = 1741079800000) -> dict[str, Any]:
    return {
        "for_user_id": OWN_TWITTER,
        "direct_message_events": [
            {
                "type": "message_create",
                "id": event_id,
                "created_timestamp": str(at_ms),
                "message_create": {
                    "target": {"recipient_id": OWN_TWITTER},
                    "sender_id": sender,
                    "message_data": {"text": text},
                },
            }
        ],
        "users": {sender: {"id": sender, "name": "Dana K", "screen_name": "dana_k"}},
    }


def messenger(mid: str, psid: str, text: str, at_ms: int = 1741079699870) -> dict[str, Any]:
    return {
        "object": "page",
        "entry": [
            {
                "id": PAGE,
                "time": at_ms,
                "messaging": [
                    {
                        "sender": {"id": psid},
                        "recipient": {"id": PAGE},
                        "timestamp": at_ms,
                        "message": {"mid": mid, "text": text},
                    },
                ],
            }
        ],
    }


def feed_comment(comment_id: str, from_id: str, name: str, text: str) -> dict[str, Any]:
    return {
        "object": "page",
        "entry": [
            {
                "id": PAGE,
                "time": 1741079700,
                "changes": [
                    {
                        "field": "feed",
                        "value": {
                            "item": "comment",
                            "verb": "add",
                            "post_id": f"{PAGE}_9001",
                            "comment_id": comment_id,
                            "parent_id": f"{PAGE}_9001",
                            "from": {"id": from_id, "name": name},
                            "message": text,
                            "created_time": 1741079690,
                        },
                    },
                ],
            }
        ],
    }


def instagram_comment(comment_id: str, from_id: str, username: str, text: str) -> dict[str, Any]:
    return {
        "object": "instagram",
        "entry": [
            {
                "id": "17841",
                "time": 1741079700,
                "changes": [
                    {
                        "field": "comments",
                        "value": {
                            "id": comment_id,
                            "text": text,
                            "from": {"id": from_id, "username": username},
                            "media": {"id": "m-1", "media_product_type": "FEED"},
                        },
                    }
                ],
            }
        ],
    }


def discourse_post(post_id: int, user_id: int, text: str, topic: int = 1204) -> dict[str, Any]:
    return {
        "post": {
            "id": post_id,
            "username": "dana_k",
            "name": "Dana K",
            "created_at": "2025-03-04T09:15:00.000Z",
            "updated_at": "2025-03-04T09:15:00.000Z",
            "raw": text,
            "post_number": 1,
            "topic_id": topic,
            "topic_title": "Sync broken",
            "user_id": user_id,
            "topic_archetype": "regular",
        }
    }


def raw_mail(
    sender: str, text: str, *, message_id: str | None = None, in_reply_to: str | None = None
) -> bytes:
    message_id = message_id or f"<{uuid.uuid4().hex}@mail.example.net>"
    lines = [
        f"From: Dana King <{sender}>",
        "To: help@acme.example",
        "Subject: My bill",
        "Date: Tue, 04 Mar 2025 09:20:00 +0000",
        f"Message-ID: {message_id}",
        *([f"In-Reply-To: {in_reply_to}", f"References: {in_reply_to}"] if in_reply_to else []),
        "Content-Type: text/plain; charset=utf-8",
        "",
        text,
        "",
    ]
    return "\r\n".join(lines).encode()


def mailgun_fields(
    sender: str,
    text: str,
    message_id: str,
    key: str = MAILGUN_KEY,
    timestamp: int | None = None,
    token: str | None = None,
) -> dict[str, str]:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    token = token or uuid.uuid4().hex
    signature = hmac.new(key.encode(), (ts + token).encode(), hashlib.sha256).hexdigest()
    return {
        "timestamp": ts,
        "token": token,
        "signature": signature,
        "sender": sender,
        "from": f"Dana King <{sender}>",
        "subject": "Re: my bill",
        "body-plain": text,
        "message-headers": json.dumps([["Message-Id", message_id], ["From", f"<{sender}>"]]),
    }


def postmark_auth(credentials: str = POSTMARK_AUTH) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(credentials.encode()).decode()}
