"""Conversations for reps: read, queue, claim, release, close, reopen, reply, note, brief."""

from __future__ import annotations

import re
import secrets
from typing import Literal, TypeVar

from aiohttp import web
from pydantic import BaseModel, Field

from service.conversations.brief import Brief
from service.conversations.repository import ConversationStore
from service.conversations.scriptcalls import ConversationError, Operation
from service.http.apikeys import Scope
from service.http.appkeys import CONVERSATIONS, REPLIES
from service.http.bodies import json_model, query_model, read_model
from service.http.middleware import requires
from service.http.openapi import documented
from service.http.problems import ProblemError
from service.http.routes.common import (
    acting_rep,
    audit,
    audited,
    conversation_brief,
    if_match,
)
from service.schemas import Strict
from service.schemas.conversation import (
    Act,
    Conversation,
    ConversationDetail,
    ConversationList,
    ReplyIn,
    SendOutcome,
    SetPriority,
    Status,
    TeamName,
    WithText,
)

routes = web.RouteTableDef()
A = TypeVar("A", bound=Act)
_ID = re.compile(r"^conv_[0-9a-f]{24}$")
_REPLY_ID = re.compile(r"^reply_[0-9a-f]{16}$")
_PATH = "/v1/conversations/{conversation_id}"


class ListQuery(Strict):
    owner: str | None = Field(default=None, max_length=64)
    status: Status | None = None
    limit: int = Field(default=50, ge=1, le=500)


class QueueQuery(Strict):
    team: TeamName
    limit: int = Field(default=50, ge=1, le=500)


class Recorded(BaseModel):
    id: str
    conversation: Conversation
    send: SendOutcome | None = Field(
        default=None,
        description='A reply with "send": true: what became of sending it (also logged in '
        "the conversation as reply_sent, reply_failed or reply_send_off).",
    )


def _store(request: web.Request) -> ConversationStore:
    return request.app[CONVERSATIONS]


def _conversation_id(request: web.Request) -> str:
    conversation_id = request.match_info["conversation_id"]
    if not _ID.match(conversation_id):
        raise ProblemError(404, "No conversation has this id.", slug="conversation-not-found")
    return conversation_id


async def _detail(request: web.Request, conversation_id: str) -> ConversationDetail:
    found = await _store(request).get(conversation_id)
    if found is None:
        raise ProblemError(404, "No conversation has this id.", slug="conversation-not-found")
    return found


def _version(request: web.Request, body: Act) -> int | None:
    """The version the caller read: the body's, else If-Match's."""
    if body.version is not None:
        return body.version
    given = if_match(request)
    if given is None:
        return None
    try:
        return int(given.removeprefix("W/").strip('"'))
    except ValueError:
        raise ProblemError(
            412, "If-Match must carry the conversation's version.", slug="precondition-failed"
        ) from None


async def _acting(request: web.Request, model: type[A]) -> tuple[A, str]:
    """The body, and the rep who acts (see ``acting_rep``), who must exist."""
    body = await read_model(request, model)
    rep = acting_rep(request, body.rep)
    try:
        await _store(request).reps.existing_rep(rep)
    except ConversationError as exc:
        raise ProblemError(422, exc.detail, slug="rep-not-found") from None
    return body, rep


@routes.get("/v1/conversations")
@documented(
    "Conversations by owner and/or status.", query=ListQuery, responses={200: ConversationList}
)
@requires(Scope.REP, Scope.INTEGRATION)
async def list_conversations(request: web.Request) -> web.Response:
    q = query_model(request, ListQuery)
    found = await _store(request).listed(q.owner, q.status, q.limit)
    return json_model(ConversationList(conversations=found))


@routes.get("/v1/queue")
@documented(
    "A team's queue: conversations not closed, SLA due first.",
    query=QueueQuery,
    responses={200: ConversationList},
)
@requires(Scope.REP, Scope.INTEGRATION)
async def team_queue(request: web.Request) -> web.Response:
    q = query_model(request, QueueQuery)
    return json_model(ConversationList(conversations=await _store(request).queue(q.team, q.limit)))


@routes.get(_PATH)
@documented("A conversation with its log.", responses={200: ConversationDetail})
@requires(Scope.REP, Scope.INTEGRATION)
async def get_conversation(request: web.Request) -> web.Response:
    found = await _detail(request, _conversation_id(request))
    response = json_model(found)
    response.headers["ETag"] = f'"{found.version}"'
    return response


async def _act(request: web.Request, op: Operation, model: type[Act] = Act) -> web.Response:
    conversation_id = _conversation_id(request)
    body, rep = await _acting(request, model)
    await _store(request).act(
        conversation_id, op, rep, version=_version(request, body), text_=body.argument()
    )
    await audit(
        request, audited(request, f"conversation_{op}", conversation=conversation_id, rep=rep)
    )
    found = await _detail(request, conversation_id)
    response = json_model(found.head())
    response.headers["ETag"] = f'"{found.version}"'
    return response


