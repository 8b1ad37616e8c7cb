"""The lookup call chat tools make: who is this sender, and what must the rep know."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from aiohttp import web
from pydantic import BaseModel

from service.apikeys import Scope
from service.appkeys import CUSTOMERS, HISTORY, SETTINGS
from service.bodies import json_model, read_model
from service.context import ContextCard, build_card
from service.logs import get_logger
from service.middleware import requires
from service.models import LookupRequest

routes = web.RouteTableDef()
log = get_logger("socialid.lookup")


class Resolution(BaseModel):
    status: Literal["matched", "no_match"]
    customer_id: str | None = None
    reason: str


class LookupResponse(BaseModel):
    resolution: Resolution
    context: ContextCard | None = None


@routes.post("/v1/lookup")
@requires(Scope.INTEGRATION, Scope.REP)
async def lookup(request: web.Request) -> web.Response:
    query = await read_model(request, LookupRequest)
    store = request.app[CUSTOMERS]
    customer_id = None
    if query.sender.external_id:
        customer_id = await store.resolve_identity(query.channel, query.sender.external_id)
    customer = await store.get(customer_id) if customer_id else None
    if customer is None:
        answer = LookupResponse(
            resolution=Resolution(status="no_match", reason="no linked identity")
        )
    else:
        settings = request.app[SETTINGS]
        events = await request.app[HISTORY].recent(customer.id, settings.context_history_limit)
        answer = LookupResponse(
            resolution=Resolution(
                status="matched", customer_id=customer.id, reason="identity already linked"
            ),
            context=build_card(customer, events, datetime.now(UTC).date(), settings.card_settings),
        )
    # The sender's handle and text are masked by the log processor; logged for tracing.
    log.info(
        "lookup",
        channel=query.channel,
        handle=query.sender.handle,
        text=query.text,
        outcome=answer.resolution.status,
    )
    return json_model(answer)
