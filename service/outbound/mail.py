"""An e-mail reply as a message: pure, so that its threading headers are tested
without a server (the SMTP sender in ``senders`` only sends it)."""

from __future__ import annotations

import re
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr

from service.outbound.calls import CannotSend
from service.outbound.target import ReplyTarget

# Enough of a long thread for mail clients to find it (RFC 5322 lets a reply trim it).
MAX_REFERENCES = 20
_RE = re.compile(r"^\s*re\s*:", re.IGNORECASE)


def _one_line(value: str) -> str:
    # A header value from a payload never adds a header of its own.
    return " ".join(value.split())


def reply_subject(subject: str | None) -> str:
    subject = _one_line(subject or "")
    if not subject:
        return "Re: your message"
    return subject if _RE.match(subject) else f"Re: {subject}"


def domain_of(address: str) -> str:
    return parseaddr(address)[1].rpartition("@")[2] or "localhost"


def email_reply(
    from_: str, target: ReplyTarget, text: str, *, message_id: str, at: datetime
) -> EmailMessage:
    """The reply to the customer's last mail, threaded under it: In-Reply-To its
    Message-ID, References the thread's and then its own."""
    recipient = parseaddr(_one_line(target.recipient))[1]
    if "@" not in recipient:
        raise CannotSend("the customer's e-mail address is not known")
    msg = EmailMessage()
    msg["From"] = from_
    try:
        msg["To"] = Address(addr_spec=recipient)
    except (ValueError, IndexError):
        raise CannotSend("the customer's e-mail address cannot be written as one") from None
    msg["Subject"] = reply_subject(target.subject)
    msg["Date"] = format_datetime(at)
    msg["Message-ID"] = message_id
    # Without a Message-ID the mail was stored under a digest of its content: nothing
    # for a mail client to thread under.
    if target.answers.startswith("<"):
        msg["In-Reply-To"] = target.answers
        msg["References"] = " ".join([*target.ref.references[-MAX_REFERENCES:], target.answers])
    msg.set_content(text)
    return msg
