"""Mail as Mailgun, SendGrid and Postmark post it, read by the same parser as raw mail."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime

import pytest

from adapters.delivery import Delivery, Format, parse_delivery
from adapters.email_providers import mailgun, mailgun_verify, postmark, sendgrid
from adapters.message import Channel, PayloadError

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
KEY = "mg-key"


def _signed(timestamp: str, token: str, key: str = KEY) -> dict[str, str]:
    signature = hmac.new(key.encode(), (timestamp + token).encode(), hashlib.sha256).hexdigest()
    return {"timestamp": timestamp, "token": token, "signature": signature}


def test_mailgun_signature_freshness_and_forgery() -> None:
    now = 1_764_072_000.0
    assert mailgun_verify(_signed("1764072000", "t1"), KEY, now=now, max_age=300) is None
    assert mailgun_verify(_signed("1764071000", "t1"), KEY, now=now, max_age=300) == "stale"
    assert mailgun_verify(_signed("1764072000", "t1", "x"), KEY, now=now, max_age=300) == "mismatch"
    assert mailgun_verify({"timestamp": "1", "token": "t"}, KEY, now=now, max_age=300) == "missing"
    assert mailgun_verify(_signed("soon", "t1"), KEY, now=now, max_age=300) == "mismatch"


def test_mailgun_fields_thread_and_lose_the_quoted_reply() -> None:
    fields = {
        "from": "Dana King <dana@example.net>",
        "subject": "Re: Ticket 42",
        "body-plain": "Still broken.\n\nOn Mon, 3 Mar 2025, Acme <help@acme.example> wrote:"
        "\n> Fixed",
        "message-headers": json.dumps(
            [
                ["Message-Id", "<CAF99@mail.example.net>"],
                ["In-Reply-To", "<ticket-42@help.example.com>"],
            ]
        ),
    }
    message = mailgun(fields, NOW)
    assert (message.channel, message.provider) == (Channel.EMAIL, "mailgun")
    assert message.sender.email == "dana@example.net"
    assert message.sender.display_name == "Dana King"
    assert message.text == "Still broken."
    assert message.thread_keys == [
        "email:<CAF99@mail.example.net>",
        "email:<ticket-42@help.example.com>",
    ]
    assert message.dedup_key == "email:<CAF99@mail.example.net>"


def test_mailgun_mime_route_and_sendgrid_raw_mode_read_the_whole_message() -> None:
    raw = (
        "From: =?utf-8?q?Zo=C3=AB?= <zoe@example.net>\r\nMessage-ID: <z1@x>\r\n"
        "Subject: Hello\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nAccount 55-1234-88\r\n"
    )
    for message in (mailgun({"body-mime": raw}, NOW), sendgrid({"email": raw}, NOW)):
        assert message.sender.display_name == "Zoë"
        assert message.text == "Account 55-1234-88"
        assert message.event_id == "<z1@x>"


def test_sendgrid_fields_take_the_message_id_from_the_header_block() -> None:
    fields = {
        "headers": "Received: by mx\nMessage-ID: <sg-9@mail.example.net>\n"
        "Subject: =?iso-8859-1?q?R=E9clamation?=\nFrom: Dana <dana@example.net>\n",
        "from": "Dana <dana@example.net>",
        "html": "<p>Why was I charged <b>$300</b>?</p>",
    }
    message = sendgrid(fields, NOW)
    assert message.event_id == "<sg-9@mail.example.net>"
    assert message.subject == "Réclamation"
    assert message.text == "Why was I charged $300?"


def test_postmark_uses_the_real_message_id_and_strips_the_reply() -> None:
    payload = {
        "FromName": "Dana K",
        "FromFull": {"Email": "dana@example.net", "Name": "Dana K"},
        "Subject": "Re: Ticket 42",
        "MessageID": "7f3c0a1e",
        "TextBody": "Still broken.\n\n> On Mon, Acme wrote:\n> fixed",
        "Headers": [
            {"Name": "Message-ID", "Value": "<CAF99@mail.example.net>"},
            {"Name": "In-Reply-To", "Value": "<ticket-42@help.example.com>"},
        ],
        "Attachments": [],
    }
    message = postmark(json.dumps(payload).encode(), NOW)
    assert message.event_id == "<CAF99@mail.example.net>"
    assert message.text == "Still broken."
    assert message.sender.external_id == "dana@example.net"
    del payload["Headers"]
    fallback = postmark(json.dumps(payload).encode(), NOW)
    assert fallback.event_id == "<7f3c0a1e@postmark>"  # retries still deduplicate
    with pytest.raises(PayloadError):
        postmark(json.dumps({"Subject": "no sender"}).encode(), NOW)
    with pytest.raises(PayloadError):
        postmark(b"[1, 2", NOW)


def test_a_delivery_of_each_format_reads_or_fails_with_a_reason() -> None:
    form = json.dumps({"from": "a@example.net", "body-plain": "hi"}).encode()
    assert parse_delivery(Delivery(format=Format.MAILGUN, received_at=NOW, body=form))
    assert (
        parse_delivery(
            Delivery(
                format=Format.DISCOURSE,
                received_at=NOW,
                body=b'{"ping": "OK"}',
                meta={"event": "ping"},
            )
        )
        == []
    )
    for fmt in (Format.MAILGUN, Format.SENDGRID, Format.TWITTER, Format.FACEBOOK, Format.FORUM):
        with pytest.raises(PayloadError):
            parse_delivery(Delivery(format=fmt, received_at=NOW, body=b"\xff not json"))
