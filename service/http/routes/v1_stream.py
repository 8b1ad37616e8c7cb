"""``GET /v1/stream?team=``: conversation events as server-sent events."""

from __future__ import annotations

import asyncio
import json

from aiohttp import web
from pydantic import Field

from service.http.apikeys import Scope
from service.http.appkeys import LIVE
from service.http.bodies import query_model
from service.http.middleware import requires
from service.http.openapi import documented
from service.schemas import Strict
from service.schemas.conversation import TeamName

routes = web.RouteTableDef()
HEARTBEAT = 15.0


class StreamQuery(Strict):
    team: TeamName | None = Field(default=None, description="Only this team's conversations.")


@routes.get("/v1/stream")
@documented(
    "Conversation events as server-sent events (text/event-stream).",
    query=StreamQuery,
    responses={200: None},
)
@requires(Scope.REP, Scope.INTEGRATION)
async def stream(request: web.Request) -> web.StreamResponse:
    q = query_model(request, StreamQuery)
    hub = request.app[LIVE]
    queue = hub.join()
    response = web.StreamResponse(
        headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
    )
    try:
        await response.prepare(request)
        await response.write(b": connected\n\n")
        while True:
            try:
                event = await asyncio.wait_for(queue.get(), timeout=HEARTBEAT)
            except TimeoutError:
                await response.write(b": keep-alive\n\n")  # proxies close silent streams
                continue
            if event is None:
                break  # the service is stopping
            if q.team is not None and event.get("team") != q.team:
                continue
            data = json.dumps(event, separators=(",", ":"))
            await response.write(
                f"event: {event.get('type', 'message')}\ndata: {data}\n\n".encode()
            )
    except (ConnectionResetError, asyncio.CancelledError):
        pass  # the client went away
    finally:
        hub.leave(queue)
    return response
