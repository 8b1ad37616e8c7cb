"""Hostile raw mail: MIME trees of any shape, charsets and transfer encodings that lie,
MIME bombs (parts by the hundred thousand, nesting, headers the standard library takes
minutes over) and bodies built against the quote finder's patterns. Each is read into a
message that can be stored, or refused with a ``PayloadError``, within a bound in time;
mail within the limits is never refused for them."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.delivery import Delivery, Format, parse_delivery
from adapters.email import MAX_PARTS, REPLY_WINDOW, parse_raw
from adapters.email_providers import mailgun, postmark
from adapters.message import InboundMessage, PayloadError
from tests import channels as ch
from tests.fuzzing import FUZZ, any_text, damaged, read, read_message

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)

CHARSETS = ["utf-8", "iso-8859-1", "utf-7", "utf-16", "unicode_escape", "rot13", "nope", ""]
ENCODINGS = ["7bit", "8bit", "base64", "quoted-printable", "x-uuencode", "nope"]
TYPES = ["text/plain", "text/html", "application/octet-stream", "message/rfc822", "nope"]
HEADERS = ["Subject", "Date", "Message-ID", "References", "In-Reply-To", "Content-Type", "X-Any"]
# Header values without line breaks: a break would end the header block, not test it.
header_text = any_text.map(lambda s: s.replace("\r", " ").replace("\n", " "))
addresses = st.from_regex(r"[a-z0-9]{1,10}@[a-z]{1,10}\.example", fullmatch=True)


def encoded_word(text: str) -> str:
    return "=?utf-8?b?" + base64.b64encode(text.encode("utf-8", "surrogatepass")).decode() + "?="


@st.composite
def part(draw: st.DrawFn, depth: int) -> bytes:
    if depth < 3 and draw(st.integers(0, 3)) == 0:
        boundary = f"b{depth}"
        children = draw(st.lists(part(depth + 1), max_size=4))
        head = f"Content-Type: multipart/{draw(st.sampled_from(['mixed', 'alternative']))}"
        body = b"".join(b"--%s\n%s\n" % (boundary.encode(), c) for c in children)
        close = draw(st.sampled_from([b"--%s--\n" % boundary.encode(), b""]))  # or never closed
        return f'{head}; boundary="{boundary}"\n\n'.encode() + body + close
    lines = [
        f"Content-Type: {draw(st.sampled_from(TYPES))}; charset={draw(st.sampled_from(CHARSETS))}",
        f"Content-Transfer-Encoding: {draw(st.sampled_from(ENCODINGS))}",
    ]
    if draw(st.booleans()):
        name = draw(st.sampled_from([draw(header_text), "utf-8''%FF%FE%ED%A0%80", "x" * 300]))
        lines.append(f"Content-Disposition: attachment; filename*={json.dumps(name)}")
    body = draw(st.binary(max_size=300) | any_text.map(lambda s: s.encode("utf-8", "replace")))
    return "\n".join(lines).encode("utf-8", "surrogatepass") + b"\n\n" + body + b"\n"


@st.composite
def mails(draw: st.DrawFn) -> tuple[bytes, str]:
    """A raw mail and its sender's address: a From anyone can read, then headers and
    parts of any kind."""
    sender = draw(addresses)
    # A name that decodes to a line break the standard library refuses: the mail is
    # refused with its reason, as a header injection would be.
    headers = [f"From: {encoded_word(draw(header_text))} <{sender}>"]
    for name in draw(st.lists(st.sampled_from(HEADERS))):
        value = draw(header_text | st.builds(encoded_word, any_text))
        headers.append(f"{name}: {value}")
    head = "\n".join(headers).encode("utf-8", "surrogatepass")
    ending = draw(st.sampled_from([b"\n", b"\r\n"]))
    return (head + b"\n" + draw(part(0))).replace(b"\n", ending), sender


@FUZZ
@given(mail=mails())
def test_mail_of_any_shape_from_a_readable_sender_is_read(mail: tuple[bytes, str]) -> None:
    """Charsets that lie, encodings that are not, attachments named in any bytes: the mail
    is still the customer's, and is read."""
    raw, sender = mail
    assert read_message(lambda: parse_raw(raw, NOW)).sender.email == sender


