"""A customer's history: add events, page through them, and the context card."""

from __future__ import annotations

from datetime import UTC, datetime

from aiohttp import web
from pydantic import Field, TypeAdapter, ValidationError

from service.api.common import customer_id, existing_customer
from service.apikeys import Scope
from service.appkeys import HISTORY, SETTINGS
from service.bodies import json_model, read_as
from service.context import build_card
from service.history import BadCursor
from service.middleware import requires
from service.models import EventIn, Strict
from service.problems import ProblemError, from_validation_error

routes = web.RouteTableDef()
_EVENTS = TypeAdapter(EventIn | list[EventIn])


class HistoryQuery(Strict):
    limit: int = Field(default=50, ge=1, le=500)
    cursor: str | None = None
    type: list[str] = Field(default_factory=list)
    channel: list[str] = Field(default_factory=list)
    since: datetime | None = None
    until: datetime | None = None


def _query(request: web.Request) -> HistoryQuery:
    raw: dict[str, object] = {}
    for key in request.query:
        values = request.query.getall(key)
        raw[key] = values if key in ("type", "channel") else values[-1]
    try:
        return HistoryQuery.model_validate(raw)
    except ValidationError as exc:
        raise from_validation_error(exc) from None


@routes.post("/v1/customers/{customer_id}/events")
@requires(Scope.ADMIN, Scope.INTEGRATION)
async def post_events(request: web.Request) -> web.Response:
    await existing_customer(request)
    parsed = await read_as(request, _EVENTS)
    events = parsed if isinstance(parsed, list) else [parsed]
    added = await request.app[HISTORY].add(customer_id(request), events)
    return web.json_response({"received": len(events), "added": added}, status=201)


@routes.get("/v1/customers/{customer_id}/history")
@requires(Scope.REP, Scope.ADMIN, Scope.INTEGRATION)
async def get_history(request: web.Request) -> web.Response:
    query = _query(request)
    await existing_customer(request)
    try:
        page = await request.app[HISTORY].page(
            customer_id(request),
            limit=query.limit,
            cursor=query.cursor,
            types=frozenset(t for v in query.type for t in v.split(",")),
            channels=frozenset(c for v in query.channel for c in v.split(",")),
            since=query.since,
            until=query.until,
        )
    except BadCursor:
        raise ProblemError(
            400, "The cursor is not one this service issued.", slug="bad-cursor"
        ) from None
    return json_model(page)


@routes.get("/v1/customers/{customer_id}/context")
@requires(Scope.REP, Scope.ADMIN, Scope.INTEGRATION)
async def get_context(request: web.Request) -> web.Response:
    customer, _ = await existing_customer(request)
    settings = request.app[SETTINGS]
    events = await request.app[HISTORY].recent(customer.id, settings.context_history_limit)
    card = build_card(customer, events, datetime.now(UTC).date(), settings.card_settings)
    return json_model(card)