@routes.post(_PATH + "/claim")
@documented(
    "Claim: the rep becomes the owner (409 with the owner if someone was first).",
    body=Act,
    responses={200: Conversation},
)
@requires(Scope.REP, Scope.INTEGRATION)
async def claim(request: web.Request) -> web.Response:
    return await _act(request, "claim")


@routes.post(_PATH + "/release")
@documented("Release: back to the team's queue.", body=Act, responses={200: Conversation})
@requires(Scope.REP, Scope.INTEGRATION)
async def release(request: web.Request) -> web.Response:
    return await _act(request, "release")


@routes.post(_PATH + "/close")
@documented("Close the conversation.", body=Act, responses={200: Conversation})
@requires(Scope.REP, Scope.INTEGRATION)
async def close(request: web.Request) -> web.Response:
    return await _act(request, "close")


@routes.post(_PATH + "/reopen")
@documented(
    "Reopen a closed conversation, owned by the rep.", body=Act, responses={200: Conversation}
)
@requires(Scope.REP, Scope.INTEGRATION)
async def reopen(request: web.Request) -> web.Response:
    return await _act(request, "reopen")


@routes.post(_PATH + "/priority")
@documented(
    "Set the priority: the SLA due time follows (SOCIALID_SLA_MINUTES).",
    body=SetPriority,
    responses={200: Conversation},
)
@requires(Scope.REP, Scope.INTEGRATION)
async def priority(request: web.Request) -> web.Response:
    return await _act(request, "priority", SetPriority)


async def _write(request: web.Request, op: Literal["reply", "note"]) -> web.Response:
    conversation_id = _conversation_id(request)
    body, rep = await _acting(request, ReplyIn if op == "reply" else WithText)
    entry_id = f"{op}_{secrets.token_hex(8)}"
    store = _store(request)
    version = _version(request, body)
    sent: SendOutcome | None = None
    if op == "reply":
        # The customer's history event for it is written in the same step.
        await store.reply(
            conversation_id, rep, version=version, text_=body.argument(), reply_id=entry_id
        )
        # Recorded first: a send that fails, or a service that dies while sending, still
        # leaves the reply in the log for the next shift (and for a retry).
        if isinstance(body, ReplyIn) and body.send:
            sent = await request.app[REPLIES].send(conversation_id, entry_id, rep, body.text)
    else:
        await store.act(
            conversation_id, op, rep, version=version, text_=body.argument(), ref=entry_id
        )
    detail = {"send": sent.status} if sent else None
    await audit(
        request,
        audited(
            request, f"conversation_{op}", conversation=conversation_id, rep=rep, detail=detail
        ),
    )
    found = await _detail(request, conversation_id)
    return json_model(Recorded(id=entry_id, conversation=found.head(), send=sent), status=201)


@routes.post(_PATH + "/replies")
@documented(
    'Record the owner\'s reply to the customer; with "send": true, also send it on the '
    "conversation's channel (the outcome is in `send`).",
    body=ReplyIn,
    responses={201: Recorded},
)
@requires(Scope.REP, Scope.INTEGRATION)
async def reply(request: web.Request) -> web.Response:
    return await _write(request, "reply")


@routes.post(_PATH + "/replies/{reply_id}/send")
@documented(
    "Send a recorded reply again (the owner): one whose send failed or was off. A reply "
    "the customer got is never sent twice (409).",
    body=Act,
    responses={200: Recorded},
)
@requires(Scope.REP, Scope.INTEGRATION)
async def send_reply(request: web.Request) -> web.Response:
    conversation_id = _conversation_id(request)
    reply_id = request.match_info["reply_id"]
    if not _REPLY_ID.match(reply_id):
        raise ProblemError(404, "No reply has this id.", slug="reply-not-found")
    _, rep = await _acting(request, Act)
    found = await _detail(request, conversation_id)
    if found.owner != rep:
        raise ConversationError(
            409,
            "not-owner",
            f"Only the owner may send a reply; the owner is {found.owner or 'nobody'}.",
            {"owner": found.owner, "version": found.version},
        )
    sent = await request.app[REPLIES].resend(conversation_id, reply_id, rep)
    await audit(
        request,
        audited(
            request,
            "conversation_reply_send",
            conversation=conversation_id,
            rep=rep,
            detail={"send": sent.status},
        ),
    )
    found = await _detail(request, conversation_id)
    return json_model(Recorded(id=reply_id, conversation=found.head(), send=sent))


@routes.post(_PATH + "/notes")
@documented("Add an internal note (owner only).", body=WithText, responses={201: Recorded})
@requires(Scope.REP, Scope.INTEGRATION)
async def note(request: web.Request) -> web.Response:
    return await _write(request, "note")


@routes.get(_PATH + "/brief")
@documented("What the incoming rep needs to carry on.", responses={200: Brief})
@requires(Scope.REP, Scope.INTEGRATION)
async def brief(request: web.Request) -> web.Response:
    found = await _detail(request, _conversation_id(request))
    brief = await conversation_brief(request, found)
    await audit(request, audited(request, "brief_read", found.customer_id, conversation=found.id))
    return json_model(brief)
