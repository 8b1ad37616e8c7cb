"""Webhooks of the social channels and forums: Twitter/X, Meta (Facebook, Instagram),
Discourse and the generic forum JSON. Each verifies before it stores."""

from __future__ import annotations

from aiohttp import web

from adapters import discourse, facebook, twitter
from adapters.delivery import Format
from adapters.signatures import matches, sha256_hex
from service.http.appkeys import SETTINGS
from service.http.openapi import documented
from service.http.problems import ProblemError
from service.http.routes.webhook_common import receive, refuse, secret_of, signed_json
from service.ingest.deliveries import Accepted

routes = web.RouteTableDef()
GENERIC_FORUM_SIGNATURE = "X-Socialid-Signature"


@routes.get("/webhooks/twitter")
@documented("X's CRC challenge: the signed response token.", produces="application/json")
async def twitter_crc(request: web.Request) -> web.Response:
    secret = secret_of(request.app[SETTINGS].twitter_consumer_secret, "TWITTER_CONSUMER_SECRET")
    token = request.query.get("crc_token")
    if not token:
        raise ProblemError(400, "crc_token is required.", slug="validation-failed")
    return web.json_response(twitter.crc_response(token, secret))


@routes.post("/webhooks/twitter")
@documented("X Account Activity deliveries (signed).", responses={200: Accepted})
async def twitter_events(request: web.Request) -> web.Response:
    secret = secret_of(request.app[SETTINGS].twitter_consumer_secret, "TWITTER_CONSUMER_SECRET")
    body = await signed_json(
        request, "twitter", twitter.SIGNATURE_HEADER, lambda b, s: twitter.verify(b, s, secret)
    )
    return await receive(request, Format.TWITTER, body)


@routes.get("/webhooks/facebook")
@documented("Meta's hub verification: the challenge echoed.", produces="text/plain")
async def facebook_hub(request: web.Request) -> web.Response:
    token = secret_of(request.app[SETTINGS].facebook_verify_token, "FACEBOOK_VERIFY_TOKEN")
    answer = facebook.challenge(request.query, token)
    if answer is None:
        raise await refuse(request, "facebook", "mismatch")
    return web.Response(text=answer)


@routes.post("/webhooks/facebook")
@documented("Meta deliveries: Messenger, Page feed, Instagram (signed).", responses={200: Accepted})
async def facebook_events(request: web.Request) -> web.Response:
    secret = secret_of(request.app[SETTINGS].facebook_app_secret, "FACEBOOK_APP_SECRET")
    body = await signed_json(
        request, "facebook", facebook.SIGNATURE_HEADER, lambda b, s: facebook.verify(b, s, secret)
    )
    return await receive(request, Format.FACEBOOK, body)


@routes.post("/webhooks/forum")
@documented("Discourse or generic forum deliveries (signed).", responses={200: Accepted})
async def forum_events(request: web.Request) -> web.Response:
    """Discourse (recognised by its X-Discourse-Event header) or the generic forum JSON,
    signed the same way: ``sha256=`` + hex HMAC-SHA256 of the body."""
    secret = secret_of(request.app[SETTINGS].discourse_secret, "DISCOURSE_SECRET")
    event = request.headers.get(discourse.EVENT_HEADER)
    header = discourse.SIGNATURE_HEADER if event else GENERIC_FORUM_SIGNATURE
    body = await signed_json(
        request, "forum", header, lambda b, s: matches(sha256_hex(secret, b), s)
    )
    if event is None:
        return await receive(request, Format.FORUM, body)
    meta = {"event": event, "instance": request.headers.get(discourse.INSTANCE_HEADER, "")}
    return await receive(request, Format.DISCOURSE, body, meta)
