"""Customers and their history."""

from __future__ import annotations

from datetime import UTC, datetime

from aiohttp import web
from pydantic import TypeAdapter, ValidationError

from service.apikeys import Scope
from service.appkeys import CUSTOMERS
from service.bodies import json_model, read_as, read_model
from service.context import build_card
from service.customers import IdentityConflict
from service.middleware import requires
from service.models import Customer, CustomerIn, EventIn, HistoryPage
from service.problems import ProblemError, from_validation_error

routes = web.RouteTableDef()
_EVENTS = TypeAdapter(EventIn | list[EventIn])


def _customer_id(request: web.Request) -> str:
    return request.match_info["customer_id"]


async def _existing(request: web.Request) -> Customer:
    customer = await request.app[CUSTOMERS].get(_customer_id(request))
    if customer is None:
        raise ProblemError(404, "No customer with this id.", slug="customer-not-found")
    return customer


@routes.put("/v1/customers/{customer_id}")
@requires(Scope.ADMIN, Scope.INTEGRATION)
async def put_customer(request: web.Request) -> web.Response:
    body = await read_model(request, CustomerIn)
    try:
        customer = Customer.model_validate({**body.model_dump(), "id": _customer_id(request)})
    except ValidationError as exc:
        raise from_validation_error(exc) from None
    try:
        created = await request.app[CUSTOMERS].put(customer)
    except IdentityConflict as exc:
        raise ProblemError(
            409,
            f"A {exc.channel} identity in this document is linked to another customer; "
            "unlink it there first.",
            slug="identity-conflict",
        ) from None
    return json_model(customer, status=201 if created else 200)


@routes.get("/v1/customers/{customer_id}")
@requires(Scope.REP, Scope.ADMIN, Scope.INTEGRATION)
async def get_customer(request: web.Request) -> web.Response:
    return json_model(await _existing(request))


@routes.post("/v1/customers/{customer_id}/events")
@requires(Scope.ADMIN, Scope.INTEGRATION)
async def post_events(request: web.Request) -> web.Response:
    await _existing(request)
    parsed = await read_as(request, _EVENTS)
    events = parsed if isinstance(parsed, list) else [parsed]
    added = await request.app[CUSTOMERS].add_events(_customer_id(request), events)
    return web.json_response({"received": len(events), "added": added}, status=201)


@routes.get("/v1/customers/{customer_id}/history")
@requires(Scope.REP, Scope.ADMIN, Scope.INTEGRATION)
async def get_history(request: web.Request) -> web.Response:
    await _existing(request)
    events = await request.app[CUSTOMERS].history(_customer_id(request))
    return json_model(HistoryPage(events=events))


@routes.get("/v1/customers/{customer_id}/context")
@requires(Scope.REP, Scope.ADMIN, Scope.INTEGRATION)
async def get_context(request: web.Request) -> web.Response:
    customer = await _existing(request)
    events = await request.app[CUSTOMERS].history(customer.id)
    return json_model(build_card(customer, events, today=datetime.now(UTC).date()))
