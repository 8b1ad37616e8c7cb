"""Standard Webhooks signatures, made by the maintained ``standardwebhooks`` package.

Each attempt is signed afresh (its timestamp is the attempt's), by every secret that
signs now: during a rotation the header carries the new and the old signature, space
separated, and a receiver with either secret accepts it.
"""

from __future__ import annotations

from datetime import datetime

from standardwebhooks.webhooks import Webhook


def signed_headers(event_id: str, body: str, secrets: list[str], at: datetime) -> dict[str, str]:
    signatures = " ".join(Webhook(s).sign(event_id, at, body) for s in secrets)
    return {
        "webhook-id": event_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": signatures,
        "Content-Type": "application/json",
    }
