"""A message a chat tool sent to the lookup call with ``"record": true``.

Stored as a delivery like any webhook's, so the worker resolves and threads it the same
way. The body was validated by the API before it was stored.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from adapters.message import Channel, InboundMessage, PayloadError, Sender
from adapters.payload import json_object, obj


def parse(body: bytes, received_at: datetime) -> list[InboundMessage]:
    data = json_object(body)
    sender = obj(data.get("sender"), "sender")
    try:
        channel = Channel(str(data.get("channel")))
    except ValueError:
        raise PayloadError("channel is not one socialid knows") from None
    external = sender.get("external_id") or sender.get("email") or sender.get("handle")
    if not external:
        raise PayloadError("the sender has no external_id, email or handle")
    # The tool's message id when it gave one; else the content (a resend is a duplicate).
    key = data.get("message_id") or hashlib.sha256(body).hexdigest()
    thread = data.get("thread")
    sent = data.get("sent_at")
    try:
        return [
            InboundMessage(
                channel=channel,
                provider="lookup",
                event_id=str(key),
                dedup_key=f"lookup:{channel.value}:{key}",
                sender=Sender(
                    external_id=str(external),
                    handle=sender.get("handle"),
                    display_name=sender.get("display_name"),
                    email=sender.get("email"),
                ),
                text=str(data.get("text") or ""),
                sent_at=datetime.fromisoformat(sent) if isinstance(sent, str) else received_at,
                private=True,
                thread_keys=[f"lookup:{channel.value}:{thread}"] if thread else [],
            )
        ]
    except ValueError:  # pydantic's ValidationError among them
        # The API validated the body it stored: this one was stored some other way.
        raise PayloadError("a field of the recorded lookup has the wrong type") from None
