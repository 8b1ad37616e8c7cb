"""The lookup call chat tools make: who is this sender, and what must the rep know."""

from __future__ import annotations

from aiohttp import web
from pydantic import BaseModel, Field

from service.api.common import context_card
from service.apikeys import Scope
from service.appkeys import CUSTOMERS, RESOLVER
from service.bodies import json_model, read_model
from service.context import ContextCard
from service.logs import get_logger
from service.middleware import requires
from service.models import LookupRequest
from service.resolve import Resolution, ResolveQuery

routes = web.RouteTableDef()
log = get_logger("socialid.lookup")


class LookupResponse(BaseModel):
    resolution: Resolution
    context: ContextCard | None = Field(
        default=None, description="The context card, when the sender resolved to a customer."
    )


@routes.post("/v1/lookup")
@requires(Scope.INTEGRATION, Scope.REP)
async def lookup(request: web.Request) -> web.Response:
    query = await read_model(request, LookupRequest)
    sender = query.sender
    resolution = await request.app[RESOLVER].resolve(
        ResolveQuery(
            channel=query.channel,
            external_id=sender.external_id,
            handle=sender.handle,
            name=sender.display_name,
            email=sender.email,
            phone=sender.phone,
            text=query.text,
        )
    )
    answer = LookupResponse(resolution=resolution)
    if resolution.customer_id is not None:
        customer = await request.app[CUSTOMERS].get(resolution.customer_id)
        if customer is not None:
            answer.context = await context_card(request, customer)
    # The sender's handle and text are masked by the log processor; logged for tracing.
    log.info(
        "lookup",
        channel=query.channel,
        handle=sender.handle,
        text=query.text,
        outcome=resolution.status,
        method=resolution.method,
    )
    return json_model(answer)
