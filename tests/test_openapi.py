"""The API description is built from the routes that run and their models."""

from __future__ import annotations

from aiohttp import web

from tests.helpers import AppClient


async def test_every_route_is_described_with_its_models(client: AppClient) -> None:
    resp = await client.get("/openapi.json")
    assert resp.status == 200
    doc = await resp.json()
    assert doc["openapi"].startswith("3.1")
    described = {(path, method.upper()) for path, ops in doc["paths"].items() for method in ops}
    app: web.Application = client.app
    running = {
        (route.resource.canonical, route.method)
        for route in app.router.routes()
        if route.resource is not None and route.method not in ("HEAD", "*")
    }
    assert described == running
    lookup = doc["paths"]["/v1/lookup"]["post"]
    body = lookup["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    assert body.endswith("/LookupRequest")
    answer = lookup["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    assert answer.endswith("/LookupResponse")
    assert lookup["security"] == [{"bearer": []}]
    schemas = doc["components"]["schemas"]
    assert {"LookupRequest", "LookupResponse", "Problem", "ConversationDetail"} <= set(schemas)
    assert "thread" in schemas["LookupRequest"]["properties"]
    history = doc["paths"]["/v1/customers/{customer_id}/history"]["get"]
    assert {p["name"] for p in history["parameters"]} >= {"customer_id", "limit", "cursor"}


async def test_the_reference_page_reads_in_a_browser(client: AppClient) -> None:
    resp = await client.get("/docs")
    assert resp.status == 200
    assert resp.content_type == "text/html"
    page = await resp.text()
    assert "POST /v1/lookup" in page
    assert "LookupResponse" in page
