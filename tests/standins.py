"""Providers' send APIs as real servers on loopback, which record what they are sent:
an aiohttp app for X, the Graph API and Discourse, and an aiosmtpd SMTP server."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiosmtpd.smtp import SMTP, Envelope, Session

# What each provider answers a send with, as its documentation shows it.
ANSWERS: dict[str, tuple[int, Any]] = {
    "dm": (201, {"data": {"dm_conversation_id": "900001-555123", "dm_event_id": "1582838223"}}),
    "tweet": (201, {"data": {"id": "1801000000000000001", "text": "reply"}}),
    "messages": (200, {"recipient_id": "7700112233", "message_id": "m_sent_1"}),
    "comments": (200, {"id": "104400_9001_78"}),
    "posts": (200, {"id": 913, "post_number": 5, "topic_id": 1204}),
}


def _kind(path: str) -> str:
    if path.startswith("/2/dm_conversations/"):
        return "dm"
    if path == "/2/tweets":
        return "tweet"
    if path.endswith("/me/messages"):
        return "messages"
    if path.endswith(("/comments", "/replies")):
        return "comments"
    return "posts"


@dataclass
class Request:
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class StandIn:
    """Answers every POST as the provider would, or as a test tells it to."""

    requests: list[Request] = field(default_factory=list)
    answer: tuple[int, Any] | None = None  # instead of the provider's usual answer
    delay: float = 0.0

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/{tail:.*}", self._handle)
        return app

    async def _handle(self, request: web.Request) -> web.Response:
        self.requests.append(Request(request.path, dict(request.headers), await request.json()))
        if self.delay:
            await asyncio.sleep(self.delay)
        status, body = self.answer or ANSWERS[_kind(request.path)]
        return web.json_response(body, status=status)


@dataclass
class Inbox:
    """An SMTP server's handler: keeps every mail, or refuses the recipient as told."""

    mails: list[Envelope] = field(default_factory=list)
    refuse: str | None = None

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if self.refuse:
            return self.refuse
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.mails.append(envelope)
        return "250 Message accepted for delivery"


def quiet_smtp_server() -> None:
    # The stand-in server's own debug lines quote the SMTP dialogue (the customer's
    # address); they are not the service's lines, which the suite's log scan checks.
    logging.getLogger("mail.log").setLevel(logging.WARNING)
