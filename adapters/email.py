"""E-mail: a raw RFC 5322 message (MIME, encoded words, any charset) to a message.

The text is the new part only: quoted replies and signatures are cut by
mail-parser-reply; an HTML-only mail is turned into text by html-text.
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime
from email import policy
from email.headerregistry import HeaderRegistry
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import EmailPolicy, Policy
from email.utils import parsedate_to_datetime
from typing import Any

import html_text
from mailparser_reply import EmailReplyParser

from adapters.message import Attachment, Channel, InboundMessage, PayloadError, ReplyRef, Sender

MAX_PARTS = 200  # a message with more parts is a MIME bomb, not a customer writing
MAX_TEXT = 100_000
# The standard library's header parser takes time quadratic in a header's length on
# hostile input (100 KB of '"' in From: two and a half minutes), and parses a header
# again on every read. A message may spend this much: the square of the length of each
# distinct value parsed (one header of 3,000 characters, or 900 of 100), a few tenths
# of a second at worst.
MAX_HEADER_WORK = 3_000**2
# Printable ASCII, as RFC 5322 writes them: an id is a key in the store.
_MESSAGE_ID = re.compile(r"<[!-;=?-~]+>")
# Read as their ids alone, by the pattern above: never parsed, so never too long.
_ID_HEADERS = frozenset({"message-id", "in-reply-to", "references"})
_REPLIES = EmailReplyParser(languages=["en", "de", "fr", "es", "it", "nl"])
# What a broken header or part can raise from the standard library's parser.
BROKEN = (ValueError, IndexError, TypeError, AttributeError, LookupError, RecursionError)


class TooCostly(Exception):
    """A message past a limit. Not a ValueError, so that no handler of broken headers
    swallows it on its way up to ``parse_raw``, which makes it a ``PayloadError``."""


class Reading(HeaderRegistry):
    """The limits of reading one message. Its policy makes every header value parsed and
    every part made go through them; it is the header registry of that policy."""

    def __init__(self) -> None:
        super().__init__()
        self.work = 0
        self.parts = 0
        self._parsed: dict[tuple[str, str], Any] = {}
        # refold_source "none": the id headers, plain strings, are written unfolded.
        self.policy: EmailPolicy[EmailMessage] = policy.default.clone(
            header_factory=self, message_factory=self._part, refold_source="none"
        )

    def __call__(self, name: str, value: Any) -> Any:
        key = (name.lower(), str(value))
        if key[0] in _ID_HEADERS:
            return " ".join(_ids(key[1]))
        found = self._parsed.get(key)
        if found is None:
            self.work += len(key[1]) ** 2
            if self.work > MAX_HEADER_WORK:
                raise TooCostly("the headers are too long to read")
            found = self._parsed[key] = super().__call__(name, value)
        return found

    def _part(self, policy: Policy[EmailMessage]) -> EmailMessage:
        # Counted as the parser makes them: 200,000 empty parts take it 15 s to make.
        self.parts += 1
        if self.parts > MAX_PARTS:
            raise TooCostly(f"more than {MAX_PARTS} MIME parts")
        return EmailMessage(policy)


def _header(msg: EmailMessage, name: str) -> str | None:
    try:
        value = msg.get(name)
    except BROKEN:
        return None
    return str(value).strip() if value is not None else None


def _ids(value: str | None) -> list[str]:
    return _MESSAGE_ID.findall(value or "")


def _unicode(text: str) -> str:
    """The text with lone surrogates (which charsets such as UTF-7 decode to, and which
    no store can encode) replaced."""
    return text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")


def _sender(msg: EmailMessage) -> Sender:
    try:
        header = msg["From"]
        addresses = header.addresses if header is not None else ()
    except BROKEN:
        addresses = ()
    for address in addresses:
        if address.addr_spec and "@" in address.addr_spec:
            addr = address.addr_spec.strip()
            return Sender(
                external_id=_unicode(addr.casefold()),
                email=_unicode(addr),
                display_name=_unicode(address.display_name) or None,
            )
    raise PayloadError("no sender address in From")


def _body(msg: EmailMessage) -> str:
    try:
        part = msg.get_body(preferencelist=("plain", "html"))
    except BROKEN:
        return ""
    if part is None:
        return ""
    try:
        content = part.get_content()
    except BROKEN:
        # An unknown or wrong charset: the bytes as UTF-8, undecodable ones replaced,
        # rather than losing what the customer wrote.
        payload = part.get_payload(decode=True)
        content = payload.decode("utf-8", errors="replace") if isinstance(payload, bytes) else ""
    if not isinstance(content, str):
        return ""
    content = _unicode(content.replace("\r\n", "\n")[:MAX_TEXT])
    if part.get_content_subtype() == "html":
        content = html_text.extract_text(content)
    return _new_part(content)


# mail-parser-reply's patterns take time quadratic in a run of white space and in the
# length of a line that starts "On ": 100,000 newlines took a quarter of an hour. Runs
# of spaces and of blank lines become one, and it reads the first REPLY_WINDOW
# characters only.
_SPACES = re.compile(r"[^\S\n]+")
_BLANK_LINES = re.compile(r"\n\s*\n")
REPLY_WINDOW = 3_000


def _new_part(content: str) -> str:
    """What the customer wrote above the quoted mail they answer."""
    text = _BLANK_LINES.sub("\n\n", _SPACES.sub(" ", content))
    window = text[:REPLY_WINDOW]
    replies = _REPLIES.read(text=window).replies
    if len(replies) < 2 and len(window) < len(text):
        return text.strip()  # no quote header in the window: the new part may run past it
    return str(replies[0].content or text).strip()


def _sent_at(msg: EmailMessage, received_at: datetime) -> datetime:
    raw = _header(msg, "Date")
    try:
        when = parsedate_to_datetime(raw) if raw else None
    except BROKEN:
        when = None
    if when is None:
        return received_at
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def parse_raw(raw: bytes, received_at: datetime, provider: str = "raw") -> InboundMessage:
    try:
        return _read(raw, received_at, provider)
    except TooCostly as exc:
        raise PayloadError(str(exc)) from None


def _read(raw: bytes, received_at: datetime, provider: str) -> InboundMessage:
    try:
        msg = BytesParser(policy=Reading().policy).parsebytes(raw)
    except BROKEN:
        raise PayloadError("the message cannot be parsed as MIME") from None
    sender = _sender(msg)
    own_ids = _ids(_header(msg, "Message-ID"))
    own = own_ids[0] if own_ids else None
    # Without a Message-ID the content is the only stable key across retries.
    key = own or "sha256:" + hashlib.sha256(raw).hexdigest()
    in_reply_to = _ids(_header(msg, "In-Reply-To"))
    references = _ids(_header(msg, "References"))
    parents = in_reply_to + references
    try:
        attachments = [
            Attachment(
                content_type=_unicode(part.get_content_type()),
                name=_unicode(name) if (name := part.get_filename()) else None,
                size=len(part.get_payload(decode=True) or b""),
            )
            for part in msg.iter_attachments()
        ]
    except BROKEN:
        attachments = []
    return InboundMessage(
        channel=Channel.EMAIL,
        provider=provider,
        event_id=key,
        dedup_key=f"email:{key}",
        sender=sender,
        text=_body(msg),
        subject=_unicode(subject) if (subject := _header(msg, "Subject")) is not None else None,
        sent_at=_sent_at(msg, received_at),
        private=True,
        thread_keys=[f"email:{i}" for i in dict.fromkeys([*([own] if own else []), *parents])],
        attachments=attachments,
        # A reply's References are the thread's and then this message's (RFC 5322 3.6.4).
        reply_ref=ReplyRef(references=references or in_reply_to[:1]),
    )
