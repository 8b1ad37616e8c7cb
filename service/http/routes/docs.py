"""The API description: ``/openapi.json`` (OpenAPI 3.1) and a readable ``/docs`` page."""

from __future__ import annotations

import html
import json
from typing import Any

from aiohttp import web

from service.http.appkeys import OPENAPI
from service.http.openapi import build_openapi, documented

routes = web.RouteTableDef()


def _document(app: web.Application) -> dict[str, Any]:
    document = app[OPENAPI]
    if not document:  # built on first use: the router is complete and frozen by then
        document.update(build_openapi(app))
    return document


@routes.get("/openapi.json")
@documented("The OpenAPI 3.1 description of this service.", produces="application/json")
async def openapi(request: web.Request) -> web.Response:
    """The OpenAPI 3.1 description of this service."""
    return web.json_response(_document(request.app))


@routes.get("/docs")
@documented("The API reference, readable in a browser.", produces="text/html")
async def docs(request: web.Request) -> web.Response:
    """The API reference, readable in a browser."""
    document = _document(request.app)
    by_tag: dict[str, list[str]] = {}
    for path, operations in sorted(document["paths"].items()):
        for method, op in operations.items():
            params = ", ".join(
                f"{p['name']} ({p['in']}{', required' if p.get('required') else ''})"
                for p in op.get("parameters", [])
            )
            body = op.get("requestBody", {}).get("content", {})
            sent = ", ".join(f"{ctype}: {_name(spec['schema'])}" for ctype, spec in body.items())
            answers = ", ".join(
                f"{status} {_name(r['content']['application/json']['schema'])}"
                if "application/json" in r.get("content", {})
                else status
                for status, r in op["responses"].items()
                if status != "default"
            )
            by_tag.setdefault(op["tags"][0], []).append(
                f"<tr><td><code>{method.upper()} {html.escape(path)}</code></td>"
                f"<td>{html.escape(op['summary'])}<br>"
                f"<small>{html.escape(op.get('description', ''))}</small></td>"
                f"<td>{html.escape(params)}</td><td>{html.escape(sent)}</td>"
                f"<td>{html.escape(answers)}</td></tr>"
            )
    sections = "".join(
        f"<h2>{html.escape(tag)}</h2><table><tr><th>call</th><th>what</th><th>parameters"
        f"</th><th>body</th><th>answers</th></tr>{''.join(rows)}</table>"
        for tag, rows in sorted(by_tag.items())
    )
    schemas = "".join(
        f"<h3 id='{html.escape(name)}'>{html.escape(name)}</h3><pre>"
        f"{html.escape(json.dumps(schema, indent=2))}</pre>"
        for name, schema in sorted(document["components"]["schemas"].items())
    )
    page = (
        "<!doctype html><html><head><meta charset='utf-8'><title>socialid API</title>"
        "<link rel='stylesheet' href='/docs.css'></head>"
        f"<body><h1>socialid {html.escape(document['info']['version'])}</h1>"
        "<p>Errors are <code>application/problem+json</code> (RFC 9457). Machine-readable: "
        f"<a href='/openapi.json'>/openapi.json</a>.</p>{sections}<h2>Schemas</h2>{schemas}"
        "</body></html>"
    )
    return web.Response(text=page, content_type="text/html")


# A file of its own, not inline: the pages' Content-Security-Policy allows no inline style.
_STYLE = (
    "body{font-family:sans-serif;margin:2em;max-width:80em}table{border-collapse:collapse;"
    "width:100%}td,th{border:1px solid #ccc;padding:.3em;vertical-align:top;text-align:left}"
    "pre{background:#f6f6f6;padding:.5em;overflow:auto}"
)


@routes.get("/docs.css")
@documented("The API reference's style sheet.", produces="text/css")
async def docs_style(request: web.Request) -> web.Response:
    """The API reference's style sheet."""
    return web.Response(text=_STYLE, content_type="text/css")


def _name(schema: dict[str, Any]) -> str:
    return str(schema.get("$ref", "object")).rsplit("/", 1)[-1]
