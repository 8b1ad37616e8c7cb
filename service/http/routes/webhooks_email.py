"""Inbound e-mail: raw RFC 5322, Mailgun routes, SendGrid Inbound Parse, Postmark."""

from __future__ import annotations

import base64
import binascii
import hmac
import json

from aiohttp import web
from multidict import MultiDictProxy

from adapters.delivery import Format
from adapters.email_providers import mailgun_verify
from service.http.apikeys import Scope
from service.http.appkeys import KEYS, REDIS, SETTINGS
from service.http.bodies import require_type
from service.http.middleware import requires
from service.http.openapi import documented
from service.http.problems import ProblemError
from service.http.routes.webhook_common import receive, refuse, secret_of
from service.ingest.deliveries import Accepted

routes = web.RouteTableDef()
_FORMS = ("multipart/form-data", "application/x-www-form-urlencoded")


async def _form(request: web.Request) -> dict[str, str]:
    """The text fields of a form post. Attached files are not kept: the message records
    that a file came, the store never holds its content."""
    require_type(request, *_FORMS)
    try:
        posted: MultiDictProxy[str | bytes | bytearray | web.FileField] = await request.post()
    except (ValueError, UnicodeDecodeError, AssertionError) as exc:
        raise ProblemError(400, f"The form cannot be read: {exc}", slug="bad-form") from None
    return {k: v for k, v in posted.items() if isinstance(v, str)}


def _as_body(fields: dict[str, str]) -> bytes:
    return json.dumps(fields, separators=(",", ":"), sort_keys=True).encode()


@routes.post("/webhooks/email/raw")
@documented("A raw RFC 5322 message.", responses={200: Accepted})
@requires(Scope.INTEGRATION)
async def raw_email(request: web.Request) -> web.Response:
    require_type(request, "message/rfc822")
    return await receive(request, Format.EMAIL_RAW, await request.read())


@routes.post("/webhooks/email/mailgun")
@documented("Mailgun route posts (signed).", responses={200: Accepted})
async def mailgun(request: web.Request) -> web.Response:
    settings = request.app[SETTINGS]
    key = secret_of(settings.mailgun_signing_key, "MAILGUN_SIGNING_KEY")
    fields = await _form(request)
    reason = mailgun_verify(fields, key, max_age=settings.mailgun_max_age)
    if reason is not None:
        raise await refuse(request, "email", reason)
    # A signed token is good once: a captured post replayed within the window is refused.
    nonce = request.app[KEYS].webhook_nonce("mailgun", fields["token"])
    if not await request.app[REDIS].set(nonce, "1", nx=True, ex=2 * settings.mailgun_max_age):
        raise await refuse(request, "email", "replayed")
    # The signature fields prove this post only; they are not part of the mail.
    mail = {k: v for k, v in fields.items() if k not in {"signature", "token", "timestamp"}}
    try:
        return await receive(request, Format.MAILGUN, _as_body(mail))
    except BaseException:
        # Not stored: Mailgun's retry of this post must not be refused as a replay.
        await request.app[REDIS].delete(nonce)
        raise


@routes.post("/webhooks/email/sendgrid/{secret}")
@documented("SendGrid Inbound Parse posts.", responses={200: Accepted})
async def sendgrid(request: web.Request) -> web.Response:
    expected = secret_of(request.app[SETTINGS].sendgrid_path_secret, "SENDGRID_PATH_SECRET")
    given = request.match_info["secret"]
    if not hmac.compare_digest(given.encode(), expected.encode()):
        raise await refuse(request, "email", "mismatch")
    return await receive(request, Format.SENDGRID, _as_body(await _form(request)))


@routes.post("/webhooks/email/postmark")
@documented("Postmark inbound JSON.", responses={200: Accepted})
async def postmark(request: web.Request) -> web.Response:
    expected = secret_of(request.app[SETTINGS].postmark_basic_auth, "POSTMARK_BASIC_AUTH")
    scheme, _, encoded = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "basic" or not encoded:
        error = await refuse(request, "email", "missing")
        error.headers["WWW-Authenticate"] = 'Basic realm="socialid"'
        raise error
    try:
        given = base64.b64decode(encoded.strip(), validate=True)
    except (binascii.Error, ValueError):
        given = b""
    if not hmac.compare_digest(given, expected.encode()):
        raise await refuse(request, "email", "mismatch")
    require_type(request, "application/json")
    return await receive(request, Format.POSTMARK, await request.read())
