"""The lookup call chat tools make: who is this sender, and what must the rep know."""

from __future__ import annotations

from datetime import UTC, datetime

from aiohttp import web
from pydantic import BaseModel, Field

from adapters.delivery import Delivery, Format
from service.context import ContextCard
from service.context.continuation import with_likely_case
from service.conversations.brief import Brief
from service.http.apikeys import Scope
from service.http.appkeys import (
    CARD_SOURCE,
    CONVERSATIONS,
    CUSTOMERS,
    DELIVERIES,
    KEYS,
    REDIS,
    RESOLVER,
    TAXONOMY,
)
from service.http.bodies import json_model, read_model
from service.http.middleware import on_request_line, requires
from service.http.openapi import documented
from service.http.routes.common import (
    audit,
    audited,
    card_of,
    context_card,
    conversation_brief,
)
from service.ingest.deliveries import Accepted
from service.ops.logs import get_logger
from service.resolution.query import ResolveQuery
from service.resolution.resolver import Resolution
from service.schemas import LookupRequest
from service.schemas.conversation import ConversationDetail

routes = web.RouteTableDef()
log = get_logger("socialid.lookup")


class LookupResponse(BaseModel):
    resolution: Resolution
    context: ContextCard | None = Field(
        default=None, description="The context card, when the sender resolved to a customer."
    )
    brief: Brief | None = Field(
        default=None, description="The conversation's brief, when the thread is known."
    )
    recorded: Accepted | None = Field(
        default=None, description='With "record": true, what was stored for processing.'
    )


async def _thread(request: web.Request, channel: str, thread: str) -> ConversationDetail | None:
    """A conversation named by its id, or by the tool's thread key (recorded lookups)."""
    store = request.app[CONVERSATIONS]
    if thread.startswith("conv_"):
        return await store.get(thread)
    found = await request.app[REDIS].get(request.app[KEYS].thread(f"lookup:{channel}:{thread}"))
    return await store.get(str(found)) if found else None


@routes.post("/v1/lookup")
@documented(
    "Who is this sender, and what must the rep know.",
    body=LookupRequest,
    responses={200: LookupResponse},
)
@requires(Scope.INTEGRATION, Scope.REP)
async def lookup(request: web.Request) -> web.Response:
    query = await read_model(request, LookupRequest)
    sender = query.sender
    # A sender already linked (the common case): link, record and history in one read.
    known = (
        await request.app[CARD_SOURCE].linked(query.channel.value, sender.external_id)
        if sender.external_id
        else None
    )
    if known is not None:
        owner, customer, history = known
        answer = LookupResponse(resolution=Resolution.linked(owner))
        if customer is not None:
            answer.context = await card_of(request, customer, history)
    else:
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
            found = await request.app[CUSTOMERS].get(resolution.customer_id)
            if found is not None:
                answer.context = await context_card(request, found)
    if answer.context is not None and query.text:
        answer.context = with_likely_case(
            answer.context, query.text, query.channel.value, request.app[TAXONOMY]
        )
    looked = [
        audited(request, "lookup", c)
        for c in dict.fromkeys(
            [
                *([answer.resolution.customer_id] if answer.resolution.customer_id else []),
                *(c.customer_id for c in answer.resolution.candidates),
            ]
        )
    ]
    if query.thread:
        conversation = await _thread(request, query.channel.value, query.thread)
        if conversation is not None:
            answer.brief = await conversation_brief(request, conversation)
            looked.append(
                audited(
                    request,
                    "brief_read",
                    conversation.customer_id,
                    conversation=conversation.id,
                )
            )
    await audit(request, *looked)
    if query.record:
        delivery = Delivery(
            format=Format.LOOKUP,
            received_at=datetime.now(UTC),
            body=query.model_dump_json(exclude_none=True).encode(),
        )
        answer.recorded = await request.app[DELIVERIES].receive(delivery)
    # On the request's canonical line, not a line of its own (the lookup is the busiest
    # call there is); nothing that names the sender.
    on_request_line(
        request,
        channel=query.channel.value,
        outcome=answer.resolution.status,
        resolution_method=answer.resolution.method,
    )
    return json_model(answer)
