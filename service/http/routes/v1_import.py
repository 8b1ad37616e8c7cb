"""Bulk import over HTTP: NDJSON bodies, streamed line by line."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from aiohttp import web
from pydantic import Field

from service.book.importer import SERVER_STOPPING, ImportStopped
from service.book.lines import split_lines_async
from service.http.apikeys import Scope
from service.http.appkeys import IMPORTER, STOPPING
from service.http.bodies import json_model, query_model
from service.http.middleware import requires
from service.http.problems import ProblemError
from service.http.routes.common import audit, audited
from service.schemas import Strict

routes = web.RouteTableDef()
_NDJSON = frozenset({"application/x-ndjson", "application/ndjson", "application/jsonl"})
_CHUNK = 64 * 1024


class ImportQuery(Strict):
    from_line: int = Field(default=1, ge=1, description="Skip the lines before this one.")


def _check_type(request: web.Request) -> None:
    if request.content_type not in _NDJSON:
        raise ProblemError(
            415,
            "Send NDJSON (one JSON object per line) as application/x-ndjson.",
            slug="unsupported-media-type",
        )


async def until_stopping(
    chunks: AsyncIterator[bytes], stopping: asyncio.Event
) -> AsyncIterator[bytes]:
    """The body's chunks until the server starts to stop: then ``ImportStopped``, so the
    import writes what it read and answers, rather than waiting out the shutdown."""
    stop = asyncio.ensure_future(stopping.wait())
    try:
        while True:
            step = asyncio.ensure_future(anext(chunks))
            await asyncio.wait({step, stop}, return_when=asyncio.FIRST_COMPLETED)
            if not step.done():
                step.cancel()
                raise ImportStopped
            try:
                yield step.result()
            except StopAsyncIteration:
                return
    finally:
        stop.cancel()


async def _import(request: web.Request, kind: str) -> web.Response:
    _check_type(request)
    query = query_model(request, ImportQuery)
    importer = request.app[IMPORTER]
    chunks = until_stopping(request.content.iter_chunked(_CHUNK), request.app[STOPPING])
    lines = split_lines_async(chunks)
    if kind == "customers":
        summary = await importer.customers(lines, from_line=query.from_line)
    else:
        summary = await importer.events(lines, from_line=query.from_line)
    if summary.aborted == SERVER_STOPPING:
        resume = summary.committed_through_line + 1
        raise ProblemError(
            503,
            f"The server is stopping. Every line up to {resume - 1} is written: send the rest "
            f"again with ?from_line={resume}.",
            slug="import-interrupted",
            headers={"Retry-After": "5"},
            extensions={"resume_from_line": resume, "summary": summary.model_dump(mode="json")},
        )
    detail = summary.model_dump(include={"kind", "lines", "accepted", "rejected"})
    await audit(request, audited(request, "import", detail=detail))
    return json_model(summary)


@routes.post("/v1/import/customers")
@requires(Scope.ADMIN)
async def import_customers(request: web.Request) -> web.Response:
    return await _import(request, "customers")


@routes.post("/v1/import/events")
@requires(Scope.ADMIN)
async def import_events(request: web.Request) -> web.Response:
    return await _import(request, "events")
