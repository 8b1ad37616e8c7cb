"""One small sender per channel, behind one narrow interface: ``send(target, text)``
answers what became of it and never raises for what a provider does (a refusal, a
timeout, a connection that fails are each a ``failed`` result with the reason)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import make_msgid
from typing import Any, Protocol

import aiohttp
import aiosmtplib
from pydantic import SecretStr

from adapters.message import Channel
from service.outbound.calls import (
    MAX_REASON,
    CannotSend,
    HttpCall,
    discourse_call,
    discourse_sent_id,
    meta_call,
    meta_sent_id,
    provider_error,
    x_call,
    x_sent_id,
)
from service.outbound.mail import domain_of, email_reply
from service.outbound.target import ReplyTarget
from service.schemas.conversation import SendStatus
from service.settings import Settings


@dataclass(frozen=True, slots=True)
class SendResult:
    status: SendStatus
    provider_id: str | None = None
    provider_status: int | None = None
    reason: str | None = None


class ReplySender(Protocol):
    async def send(self, target: ReplyTarget, text: str) -> SendResult: ...


@dataclass(frozen=True, slots=True)
class Off:
    """A channel whose credentials are not set: nothing is sent, and the reply says why."""

    reason: str

    async def send(self, target: ReplyTarget, text: str) -> SendResult:
        return SendResult("off", reason=self.reason)


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return None


class HttpSender:
    """A provider's HTTP send API: the call is built by a pure function, sent, and its
    answer read by another."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        provider: str,
        build: Callable[[ReplyTarget, str], HttpCall],
        sent_id: Callable[[Any], str | None],
    ) -> None:
        self._session = session
        self._provider = provider
        self._build = build
        self._sent_id = sent_id

    async def send(self, target: ReplyTarget, text: str) -> SendResult:
        try:
            call = self._build(target, text)
        except CannotSend as exc:
            return SendResult("off", reason=str(exc))
        try:
            # No redirects: the credentials go to the configured host and nowhere else.
            async with self._session.post(
                call.url, json=call.body, headers=call.headers, allow_redirects=False
            ) as response:
                status, raw = response.status, await response.read()
        except TimeoutError:
            waited = self._session.timeout.total
            return SendResult("failed", reason=f"{self._provider} did not answer within {waited} s")
        except aiohttp.ClientError as exc:
            return SendResult(
                "failed", reason=f"{self._provider} could not be reached ({type(exc).__name__})"
            )
        answer = _json(raw)
        if 200 <= status < 300:
            return SendResult("sent", provider_id=self._sent_id(answer), provider_status=status)
        reason = provider_error(answer) or f"{self._provider} answered HTTP {status}"
        return SendResult("failed", provider_status=status, reason=reason)


class SmtpSender:
    """E-mail replies, threaded under the customer's last mail, through an SMTP server."""

    def __init__(self, settings: Settings, host: str, from_: str) -> None:
        self._host = host
        self._port = settings.smtp_port
        self._from = from_
        self._username = settings.smtp_username
        password = settings.smtp_password
        self._password = password.get_secret_value() if password else None
        self._starttls = settings.smtp_starttls
        self._timeout = settings.send_timeout

    async def send(self, target: ReplyTarget, text: str) -> SendResult:
        message_id = make_msgid(domain=domain_of(self._from))
        try:
            message = email_reply(
                self._from, target, text, message_id=message_id, at=datetime.now(UTC)
            )
        except CannotSend as exc:
            return SendResult("off", reason=str(exc))
        try:
            await aiosmtplib.send(
                message,
                hostname=self._host,
                port=self._port,
                username=self._username,
                password=self._password,
                start_tls=self._starttls,
                timeout=self._timeout,
            )
        except aiosmtplib.SMTPTimeoutError:
            return SendResult(
                "failed", reason=f"the SMTP server did not answer within {self._timeout} s"
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            refused = exc.recipients[0] if exc.recipients else None
            return SendResult(
                "failed",
                provider_status=refused.code if refused else None,
                reason=(refused.message if refused else str(exc))[:MAX_REASON],
            )
        except aiosmtplib.SMTPResponseException as exc:
            return SendResult("failed", provider_status=exc.code, reason=exc.message[:MAX_REASON])
        except (aiosmtplib.SMTPException, OSError) as exc:
            return SendResult(
                "failed", reason=f"SMTP: {str(exc)[:MAX_REASON] or type(exc).__name__}"
            )
        return SendResult("sent", provider_id=message_id)


def missing(settings: Settings) -> dict[Channel, list[str]]:
    """Per channel, the settings its send needs that are not set (empty: it is on)."""
    needs: dict[Channel, tuple[str, ...]] = {
        Channel.TWITTER: ("twitter_access_token",),
        Channel.FACEBOOK: ("facebook_page_token",),
        Channel.INSTAGRAM: ("facebook_page_token",),
        Channel.FORUM: ("discourse_url", "discourse_api_key", "discourse_api_username"),
        Channel.EMAIL: ("smtp_host", "email_from"),
    }
    return {
        channel: [f"SOCIALID_{n.upper()}" for n in names if getattr(settings, n) is None]
        for channel, names in needs.items()
    }


class Senders:
    """The sender of each channel: the provider's, or ``Off`` with what is missing."""

    def __init__(self, settings: Settings, session: aiohttp.ClientSession) -> None:
        self._by_channel: dict[Channel, ReplySender] = {}
        for channel, unset in missing(settings).items():
            if unset:
                verb = "is" if len(unset) == 1 else "are"
                self._by_channel[channel] = Off(f"{', '.join(unset)} {verb} not set")
            else:
                self._by_channel[channel] = _sender(channel, settings, session)

    def of(self, channel: Channel) -> ReplySender:
        return self._by_channel[channel]


def _set(value: str | None) -> str:
    assert value is not None  # missing() found it set
    return value


def _secret(value: SecretStr | None) -> str:
    assert value is not None  # missing() found it set
    return value.get_secret_value()


def _sender(channel: Channel, s: Settings, session: aiohttp.ClientSession) -> ReplySender:
    if channel is Channel.TWITTER:
        token = _secret(s.twitter_access_token)
        return HttpSender(
            session, "X", lambda t, text: x_call(s.twitter_api_url, token, t, text), x_sent_id
        )
    if channel in (Channel.FACEBOOK, Channel.INSTAGRAM):
        page = _secret(s.facebook_page_token)
        return HttpSender(
            session,
            "the Graph API",
            lambda t, text: meta_call(s.facebook_graph_url, page, t, text),
            meta_sent_id,
        )
    if channel is Channel.FORUM:
        base, user = _set(s.discourse_url), _set(s.discourse_api_username)
        key = _secret(s.discourse_api_key)
        return HttpSender(
            session,
            "Discourse",
            lambda t, text: discourse_call(base, key, user, t, text),
            discourse_sent_id,
        )
    return SmtpSender(s, _set(s.smtp_host), _set(s.email_from))
