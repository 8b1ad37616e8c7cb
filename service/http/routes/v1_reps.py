"""Reps and their shifts: ending a shift hands every open conversation over."""

from __future__ import annotations

import re

from aiohttp import web

from service.http.apikeys import Scope
from service.http.appkeys import CONVERSATIONS
from service.http.bodies import json_model, read_model
from service.http.middleware import requires
from service.http.openapi import documented
from service.http.problems import ProblemError
from service.http.routes.common import acting_rep, audit, audited
from service.schemas.conversation import REP_ID_PATTERN, Rep, RepIn, ShiftEnd, ShiftEnded

routes = web.RouteTableDef()
_REP_ID = re.compile(REP_ID_PATTERN)
_PATH = "/v1/reps/{rep_id}"


def _rep_id(request: web.Request) -> str:
    rep_id = request.match_info["rep_id"]
    if not _REP_ID.match(rep_id):
        raise ProblemError(404, "No rep can have this id.", slug="rep-not-found")
    return rep_id


def _as_rep(request: web.Request) -> str:
    """The path's rep, when the caller may act as them (a rep-bound key: only itself)."""
    return acting_rep(request, _rep_id(request))


@routes.put(_PATH)
@documented("Create or change a rep.", body=RepIn, responses={200: Rep, 201: Rep})
@requires(Scope.REP, Scope.ADMIN)
async def put_rep(request: web.Request) -> web.Response:
    rep_id = _as_rep(request)
    body = await read_model(request, RepIn)
    store = request.app[CONVERSATIONS]
    existed = await store.reps.rep(rep_id) is not None
    rep = await store.reps.put_rep(rep_id, body)
    await audit(request, audited(request, "rep_written", rep=rep_id))
    return json_model(rep, status=200 if existed else 201)


@routes.get(_PATH)
@documented("A rep, on shift or not, and what they own.", responses={200: Rep})
@requires(Scope.REP, Scope.INTEGRATION, Scope.ADMIN)
async def get_rep(request: web.Request) -> web.Response:
    return json_model(await request.app[CONVERSATIONS].reps.existing_rep(_rep_id(request)))


@routes.post(_PATH + "/shift/start")
@documented("Start the rep's shift.", responses={200: Rep})
@requires(Scope.REP, Scope.ADMIN)
async def shift_start(request: web.Request) -> web.Response:
    rep_id = _as_rep(request)
    started = await request.app[CONVERSATIONS].reps.shift_start(rep_id)
    await audit(request, audited(request, "shift_started", rep=rep_id))
    return json_model(started)


@routes.post(_PATH + "/shift/end")
@documented(
    "End the shift: every conversation handed over with the note.",
    body=ShiftEnd,
    responses={200: ShiftEnded},
)
@requires(Scope.REP, Scope.ADMIN)
async def shift_end(request: web.Request) -> web.Response:
    rep_id = _as_rep(request)
    body = await read_model(request, ShiftEnd) if request.can_read_body else ShiftEnd()
    ended = await request.app[CONVERSATIONS].reps.shift_end(rep_id, body.handoff_to, body.note)
    detail = {"to": ended.to, "handed_off": ended.handed_off}
    await audit(request, audited(request, "shift_ended", rep=rep_id, detail=detail))
    return json_model(ended)
