"""Headers a security review asks for first, on every kind of response."""

from __future__ import annotations

import pytest

from tests.helpers import AppClient, admin

pytestmark = pytest.mark.cluster


async def test_every_response_carries_the_security_headers(client: AppClient) -> None:
    answers = {
        "json": await client.get("/v1/customers/search?q=Dana", headers=admin()),
        "problem": await client.get("/v1/customers/nobody", headers=admin()),
        "unauthorised": await client.get("/v1/customers/nobody"),
        "no route": await client.get("/nowhere"),
        "health": await client.get("/health"),
        "page": await client.get("/docs"),
    }
    for what, resp in answers.items():
        assert resp.headers["X-Content-Type-Options"] == "nosniff", what
        assert resp.headers["Referrer-Policy"] == "no-referrer", what
        server = resp.headers.get("Server", "")
        assert "aiohttp" not in server, what
        assert "Python" not in server, what
    for what in ("json", "problem", "unauthorised"):
        assert answers[what].headers["Cache-Control"] == "no-store", what


async def test_pages_have_a_strict_content_security_policy(client: AppClient) -> None:
    page = await client.get("/docs")
    policy = page.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy
    assert "unsafe-inline" not in policy
    assert "http" not in policy
    html = await page.text()
    assert "<style" not in html
    assert "<script" not in html
    style = await client.get("/docs.css")
    assert style.status == 200
    assert style.content_type == "text/css"
