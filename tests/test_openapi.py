"""The API description is built from the routes that run and their models."""

from __future__ import annotations

import json

import jsonschema_rs
import pytest
from aiohttp import web

from tests.helpers import AppClient, admin

pytestmark = pytest.mark.cluster


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


async def test_a_card_with_a_bare_product_matches_its_description(client: AppClient) -> None:
    """A product with only a name, a household without a holder: every field an answer
    leaves out (None) is optional in the description, however deep the model."""
    customer = {
        "name": "Dana King",
        "household": {"id": "H-1", "role": "member"},
        "accounts": [{"number": "1", "products": [{"name": "Fibre"}]}],
    }
    assert (await client.put("/v1/customers/C-1", json=customer, headers=admin())).status == 201
    card = await (await client.get("/v1/customers/C-1/context", headers=admin())).json()
    doc = await (await client.get("/openapi.json")).json()
    as_defs = json.loads(
        json.dumps(doc["components"]["schemas"]).replace("#/components/schemas/", "#/$defs/")
    )
    schema = {"$defs": as_defs, "$ref": "#/$defs/ContextCard"}
    jsonschema_rs.validator_for(schema).validate(card)
