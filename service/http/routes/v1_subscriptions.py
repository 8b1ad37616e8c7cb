"""Subscriptions to events out over HTTP (admin): make, list, rotate the secret, delete;
each one's delivery log, and replay of its dead letters."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated

from aiohttp import web
from pydantic import BaseModel, Field, StringConstraints

from service.events.deliveries import DeliveryPage, DeliveryStatus
from service.events.subscriptions import (
    SecretRotated,
    Subscription,
    SubscriptionCreated,
    SubscriptionIn,
    SubscriptionList,
    SubscriptionNotFound,
)
from service.http.apikeys import Scope
from service.http.appkeys import EVENT_DELIVERIES, SETTINGS, SUBSCRIPTIONS
from service.http.bodies import json_model, query_model, read_model
from service.http.middleware import requires
from service.http.openapi import documented
from service.http.routes.common import audit, audited
from service.schemas import Strict

routes = web.RouteTableDef()
_ID = re.compile(r"^sub_[0-9a-f]{24}$")
EventId = Annotated[str, StringConstraints(pattern=r"^evt_\d{1,20}_\d{1,20}$")]
_PATH = "/v1/subscriptions/{subscription_id}"


class DeliveryQuery(Strict):
    status: DeliveryStatus | None = None
    limit: int = Field(default=50, ge=1, le=500)
    cursor: str | None = Field(default=None, description="next_cursor of the page before.")


class ReplayRequest(Strict):
    deliveries: list[EventId] | None = Field(
        default=None,
        max_length=1000,
        description="The dead letters to send again, by id; every dead letter when left out.",
    )


class Replayed(BaseModel):
    replayed: int = Field(description="Dead letters now pending again.")


def _subscription_id(request: web.Request) -> str:
    subscription_id = request.match_info["subscription_id"]
    if not _ID.match(subscription_id):
        raise SubscriptionNotFound
    return subscription_id


@routes.post("/v1/subscriptions")
@documented(
    "Subscribe a URL to events (its signing secret shown once).",
    body=SubscriptionIn,
    responses={201: SubscriptionCreated},
)
@requires(Scope.ADMIN)
async def create_subscription(request: web.Request) -> web.Response:
    body = await read_model(request, SubscriptionIn)
    made = await request.app[SUBSCRIPTIONS].create(body)
    detail = {"subscription_id": made.id, "events": made.events}
    await audit(request, audited(request, "subscription_created", detail=detail))
    return json_model(made, status=201)


@routes.get("/v1/subscriptions")
@documented("The subscriptions (never their secrets).", responses={200: SubscriptionList})
@requires(Scope.ADMIN)
async def list_subscriptions(request: web.Request) -> web.Response:
    found = await request.app[SUBSCRIPTIONS].listed()
    return json_model(SubscriptionList(subscriptions=found))


@routes.get(_PATH)
@documented("One subscription (never its secret).", responses={200: Subscription})
@requires(Scope.ADMIN)
async def get_subscription(request: web.Request) -> web.Response:
    return json_model(await request.app[SUBSCRIPTIONS].get(_subscription_id(request)))


@routes.delete(_PATH)
@documented("Delete a subscription and its deliveries.", responses={204: None})
@requires(Scope.ADMIN)
async def delete_subscription(request: web.Request) -> web.Response:
    subscription_id = _subscription_id(request)
    await request.app[SUBSCRIPTIONS].delete(subscription_id)
    detail = {"subscription_id": subscription_id}
    await audit(request, audited(request, "subscription_deleted", detail=detail))
    return web.Response(status=204)


@routes.post(_PATH + "/secret")
@documented(
    "Rotate the signing secret: the new one is shown once; the old one keeps signing "
    "beside it for SOCIALID_EVENTS_SECRET_OVERLAP_HOURS.",
    responses={200: SecretRotated},
)
@requires(Scope.ADMIN)
async def rotate_secret(request: web.Request) -> web.Response:
    subscription_id = _subscription_id(request)
    overlap = timedelta(hours=request.app[SETTINGS].events_secret_overlap_hours)
    rotated = await request.app[SUBSCRIPTIONS].rotate(subscription_id, overlap)
    detail = {"subscription_id": subscription_id}
    await audit(request, audited(request, "subscription_secret_rotated", detail=detail))
    return json_model(rotated)


@routes.get(_PATH + "/deliveries")
@documented(
    "The delivery log: each event sent, its attempts and outcome, newest first.",
    query=DeliveryQuery,
    responses={200: DeliveryPage},
)
@requires(Scope.ADMIN)
async def deliveries(request: web.Request) -> web.Response:
    subscription_id = _subscription_id(request)
    q = query_model(request, DeliveryQuery)
    await request.app[SUBSCRIPTIONS].get(subscription_id)  # 404 for an unknown one
    page = await request.app[EVENT_DELIVERIES].page(
        subscription_id, status=q.status, limit=q.limit, cursor=q.cursor
    )
    return json_model(page)


@routes.post(_PATH + "/replay")
@documented(
    "Send dead letters again, with a fresh retry window.",
    body=ReplayRequest,
    responses={200: Replayed},
)
@requires(Scope.ADMIN)
async def replay(request: web.Request) -> web.Response:
    subscription_id = _subscription_id(request)
    body = await read_model(request, ReplayRequest)
    await request.app[SUBSCRIPTIONS].get(subscription_id)
    replayed = await request.app[EVENT_DELIVERIES].replay(subscription_id, body.deliveries)
    detail = {"subscription_id": subscription_id, "replayed": replayed}
    await audit(request, audited(request, "subscription_replayed", detail=detail))
    return json_model(Replayed(replayed=replayed))