@FUZZ
@given(data=st.data())
def test_cut_or_mangled_mail_is_read_or_refused(data: st.DataObject) -> None:
    raw, _ = data.draw(mails())
    read(lambda: [parse_raw(data.draw(damaged(raw)), NOW)])


def test_charsets_that_decode_to_lone_surrogates_give_a_message_that_can_be_stored() -> None:
    """Found by fuzzing: UTF-7 and unicode_escape decode to lone surrogates, and the
    message could not be written as JSON."""
    for charset, payload in [(b"utf-7", b"+2AA-"), (b"unicode_escape", b"\\ud800")]:
        raw = b"From: a@example.net\nSubject: =?%s?q?%s?=\n" % (charset, payload)
        raw += b"Content-Type: text/plain; charset=%s\n\n%s\n" % (charset, payload)
        message = read_message(lambda: parse_raw(raw, NOW))  # noqa: B023
        assert "\ufffd" in message.text


FROM = b"From: a@example.net\n"
MULTIPART = FROM + b'Content-Type: multipart/mixed; boundary="b"\n\n'
HUGE = 100_000
# Shapes the standard library's header parser takes quadratic time over: 100 KB of '"'
# in From took two and a half minutes.
SHAPES = [b'"', b"(a", b"a,", b'"\\', b"=?utf-8?q?a?= ", b"; a=", b"<", b"a "]


