"""Processed messages, their conversations, and the dead letters of ingestion."""

from __future__ import annotations

import re

from aiohttp import web
from pydantic import AwareDatetime, Field, field_validator

from adapters.message import PayloadError
from service.conversations.case_moves import MessageNotFound
from service.conversations.messages import MessagePage, ResolutionStatus, StoredMessage
from service.http.apikeys import Scope
from service.http.appkeys import CASE_MOVES, DELIVERIES, MESSAGES
from service.http.bodies import json_model, query_model, read_model
from service.http.middleware import requires
from service.http.openapi import documented
from service.http.problems import ProblemError
from service.http.routes.common import audit, audited, person
from service.ingest.deliveries import Accepted, DeadLetterPage, NotFound
from service.schemas import Channel, ShortText, Strict
from service.store.paging import is_stream_id

routes = web.RouteTableDef()
_STREAM_ID = re.compile(r"^\d{1,20}-\d{1,20}$")
_MESSAGE_ID = re.compile(r"^msg_[0-9a-f]{24}$")


class MessageQuery(Strict):
    channel: Channel | None = None
    status: ResolutionStatus | None = None
    since: AwareDatetime | None = None
    until: AwareDatetime | None = None
    limit: int = Field(default=50, ge=1, le=500)
    cursor: str | None = None


class DeadLetterQuery(Strict):
    limit: int = Field(default=50, ge=1, le=500)
    cursor: str | None = Field(default=None, pattern=_STREAM_ID.pattern)

    @field_validator("cursor")
    @classmethod
    def _in_range(cls, value: str | None) -> str | None:
        if value is not None and not is_stream_id(value):
            raise ValueError("not a stream entry id: each part is at most 2^64 - 1")
        return value


@routes.get("/v1/messages")
@documented("Processed messages, newest first.", query=MessageQuery, responses={200: MessagePage})
@requires(Scope.REP, Scope.INTEGRATION)
async def list_messages(request: web.Request) -> web.Response:
    q = query_model(request, MessageQuery)
    page = await request.app[MESSAGES].page(
        channel=q.channel.value if q.channel else None,
        status=q.status,
        since=q.since,
        until=q.until,
        limit=q.limit,
        cursor=q.cursor,
    )
    return json_model(page)


@routes.get("/v1/messages/{message_id}")
@documented("A processed message with its resolution.", responses={200: StoredMessage})
@requires(Scope.REP, Scope.INTEGRATION)
async def get_message(request: web.Request) -> web.Response:
    message_id = request.match_info["message_id"]
    found = await request.app[MESSAGES].get(message_id) if _MESSAGE_ID.match(message_id) else None
    if found is None:
        raise ProblemError(404, "No processed message has this id.", slug="message-not-found")
    return json_model(found)


class MessageCase(Strict):
    case_id: ShortText | None = Field(
        description="One of the customer's open cases, or null: the message belongs to none."
    )
    note: ShortText | None = Field(default=None, description="Why, for the next rep.")


@routes.put("/v1/messages/{message_id}/case")
@documented(
    "Move a message to another of its customer's open cases, or to none (audited); the "
    "case's contacts count it from now on.",
    body=MessageCase,
    responses={200: StoredMessage},
)
@requires(Scope.REP, Scope.INTEGRATION)
async def set_case(request: web.Request) -> web.Response:
    message_id = request.match_info["message_id"]
    body = await read_model(request, MessageCase)
    if not _MESSAGE_ID.match(message_id):
        raise MessageNotFound
    moved = await request.app[CASE_MOVES].move(message_id, body.case_id, person(request), body.note)
    await audit(
        request,
        audited(
            request,
            "message_case_set",
            moved.message.resolution.customer_id,
            detail={"message_id": message_id, "from": moved.was, "to": body.case_id},
            conversation=moved.message.conversation_id,
        ),
    )
    return json_model(moved.message)


@routes.get("/v1/ingest/dead-letters")
@documented(
    "Deliveries that could not be read.", query=DeadLetterQuery, responses={200: DeadLetterPage}
)
@requires(Scope.ADMIN)
async def dead_letters(request: web.Request) -> web.Response:
    q = query_model(request, DeadLetterQuery)
    return json_model(await request.app[DELIVERIES].dead_letters(limit=q.limit, cursor=q.cursor))


@routes.post("/v1/ingest/dead-letters/{dead_id}/replay")
@documented("Parse a dead letter again and store it.", responses={200: Accepted})
@requires(Scope.ADMIN)
async def replay(request: web.Request) -> web.Response:
    dead_id = request.match_info["dead_id"]
    try:
        if not is_stream_id(dead_id):
            raise NotFound(dead_id)
        accepted = await request.app[DELIVERIES].replay(dead_id)
    except NotFound:
        raise ProblemError(
            404, "No dead letter has this id.", slug="dead-letter-not-found"
        ) from None
    except PayloadError as exc:
        raise ProblemError(422, f"Still unreadable: {exc}", slug="still-unreadable") from None
    return json_model(accepted)
