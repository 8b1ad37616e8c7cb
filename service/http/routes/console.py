"""The rep console (``/console``): static files of this package, no build step, served
with the pages' strict Content-Security-Policy; and ``/``, which points to it."""

from __future__ import annotations

from functools import cache
from importlib import resources

from aiohttp import web

from service.http.openapi import documented

routes = web.RouteTableDef()

# The console's files, by the name they are served under, with their media types.
_FILES = {
    "console.js": "text/javascript",
    "console.css": "text/css",
}

_HOME = (
    "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
    "<meta name='viewport' content='width=device-width, initial-scale=1'>"
    "<title>socialid</title><link rel='stylesheet' href='/docs.css'></head><body><main>"
    "<h1>socialid</h1><p>Who is writing to you, and what they have been through.</p>"
    "<ul><li><a href='/console'>Rep console</a>: the queue, the customer and the hand-off"
    "</li><li><a href='/docs'>API reference</a> (<a href='/openapi.json'>OpenAPI</a>)</li>"
    "</ul></main></body></html>"
)


@cache
def _read(name: str) -> str:
    return resources.files("service.console").joinpath(name).read_text(encoding="utf-8")


@routes.get("/")
@documented("Where to go: the console and the API reference.", produces="text/html")
async def home(request: web.Request) -> web.Response:
    """Where to go: the console and the API reference."""
    return web.Response(text=_HOME, content_type="text/html")


@routes.get("/console")
@documented("The rep console: sign in with a key bound to a rep.", produces="text/html")
async def console(request: web.Request) -> web.Response:
    """The rep console: sign in with a key bound to a rep."""
    return web.Response(text=_read("index.html"), content_type="text/html")


@routes.get("/console/{name}")
@documented("The console's script and style sheet.", produces="text/plain")
async def console_file(request: web.Request) -> web.Response:
    """The console's script and style sheet."""
    name = request.match_info["name"]
    if name not in _FILES:
        raise web.HTTPNotFound
    return web.Response(text=_read(name), content_type=_FILES[name])
