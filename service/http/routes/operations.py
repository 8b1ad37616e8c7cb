"""Ops endpoints: liveness, readiness, Prometheus metrics, problem types. No auth."""

from __future__ import annotations

import asyncio
import time
from typing import Literal

from aiohttp import web
from pydantic import BaseModel
from redis.exceptions import RedisError

from service.http.appkeys import (
    DELIVERIES,
    EVENT_DELIVERIES,
    KEYS,
    METRICS,
    REDIS,
    SETTINGS,
    SUBSCRIPTIONS,
)
from service.http.bodies import json_model
from service.http.openapi import documented
from service.http.problems import PROBLEM_TYPES
from service.store.redistypes import text_map

routes = web.RouteTableDef()


class RedisHealth(BaseModel):
    ok: bool
    latency_ms: float | None = None
    reason: str | None = None


class Health(BaseModel):
    status: Literal["live", "ready", "unavailable"]
    redis: RedisHealth | None = None


@routes.get("/health/live")
@documented("Liveness: the process answers.", responses={200: Health})
async def live(_request: web.Request) -> web.Response:
    return json_model(Health(status="live"))


@routes.get("/health/ready")
@documented(
    "Readiness: the store answers a PING within the timeout.", responses={200: Health, 503: Health}
)
async def ready(request: web.Request) -> web.Response:
    timeout = request.app[SETTINGS].redis_timeout
    started = time.perf_counter()
    try:
        async with asyncio.timeout(timeout):
            await request.app[REDIS].ping()
    except (RedisError, OSError, TimeoutError) as exc:
        request.app[METRICS].redis_errors.labels("health").inc()
        reason = "timeout" if isinstance(exc, TimeoutError) else type(exc).__name__
        return json_model(
            Health(status="unavailable", redis=RedisHealth(ok=False, reason=reason)), status=503
        )
    latency = round((time.perf_counter() - started) * 1000, 2)
    return json_model(Health(status="ready", redis=RedisHealth(ok=True, latency_ms=latency)))


@routes.get("/problems/{slug}")
@documented("What a problem type means and what to do about it.", produces="text/plain")
async def problem_type(request: web.Request) -> web.Response:
    slug = request.match_info["slug"]
    if slug not in PROBLEM_TYPES:
        raise web.HTTPNotFound()
    return web.Response(text=f"{slug}\n\n{PROBLEM_TYPES[slug]}\n")


async def _store_gauges(request: web.Request) -> None:
    """Figures every process shares, read from the store when scraped."""
    m = request.app[METRICS]
    try:
        async with asyncio.timeout(request.app[SETTINGS].redis_timeout):
            lag, waiting, dead = await request.app[DELIVERIES].backlog()
            counts = text_map(
                await request.app[REDIS].hgetall(request.app[KEYS].resolution_counts())
            )
            subscriptions = [s.id for s in await request.app[SUBSCRIPTIONS].listed()]
            pending, dead_events = await request.app[EVENT_DELIVERIES].totals(subscriptions)
    except (RedisError, OSError, TimeoutError):
        m.redis_errors.labels("metrics").inc()
        return  # the request metrics are still worth serving
    m.ingest_lag.set(lag)
    m.ingest_waiting.set(waiting)
    m.dead_letters.set(dead)
    m.events_pending.set(pending)
    m.events_dead.set(dead_events)
    for label, count in counts.items():
        channel, _, status = label.partition(":")
        m.resolutions.labels(channel, status).set(int(count))


@routes.get("/metrics")
@documented("Prometheus metrics.", produces="text/plain")
async def metrics(request: web.Request) -> web.Response:
    await _store_gauges(request)
    m = request.app[METRICS]
    resp = web.Response(body=m.render())
    resp.headers["Content-Type"] = m.content_type
    return resp
