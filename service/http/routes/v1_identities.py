"""Identity links by people: link, unlink (undo), rule a candidate out, read the history."""

from __future__ import annotations

import re

from aiohttp import web

from service.http.apikeys import Scope
from service.http.appkeys import LINKS
from service.http.bodies import json_model, query_model, read_model
from service.http.middleware import requires
from service.http.openapi import documented
from service.http.problems import ProblemError
from service.http.routes.common import audit, audited, person
from service.resolution.links import IdentityState, LinkIn, RejectionIn, UnlinkIn
from service.schemas.fields import EXTERNAL_ID_PATTERN, Channel

routes = web.RouteTableDef()
_PATH = "/v1/identities/{channel}/{external_id}"
_EXTERNAL_ID = re.compile(EXTERNAL_ID_PATTERN)


def _identity(request: web.Request) -> tuple[Channel, str]:
    raw_channel = request.match_info["channel"]
    external_id = request.match_info["external_id"]
    try:
        channel = Channel(raw_channel)
    except ValueError:
        raise ProblemError(
            404,
            f"No such channel; channels are {', '.join(c.value for c in Channel)}.",
            slug="not-found",
        ) from None
    if not external_id.strip() or not _EXTERNAL_ID.fullmatch(external_id):
        raise ProblemError(
            404,
            "No identity can have this id (1 to 320 characters, no control characters).",
            slug="not-found",
        )
    return channel, external_id


async def _audit(
    request: web.Request, action: str, customer_id: str, channel: Channel, method: str | None
) -> None:
    # Channel and method only: the audit trail outlives an erasure, so it must not name
    # the identity itself.
    detail = {"channels": [channel.value], **({"method": method} if method else {})}
    await audit(request, audited(request, action, customer_id, detail=detail))


@routes.get(_PATH)
@documented("A channel identity's link, rejections and history.", responses={200: IdentityState})
@requires(Scope.REP, Scope.INTEGRATION)
async def get_identity(request: web.Request) -> web.Response:
    channel, external_id = _identity(request)
    return json_model(await request.app[LINKS].state(channel, external_id))


@routes.put(_PATH)
@documented(
    "Link a channel identity to a customer.",
    body=LinkIn,
    responses={200: IdentityState, 201: IdentityState},
)
@requires(Scope.REP, Scope.INTEGRATION)
async def link_identity(request: web.Request) -> web.Response:
    channel, external_id = _identity(request)
    link = await read_model(request, LinkIn)
    created, state = await request.app[LINKS].link(channel, external_id, link, person(request))
    if created:
        await _audit(request, "identity_linked", link.customer_id, channel, link.method)
    return json_model(state, status=201 if created else 200)


@routes.delete(_PATH)
@documented("Undo a link, with a reason.", body=UnlinkIn, responses={200: IdentityState})
@requires(Scope.REP, Scope.INTEGRATION)
async def unlink_identity(request: web.Request) -> web.Response:
    channel, external_id = _identity(request)
    # The reason comes as a JSON body or, for clients that send no body with DELETE,
    # as ?reason=; it is required either way.
    unlink = (
        await read_model(request, UnlinkIn)
        if request.can_read_body
        else query_model(request, UnlinkIn)
    )
    customer_id, state = await request.app[LINKS].unlink(
        channel, external_id, unlink, person(request)
    )
    await _audit(request, "identity_unlinked", customer_id, channel, None)
    return json_model(state)


@routes.post(_PATH + "/rejections")
@documented(
    "Rule a customer out for this identity.",
    body=RejectionIn,
    responses={200: IdentityState, 201: IdentityState},
)
@requires(Scope.REP, Scope.INTEGRATION)
async def reject_candidate(request: web.Request) -> web.Response:
    channel, external_id = _identity(request)
    rejection = await read_model(request, RejectionIn)
    created, state = await request.app[LINKS].reject(
        channel, external_id, rejection, person(request)
    )
    if created:
        await _audit(request, "candidate_rejected", rejection.customer_id, channel, None)
    return json_model(state, status=201 if created else 200)


@routes.delete(_PATH + "/rejections/{customer_id}")
@documented("Withdraw a rejection.", responses={200: IdentityState})
@requires(Scope.REP, Scope.INTEGRATION)
async def withdraw_rejection(request: web.Request) -> web.Response:
    channel, external_id = _identity(request)
    customer_id = request.match_info["customer_id"]
    state: IdentityState = await request.app[LINKS].withdraw(
        channel, external_id, customer_id, person(request)
    )
    await _audit(request, "rejection_withdrawn", customer_id, channel, None)
    return json_model(state)