def nested_multipart(depth: int) -> bytes:
    heads = b"".join(
        b'--x%d\nContent-Type: multipart/mixed; boundary="x%d"\n\n' % (i - 1, i)
        for i in range(1, depth)
    )
    return FROM + b'Content-Type: multipart/mixed; boundary="x0"\n\n' + heads


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (MULTIPART + b"--b\n\n" * 200_000, "MIME parts"),  # took 15 s to make
        (nested_multipart(20_000), "MIME parts"),
        (MULTIPART + b"--b\nContent-Type: message/rfc822\n\n" * 50_000, "MIME parts"),
        *[(b"From: " + shape * (HUGE // len(shape)) + b" <a@b.example>\n\nhi", "too long")
          for shape in SHAPES],
        *[(FROM + b"Content-Type: text/plain; a=" + shape * (HUGE // len(shape)) + b"\n\nhi",
           "too long") for shape in SHAPES],
        *[(FROM + b"Subject: " + shape * (HUGE // len(shape)) + b"\n\nhi", "too long")
          for shape in SHAPES],
        (FROM + b"Date: " + b"1 " * HUGE + b"\n\nhi", "too long"),
        (MULTIPART + b"".join(
            b'--b\nContent-Type: text/plain; n=%d; a="' % i + b'"' * 1_000 + b"\n\nx\n"
            for i in range(MAX_PARTS - 1)), "too long"),
    ],
)  # fmt: skip
def test_a_mime_bomb_is_refused_in_bounded_time(raw: bytes, reason: str) -> None:
    outcome = read(lambda: [parse_raw(raw, NOW)])
    assert isinstance(outcome, PayloadError)
    assert reason in str(outcome)


TEXT = b"From: a@example.net\nContent-Type: text/%s; charset=utf-8\n%s\n"
B64 = b"Content-Transfer-Encoding: base64\n"
QP = b"Content-Transfer-Encoding: quoted-printable\n"


@pytest.mark.parametrize("subtype", [b"plain", b"html"])
@pytest.mark.parametrize(
    ("head", "body"),
    [
        (b"", b"\n" * 200_000),  # 100,000 took a quarter of an hour
        (b"", b" \n\t" * 70_000),
        (b"", b"a" + b" " * 200_000 + b"b"),
        (b"", b"On " * 70_000),  # quadratic in the quote finder's "On ... wrote:"
        (b"", b"On a b c d e f\n" * 15_000),
        (b"", (b"> On " + b"a " * 1_000 + b"\n") * 100),
        (b"", b"-- \n" * 50_000),
        (b"", b"Disclaimer: " + b" mail" * 40_000),
        (b"", b"<div>" * 40_000),
        (B64, b"!@#$%^&*" * 25_000),
        (B64, b"QUFB" * 50_000 + b"="),
        (QP, b"=" * 200_000),
        (QP, b"=\n" * 100_000),
    ],
)
def test_a_huge_hostile_body_is_read_in_bounded_time(
    subtype: bytes, head: bytes, body: bytes
) -> None:
    message = read_message(lambda: parse_raw(TEXT % (subtype, head) + body, NOW))
    assert message.sender.email == "a@example.net"


@pytest.mark.parametrize("shape", SHAPES)
def test_provider_fields_too_long_to_read_are_refused_in_bounded_time(shape: bytes) -> None:
    """The providers' fields are put back together with the same parser: a hostile From
    took as long there."""
    hostile = (shape * (HUGE // len(shape))).decode()
    fields = {"from": hostile + " <a@b.example>", "body-plain": "hi"}
    assert isinstance(read(lambda: [mailgun(fields, NOW)]), PayloadError)
    body = json.dumps({"From": "a@b.example", "Subject": hostile, "TextBody": "hi"}).encode()
    assert isinstance(read(lambda: [postmark(body, NOW)]), PayloadError)


def test_large_real_mail_is_within_the_limits() -> None:
    """What real mail does at its largest: a long thread's References, a long encoded
    subject, a hundred and fifty attachments with long names."""
    ids = [f"<{i:04d}.{'x' * 40}@mail.example.net>" for i in range(300)]
    subject = encoded_word("Réclamation " * 60)
    parts = b"".join(
        b'--b\nContent-Type: application/pdf; name="%s"\n'
        % name
        + b'Content-Disposition: attachment; filename="%s"\nContent-Transfer-Encoding: base64'
        b"\n\nJVBERi0xLjQK\n" % name
        for name in (b"invoice %03d for the account of the customer.pdf" % i for i in range(150))
    )
    raw = (
        (
            b"From: =?utf-8?q?Zo=C3=AB?= <zoe@example.net>\nSubject: %s\nReferences: %s\n"
            b'Content-Type: multipart/mixed; boundary="b"\n\n--b\nContent-Type: text/plain\n\n'
            b"Still broken.\n" % (subject.encode(), " ".join(ids).encode())
        )
        + parts
        + b"--b--\n"
    )
    message = read_message(lambda: parse_raw(raw, NOW))
    assert message.subject == ("Réclamation " * 60).strip()
    assert len(message.attachments) == 150
    assert message.thread_keys == [f"email:{i}" for i in ids]
    assert message.text == "Still broken."


def _reply(new: str) -> InboundMessage:
    quoted = "On Mon, 3 Mar 2025, Acme <help@acme.example> wrote:\n> We fixed it.\n"
    [message] = parse_delivery(
        Delivery(
            format=Format.EMAIL_RAW,
            received_at=NOW,
            body=ch.raw_mail("a@b.example", new + "\n\n" + quoted),
        )
    )
    return message


def test_the_quote_is_cut_from_a_reply_within_the_window_and_kept_past_it() -> None:
    """The quote finder reads the first REPLY_WINDOW characters: a new part that runs
    past them is kept whole, quote and all, rather than cut at the window."""
    short = "Still broken,   account 55-1234-88.\n\n\n\nDana"
    assert _reply(short).text == "Still broken, account 55-1234-88.\n\nDana"
    long = "word " * (REPLY_WINDOW // 4)
    text = _reply(long).text
    assert text.startswith(long.strip())
    assert text.endswith("> We fixed it.")
