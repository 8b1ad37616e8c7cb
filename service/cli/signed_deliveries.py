"""Deliveries as the providers post them, signed: for the demo and ``socialid deliver``.

Pure: builds the body and headers of a webhook delivery, so that the demo and a new
user's first try go through the same path as real traffic (verify, store, worker,
history), without anyone computing an HMAC by hand.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate

from adapters.signatures import sha256_base64, sha256_hex
from service.schemas import LookupRequest

FORUM_SITE = "https://forum.example.com"
PAGE_ID = "104400"
OWN_TWITTER = "900001"
INSTAGRAM_ID = "17841400000000001"


@dataclass(frozen=True, slots=True)
class DeliverySecrets:
    """What deliveries are signed with: the channels' secrets, as the service has them,
    and a bearer token with the integration scope (raw e-mail). None: not set."""

    twitter: str | None
    facebook: str | None
    forum: str | None
    token: str | None


def delivery(
    message: LookupRequest, n: int, secrets: DeliverySecrets
) -> tuple[str, bytes, dict[str, str]]:
    """(path, body, headers) of a signed delivery carrying ``message``."""
    sender = message.sender
    body = sample_body(
        message.channel.value,
        n,
        text=message.text or "",
        external_id=sender.external_id or f"demo-{n}",
        handle=sender.handle,
        name=sender.display_name,
        email=sender.email,
    )
    path, headers = signed(message.channel.value, body, secrets)
    return path, body, headers


def sample_body(
    channel: str,
    n: int,
    *,
    text: str,
    external_id: str,
    handle: str | None = None,
    name: str | None = None,
    email: str | None = None,
) -> bytes:
    """A delivery as the provider posts it: one message from the sender, sent now.
    ``n`` makes its provider ids differ from another's."""
    now_ms = int(time.time() * 1000)
    match channel:
        case "twitter":
            return _json(
                {
                    "for_user_id": OWN_TWITTER,
                    "tweet_create_events": [
                        {
                            "id_str": str(1_800_000_000_000_000_000 + n),
                            "text": text,
                            "timestamp_ms": str(now_ms),
                            "user": {"id_str": external_id, "screen_name": handle, "name": name},
                        }
                    ],
                }
            )
        case "facebook" | "instagram":
            own = PAGE_ID if channel == "facebook" else INSTAGRAM_ID
            event = {
                "sender": {"id": external_id},
                "recipient": {"id": own},
                "timestamp": now_ms,
                "message": {"mid": f"m_sample{n}_{now_ms}", "text": text},
            }
            entry = {"id": own, "time": now_ms, "messaging": [event]}
            kind = "page" if channel == "facebook" else "instagram"
            return _json({"object": kind, "entry": [entry]})
        case "forum":
            stamp = f"{time.strftime('%Y-%m-%dT%H:%M:%S', time.gmtime())}.000Z"
            user = external_id.rsplit("/", 1)[-1]
            return _json(
                {
                    "post": {
                        "id": 9000 + n,
                        "user_id": int(user) if user.isdigit() else 9000 + n,
                        "username": handle,
                        "name": name,
                        "raw": text,
                        "topic_id": 1200 + n,
                        "topic_title": "Billing",
                        "created_at": stamp,
                        "updated_at": stamp,
                        "topic_archetype": "regular",
                    }
                }
            )
        case "email":
            mail = EmailMessage()
            address = email or external_id
            mail["From"] = f"{name} <{address}>" if name else address
            mail["To"] = "help@acme.example"
            mail["Subject"] = "My account"
            # Date has whole seconds: rounded up, so that the mail is not dated before a
            # message posted a moment earlier (the card shows the latest).
            mail["Date"] = formatdate(-(-now_ms // 1000))
            mail["Message-ID"] = f"<sample-{n}-{now_ms}@mail.example.net>"
            mail.set_content(text)
            return mail.as_bytes()
    raise ValueError(f"no sample for channel {channel!r}")


def signed(channel: str, body: bytes, secrets: DeliverySecrets) -> tuple[str, dict[str, str]]:
    """(path, headers) that post ``body`` to the channel's webhook, signed as the
    provider signs it. Raises ``MissingSecret`` when the channel's secret is not set."""
    match channel:
        case "twitter":
            # base64 of the HMAC-SHA256 of the body, keyed with the consumer secret.
            secret = _needed(secrets.twitter, "SOCIALID_TWITTER_CONSUMER_SECRET")
            return "/webhooks/twitter", {
                "Content-Type": "application/json",
                "x-twitter-webhooks-signature": sha256_base64(secret, body),
            }
        case "facebook" | "instagram":
            # "sha256=" and the hex HMAC-SHA256 of the body, keyed with the app secret.
            secret = _needed(secrets.facebook, "SOCIALID_FACEBOOK_APP_SECRET")
            return "/webhooks/facebook", {
                "Content-Type": "application/json",
                "X-Hub-Signature-256": sha256_hex(secret, body),
            }
        case "forum":
            secret = _needed(secrets.forum, "SOCIALID_DISCOURSE_SECRET")
            return "/webhooks/forum", {
                "Content-Type": "application/json",
                "X-Discourse-Event-Signature": sha256_hex(secret, body),
                "X-Discourse-Event": "post_created",
                "X-Discourse-Instance": FORUM_SITE,
            }
        case "email":
            token = _needed(secrets.token, "SOCIALID_ADMIN_TOKEN (or --token)")
            return "/webhooks/email/raw", {
                "Authorization": f"Bearer {token}",
                "Content-Type": "message/rfc822",
            }
    raise ValueError(f"no webhook for channel {channel!r}")


class MissingSecret(Exception):
    """The setting a channel's deliveries are signed with is not set."""


def _needed(value: str | None, setting: str) -> str:
    if not value:
        raise MissingSecret(f"{setting} is not set: the delivery cannot be signed")
    return value


def _json(payload: object) -> bytes:
    return json.dumps(payload).encode()
