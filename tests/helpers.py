"""Small helpers shared by the tests."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web
from aiohttp.test_utils import TestClient

ADMIN_TOKEN = "test-admin-token-0123456789"
AppClient = TestClient[web.Request, web.Application]
MakeClient = Callable[..., Awaitable[AppClient]]
PROBLEM = "application/problem+json"


def admin() -> dict[str, str]:
    return bearer(ADMIN_TOKEN)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
