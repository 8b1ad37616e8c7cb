"""Small pieces the /v1 route modules share."""

from __future__ import annotations

from aiohttp import web

from service.appkeys import CUSTOMERS, PRINCIPAL
from service.models import Customer
from service.problems import ProblemError


def customer_id(request: web.Request) -> str:
    return request.match_info["customer_id"]


async def existing_customer(request: web.Request) -> tuple[Customer, str]:
    found = await request.app[CUSTOMERS].get_with_etag(customer_id(request))
    if found is None:
        raise ProblemError(404, "No customer with this id.", slug="customer-not-found")
    return found


def actor(request: web.Request) -> str:
    principal = request.get(PRINCIPAL)
    return principal.key_id if principal else "anonymous"


def quoted(etag: str) -> str:
    return f'"{etag}"'


def if_match(request: web.Request) -> str | None:
    raw = request.headers.get("If-Match")
    if raw is None:
        return None
    value = raw.strip()
    return "*" if value == "*" else value.removeprefix("W/").strip('"')
