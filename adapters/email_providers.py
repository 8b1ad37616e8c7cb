"""Inbound mail as Mailgun, SendGrid and Postmark post it.

Each provider either forwards the raw MIME (then the raw parser reads it) or its own
fields. Fields are put back together into one RFC 5322 message and read by the same
parser as raw mail, so that reply stripping, HTML conversion and threading behave the
same whichever provider delivered the mail.
"""

from __future__ import annotations

import email.errors
import json
import time
from collections.abc import Mapping
from datetime import datetime
from email import policy
from email.message import EmailMessage
from email.parser import HeaderParser
from typing import Any

from adapters.email import BROKEN, Reading, TooCostly, parse_raw
from adapters.message import InboundMessage, PayloadError
from adapters.payload import items, json_object
from adapters.signatures import hmac_sha256, matches

# The headers a message keeps when rebuilt from fields: who, what, when and threading.
_KEPT = ("From", "Reply-To", "Subject", "Date", "Message-ID", "In-Reply-To", "References")


def mailgun_verify(
    fields: Mapping[str, str], signing_key: str, *, now: float | None = None, max_age: float
) -> str | None:
    """None when the signature holds and the timestamp is fresh, else the reason."""
    timestamp, token = fields.get("timestamp", ""), fields.get("token", "")
    if not timestamp or not token or "signature" not in fields:
        return "missing"
    expected = hmac_sha256(signing_key, (timestamp + token).encode()).hex()
    if not matches(expected, fields.get("signature")):
        return "mismatch"
    try:
        age = (time.time() if now is None else now) - float(timestamp)
    except ValueError:
        return "mismatch"
    return "stale" if abs(age) > max_age else None


def _compose(headers: list[tuple[str, str]], text: str | None, html: str | None) -> bytes:
    # The limits of reading a message hold for writing one: the same parser reads the
    # fields, and would take minutes over a hostile From.
    msg = EmailMessage(policy=Reading().policy)
    try:
        for name, value in headers:
            if name.title() in {h.title() for h in _KEPT} and name not in msg and value:
                msg[name] = value
        if text:
            msg.set_content(text)
        elif html:
            msg.set_content(html, subtype="html")
        return msg.as_bytes()
    except TooCostly as exc:
        raise PayloadError(str(exc)) from None
    except (*BROKEN, email.errors.MessageError):
        raise PayloadError("the mail's header fields cannot be read") from None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _bytes(mime: str) -> bytes:
    # A lone surrogate cannot be encoded; the parser reads the "?" put in its place.
    return mime.encode(errors="replace")


def mailgun(fields: Mapping[str, str], received_at: datetime) -> InboundMessage:
    """A Mailgun route's POST: ``body-mime`` when the route URL ends in ``mime``."""
    mime = _text(fields.get("body-mime"))
    if mime:
        return parse_raw(_bytes(mime), received_at, provider="mailgun")
    headers: list[tuple[str, str]] = []
    try:
        listed = json.loads(fields.get("message-headers") or "[]")
    except (ValueError, RecursionError):
        raise PayloadError("message-headers is not JSON") from None
    if isinstance(listed, list):
        headers = [
            (str(pair[0]), str(pair[1]))
            for pair in listed
            if isinstance(pair, list) and len(pair) == 2
        ]
    headers += [("From", fields.get("from", "")), ("Subject", fields.get("subject", ""))]
    headers += [("Message-ID", fields.get("Message-Id", ""))]
    raw = _compose(headers, _text(fields.get("body-plain")), _text(fields.get("body-html")))
    return parse_raw(raw, received_at, provider="mailgun")


def sendgrid(fields: Mapping[str, str], received_at: datetime) -> InboundMessage:
    """SendGrid Inbound Parse: raw mode's ``email`` field, or headers/text/html."""
    mime = _text(fields.get("email"))
    if mime:
        return parse_raw(_bytes(mime), received_at, provider="sendgrid")
    block = fields.get("headers") or ""
    try:
        parsed = HeaderParser(policy=policy.compat32).parsestr(block)
        headers = [(k, str(v)) for k, v in parsed.items()]
    except (ValueError, TypeError, email.errors.MessageError):
        headers = []
    headers += [("From", fields.get("from", "")), ("Subject", fields.get("subject", ""))]
    raw = _compose(headers, _text(fields.get("text")), _text(fields.get("html")))
    return parse_raw(raw, received_at, provider="sendgrid")


def postmark(body: bytes, received_at: datetime) -> InboundMessage:
    """Postmark's inbound JSON; the real Message-ID is among its ``Headers``."""
    data = json_object(body)
    headers: list[tuple[str, str]] = []
    for item in items(data.get("Headers"), "Headers"):
        if isinstance(item, dict) and isinstance(item.get("Name"), str):
            headers.append((item["Name"], str(item.get("Value") or "")))
    full = data.get("FromFull")
    sender: dict[str, Any] = full if isinstance(full, dict) else {}
    address = _text(sender.get("Email")) or _text(data.get("From"))
    if not address:
        raise PayloadError("the mail has no sender")
    name = _text(sender.get("Name")) or _text(data.get("FromName"))
    quoted_name = name.replace("\\", "").replace('"', "") if name else None
    headers.append(("From", f'"{quoted_name}" <{address}>' if quoted_name else address))
    headers += [("Subject", str(data.get("Subject") or "")), ("Date", str(data.get("Date") or ""))]
    # Without the original Message-ID, Postmark's own id keeps retries deduplicated.
    own = _text(data.get("MessageID"))
    if own:
        headers.append(("Message-ID", f"<{own}@postmark>"))
    raw = _compose(headers, _text(data.get("TextBody")), _text(data.get("HtmlBody")))
    return parse_raw(raw, received_at, provider="postmark")
