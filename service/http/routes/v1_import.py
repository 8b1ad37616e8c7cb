"""Bulk import over HTTP: NDJSON bodies, streamed line by line."""

from __future__ import annotations

from aiohttp import web
from pydantic import Field

from service.book.importer import ImportSummary
from service.book.lines import split_lines_async
from service.http.apikeys import Scope
from service.http.appkeys import IMPORTER
from service.http.bodies import json_model, query_model
from service.http.middleware import requires
from service.http.problems import ProblemError
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


async def _summary(request: web.Request, kind: str) -> ImportSummary:
    _check_type(request)
    query = query_model(request, ImportQuery)
    importer = request.app[IMPORTER]
    lines = split_lines_async(request.content.iter_chunked(_CHUNK))
    if kind == "customers":
        return await importer.customers(lines, from_line=query.from_line)
    return await importer.events(lines, from_line=query.from_line)


@routes.post("/v1/import/customers")
@requires(Scope.ADMIN)
async def import_customers(request: web.Request) -> web.Response:
    return json_model(await _summary(request, "customers"))


@routes.post("/v1/import/events")
@requires(Scope.ADMIN)
async def import_events(request: web.Request) -> web.Response:
    return json_model(await _summary(request, "events"))
