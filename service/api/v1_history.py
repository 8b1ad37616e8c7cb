"""A customer's history: add events, page through them, and the context card."""

from __future__ import annotations

from datetime import UTC, datetime

from aiohttp import web
from pydantic import BaseModel, Field, TypeAdapter

from service.api.common import customer_id, existing_customer
from service.apikeys import Scope
from service.appkeys import HISTORY, SETTINGS
from service.bodies import json_model, query_model, read_as
from service.context import build_card
from service.middleware import requires
from service.models import EventIn, Strict

routes = web.RouteTableDef()
_EVENTS = TypeAdapter(EventIn | list[EventIn])


class EventsAdded(BaseModel):
    received: int
    added: int = Field(description="Events not stored before (the rest were resends).")


class HistoryQuery(Strict):
    limit: int = Field(default=50, ge=1, le=500)
    cursor: str | None = None
    type: list[str] = Field(default_factory=list)
    channel: list[str] = Field(default_factory=list)
    since: datetime | None = None
    until: datetime | None = None


@routes.post("/v1/customers/{customer_id}/events")
@requires(Scope.ADMIN, Scope.INTEGRATION)
async def post_events(request: web.Request) -> web.Response:
    await existing_customer(request)
    parsed = await read_as(request, _EVENTS)
    events = parsed if isinstance(parsed, list) else [parsed]
    added = await request.app[HISTORY].add(customer_id(request), events)
    return json_model(EventsAdded(received=len(events), added=added), status=201)


@routes.get("/v1/customers/{customer_id}/history")
@requires(Scope.REP, Scope.ADMIN, Scope.INTEGRATION)
async def get_history(request: web.Request) -> web.Response:
    query = query_model(request, HistoryQuery, lists=frozenset({"type", "channel"}))
    await existing_customer(request)
    page = await request.app[HISTORY].page(
        customer_id(request),
        limit=query.limit,
        cursor=query.cursor,
        types=frozenset(t for v in query.type for t in v.split(",")),
        channels=frozenset(c for v in query.channel for c in v.split(",")),
        since=query.since,
        until=query.until,
    )
    return json_model(page)


@routes.get("/v1/customers/{customer_id}/context")
@requires(Scope.REP, Scope.ADMIN, Scope.INTEGRATION)
async def get_context(request: web.Request) -> web.Response:
    customer, _ = await existing_customer(request)
    settings = request.app[SETTINGS]
    events = await request.app[HISTORY].recent(customer.id, settings.context_history_limit)
    card = build_card(customer, events, datetime.now(UTC).date(), settings.card_settings)
    return json_model(card)
