"""E-mail: a raw RFC 5322 message (MIME, encoded words, any charset) to a message.

The text is the new part only: quoted replies and signatures are cut by
mail-parser-reply; an HTML-only mail is turned into text by html-text.
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import parsedate_to_datetime

import html_text
from mailparser_reply import EmailReplyParser

from adapters.message import Attachment, Channel, InboundMessage, PayloadError, Sender

MAX_PARTS = 200  # a message with more parts is a MIME bomb, not a customer writing
MAX_TEXT = 100_000
_MESSAGE_ID = re.compile(r"<[^<>\s]+>")
_REPLIES = EmailReplyParser(languages=["en", "de", "fr", "es", "it", "nl"])
# What a broken header or part can raise from the standard library's parser.
_BROKEN = (ValueError, IndexError, TypeError, AttributeError, LookupError, RecursionError)


def _header(msg: EmailMessage, name: str) -> str | None:
    try:
        value = msg.get(name)
    except _BROKEN:
        return None
    return str(value).strip() if value is not None else None


def _ids(value: str | None) -> list[str]:
    return _MESSAGE_ID.findall(value or "")


def _sender(msg: EmailMessage) -> Sender:
    try:
        header = msg["From"]
        addresses = header.addresses if header is not None else ()
    except _BROKEN:
        addresses = ()
    for address in addresses:
        if address.addr_spec and "@" in address.addr_spec:
            addr = address.addr_spec.strip()
            return Sender(
                external_id=addr.casefold(), email=addr, display_name=address.display_name or None
            )
    raise PayloadError("no sender address in From")


def _body(msg: EmailMessage) -> str:
    try:
        part = msg.get_body(preferencelist=("plain", "html"))
    except _BROKEN:
        return ""
    if part is None:
        return ""
    try:
        content = part.get_content()
    except _BROKEN:
        # An unknown or wrong charset: the bytes as UTF-8, undecodable ones replaced,
        # rather than losing what the customer wrote.
        payload = part.get_payload(decode=True)
        content = payload.decode("utf-8", errors="replace") if isinstance(payload, bytes) else ""
    if not isinstance(content, str):
        return ""
    content = content.replace("\r\n", "\n")[:MAX_TEXT]
    if part.get_content_subtype() == "html":
        content = html_text.extract_text(content)
    return str(_REPLIES.read(text=content).latest_reply or content).strip()


def _sent_at(msg: EmailMessage, received_at: datetime) -> datetime:
    raw = _header(msg, "Date")
    try:
        when = parsedate_to_datetime(raw) if raw else None
    except _BROKEN:
        when = None
    if when is None:
        return received_at
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def parse_raw(raw: bytes, received_at: datetime, provider: str = "raw") -> InboundMessage:
    try:
        msg = BytesParser(policy=policy.default).parsebytes(raw)
        parts = sum(1 for _ in msg.walk())
    except _BROKEN:
        raise PayloadError("the message cannot be parsed as MIME") from None
    if parts > MAX_PARTS:
        raise PayloadError(f"more than {MAX_PARTS} MIME parts")
    assert isinstance(msg, EmailMessage)
    sender = _sender(msg)
    own_ids = _ids(_header(msg, "Message-ID"))
    own = own_ids[0] if own_ids else None
    # Without a Message-ID the content is the only stable key across retries.
    key = own or "sha256:" + hashlib.sha256(raw).hexdigest()
    parents = _ids(_header(msg, "In-Reply-To")) + _ids(_header(msg, "References"))
    try:
        attachments = [
            Attachment(
                content_type=part.get_content_type(),
                name=part.get_filename(),
                size=len(part.get_payload(decode=True) or b""),
            )
            for part in msg.iter_attachments()
        ]
    except _BROKEN:
        attachments = []
    return InboundMessage(
        channel=Channel.EMAIL,
        provider=provider,
        event_id=key,
        dedup_key=f"email:{key}",
        sender=sender,
        text=_body(msg),
        subject=_header(msg, "Subject"),
        sent_at=_sent_at(msg, received_at),
        private=True,
        thread_keys=[f"email:{i}" for i in dict.fromkeys([*([own] if own else []), *parents])],
        attachments=attachments,
    )
