"""Raw RFC 5322 mail to a message: encoded words, charsets, HTML-only, quoted replies,
broken headers and MIME bombs."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from adapters.email import MAX_PARTS, parse_raw
from adapters.message import Channel, PayloadError

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)

REPLY = b"""From: =?utf-8?q?Zo=C3=AB_K=C3=B6nig?= <Zoe.Konig@Example.net>
To: help@acme.example
Subject: =?iso-8859-1?q?Re:_R=E9clamation_42?=
Date: Tue, 04 Mar 2025 09:15:00 +0100
Message-ID: <CAF99@mail.example.net>
In-Reply-To: <ticket-42@help.example.com>
References: <ticket-41@help.example.com> <ticket-42@help.example.com>
Content-Type: text/plain; charset=iso-8859-1
Content-Transfer-Encoding: quoted-printable

Toujours cass=E9, account 55-1234-88.

On Mon, 3 Mar 2025, Acme <help@acme.example> wrote:
> We fixed it.
> Regards
"""


def test_a_reply_keeps_only_the_new_part_with_decoded_headers() -> None:
    message = parse_raw(REPLY, NOW)
    assert message.channel == Channel.EMAIL
    assert message.private
    assert message.sender.email == "Zoe.Konig@Example.net"
    assert message.sender.external_id == "zoe.konig@example.net"
    assert message.sender.display_name == "Zoë König"
    assert message.subject == "Re: Réclamation 42"
    assert message.text == "Toujours cassé, account 55-1234-88."
    assert message.sent_at == datetime(2025, 3, 4, 8, 15, tzinfo=UTC)
    assert message.thread_keys == [
        "email:<CAF99@mail.example.net>",
        "email:<ticket-42@help.example.com>",
        "email:<ticket-41@help.example.com>",
    ]
    assert message.dedup_key == "email:<CAF99@mail.example.net>"


HTML_ONLY = b"""From: dana@example.net
Subject: outage
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="b1"

--b1
Content-Type: text/html; charset=utf-8

<html><body><p>My <b>internet</b> is down</p><p>since Monday</p></body></html>
--b1
Content-Type: application/pdf; name="bill.pdf"
Content-Disposition: attachment; filename="bill.pdf"
Content-Transfer-Encoding: base64

JVBERi0xLjQK
--b1--
"""


def test_html_only_mail_becomes_text_and_attachments_are_listed() -> None:
    message = parse_raw(HTML_ONLY, NOW)
    assert "My internet is down" in message.text
    assert "<" not in message.text
    [attachment] = message.attachments
    assert (attachment.name, attachment.content_type, attachment.size) == (
        "bill.pdf",
        "application/pdf",
        9,
    )
    # No Message-ID and no Date: the content keys the message, arrival dates it.
    assert message.dedup_key.startswith("email:sha256:")
    assert message.sent_at == NOW
    assert parse_raw(HTML_ONLY, NOW).dedup_key == message.dedup_key


def test_broken_headers_and_charsets_do_not_break_the_message() -> None:
    raw = (
        b"From: Dana <dana@example.net>\nDate: not a date\nSubject: =?bogus?q?x?=\n"
        b"Content-Type: text/plain; charset=klingon\n\nHello \xff there\n"
    )
    message = parse_raw(raw, NOW)
    assert message.sent_at == NOW
    assert message.text.startswith("Hello")
    assert message.text.endswith("there")


@pytest.mark.parametrize(
    "raw", [b"", b"\x00\xff garbage", b"Subject: no sender\n\nhi", b"From: nobody\n\nhi"]
)
def test_mail_without_a_sender_is_a_payload_error(raw: bytes) -> None:
    with pytest.raises(PayloadError):
        parse_raw(raw, NOW)


def test_a_mime_bomb_is_refused() -> None:
    parts = b"".join(
        b"--b\nContent-Type: text/plain\n\npart %d\n" % i for i in range(MAX_PARTS + 5)
    )
    raw = (
        b'From: a@example.net\nContent-Type: multipart/mixed; boundary="b"\n\n' + parts + b"--b--\n"
    )
    with pytest.raises(PayloadError, match="MIME parts"):
        parse_raw(raw, NOW)
    nested = b'From: a@example.net\nContent-Type: multipart/mixed; boundary="x0"\n\n'
    for depth in range(1, 400):
        nested += b'--x%d\nContent-Type: multipart/mixed; boundary="x%d"\n\n' % (depth - 1, depth)
    with pytest.raises(PayloadError):
        parse_raw(nested, NOW)
