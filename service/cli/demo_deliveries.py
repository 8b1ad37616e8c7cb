"""The demo's sample messages as the providers would post them, signed.

Pure: builds the body and headers of a webhook delivery from a sample message, so that
the demo goes through the same path as real traffic (verify, store, worker, history).
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


@dataclass(frozen=True, slots=True)
class DemoSecrets:
    twitter: str
    facebook: str
    forum: str
    token: str  # a bearer token with the integration scope (raw e-mail)


def delivery(
    message: LookupRequest, n: int, secrets: DemoSecrets
) -> tuple[str, bytes, dict[str, str]]:
    """(path, body, headers) of a signed delivery carrying ``message``."""
    sender, text, now_ms = message.sender, message.text or "", int(time.time() * 1000)
    external = sender.external_id or f"demo-{n}"
    match message.channel.value:
        case "twitter":
            body = json.dumps(
                {
                    "for_user_id": OWN_TWITTER,
                    "tweet_create_events": [
                        {
                            "id_str": str(1_800_000_000_000_000_000 + n),
                            "text": text,
                            "timestamp_ms": str(now_ms),
                            "user": {
                                "id_str": external,
                                "screen_name": sender.handle,
                                "name": sender.display_name,
                            },
                        }
                    ],
                }
            ).encode()
            signature = sha256_base64(secrets.twitter, body)
            return "/webhooks/twitter", body, {"x-twitter-webhooks-signature": signature}
        case "facebook":
            event = {
                "sender": {"id": external},
                "recipient": {"id": PAGE_ID},
                "timestamp": now_ms,
                "message": {"mid": f"m_demo{n}", "text": text},
            }
            entry = {"id": PAGE_ID, "time": now_ms, "messaging": [event]}
            body = json.dumps({"object": "page", "entry": [entry]}).encode()
            return (
                "/webhooks/facebook",
                body,
                {"X-Hub-Signature-256": sha256_hex(secrets.facebook, body)},
            )
        case "forum":
            stamp = f"{time.strftime('%Y-%m-%dT%H:%M:%S', time.gmtime())}.000Z"
            body = json.dumps(
                {
                    "post": {
                        "id": 9000 + n,
                        "user_id": int(external.rsplit("/", 1)[-1]),
                        "username": sender.handle,
                        "name": sender.display_name,
                        "raw": text,
                        "topic_id": 1200 + n,
                        "topic_title": "Billing",
                        "created_at": stamp,
                        "updated_at": stamp,
                        "topic_archetype": "regular",
                    }
                }
            ).encode()
            return (
                "/webhooks/forum",
                body,
                {
                    "X-Discourse-Event-Signature": sha256_hex(secrets.forum, body),
                    "X-Discourse-Event": "post_created",
                    "X-Discourse-Instance": FORUM_SITE,
                },
            )
        case _:
            mail = EmailMessage()
            name = sender.display_name or ""
            mail["From"] = f"{name} <{sender.email or external}>" if name else external
            mail["To"] = "help@acme.example"
            mail["Subject"] = "My account"
            # Date has whole seconds: rounded up, so that the mail is not dated before a
            # message the demo posted a moment earlier (the card shows the latest).
            mail["Date"] = formatdate(-(-now_ms // 1000))
            mail["Message-ID"] = f"<demo-{n}-{now_ms}@mail.example.net>"
            mail.set_content(text)
            return (
                "/webhooks/email/raw",
                mail.as_bytes(),
                {
                    "Authorization": f"Bearer {secrets.token}",
                    "Content-Type": "message/rfc822",
                },
            )
