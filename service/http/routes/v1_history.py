"""A customer's history: add events, page through them, and the context card."""

from __future__ import annotations

from aiohttp import web
from pydantic import AwareDatetime, BaseModel, Field, TypeAdapter, field_validator

from service.context import ContextCard
from service.http.apikeys import Scope
from service.http.appkeys import HISTORY
from service.http.bodies import json_model, query_model, read_as
from service.http.middleware import requires
from service.http.openapi import documented
from service.http.problems import ProblemError
from service.http.routes.common import (
    audit,
    audited,
    context_card,
    customer_id,
    existing_customer,
)
from service.schemas import EventIn, EventType, HistoryPage, Strict

routes = web.RouteTableDef()
_ANY: TypeAdapter[object] = TypeAdapter(object)
_EVENT_LIST = TypeAdapter(list[EventIn])


class EventsAdded(BaseModel):
    received: int
    added: int = Field(description="Events not stored before (the rest were resends).")


class HistoryQuery(Strict):
    limit: int = Field(default=50, ge=1, le=500)
    cursor: str | None = None
    type: list[EventType] = Field(default_factory=list)
    channel: list[str] = Field(default_factory=list)
    since: AwareDatetime | None = None
    until: AwareDatetime | None = None

    @field_validator("type", "channel", mode="before")
    @classmethod
    def _comma_lists(cls, value: object) -> object:
        if isinstance(value, list):
            return [part.strip() for v in value for part in str(v).split(",") if part.strip()]
        return value


@routes.post("/v1/customers/{customer_id}/events")
@documented("Add events to the customer's history (one or a list).", responses={201: EventsAdded})
@requires(Scope.ADMIN, Scope.INTEGRATION)
async def post_events(request: web.Request) -> web.Response:
    # One event or a list: validate as whichever was sent, so errors point into it.
    parsed = await read_as(request, _ANY)
    events = (
        _EVENT_LIST.validate_python(parsed)
        if isinstance(parsed, list)
        else [EventIn.model_validate(parsed)]
    )
    added = await request.app[HISTORY].add(customer_id(request), events)
    if added is None:
        raise ProblemError(404, "No customer with this id.", slug="customer-not-found")
    detail = {"received": len(events), "added": added}
    await audit(request, audited(request, "events_added", customer_id(request), detail=detail))
    return json_model(EventsAdded(received=len(events), added=added), status=201)


@routes.get("/v1/customers/{customer_id}/history")
@documented("The history, newest first.", query=HistoryQuery, responses={200: HistoryPage})
@requires(Scope.REP, Scope.ADMIN, Scope.INTEGRATION)
async def get_history(request: web.Request) -> web.Response:
    query = query_model(request, HistoryQuery, lists=frozenset({"type", "channel"}))
    await existing_customer(request)
    await audit(request, audited(request, "history_read", customer_id(request)))
    page = await request.app[HISTORY].page(
        customer_id(request),
        limit=query.limit,
        cursor=query.cursor,
        types=frozenset(query.type),
        channels=frozenset(c.lower() for c in query.channel),
        since=query.since,
        until=query.until,
    )
    return json_model(page)


@routes.get("/v1/customers/{customer_id}/context")
@documented("The context card.", responses={200: ContextCard})
@requires(Scope.REP, Scope.ADMIN, Scope.INTEGRATION)
async def get_context(request: web.Request) -> web.Response:
    customer, _ = await existing_customer(request)
    card = await context_card(request, customer)
    await audit(request, audited(request, "card_read", customer.id))
    return json_model(card)
