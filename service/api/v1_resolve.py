"""Resolution over HTTP: a structured query, and one search box for reps."""

from __future__ import annotations

from aiohttp import web
from pydantic import BaseModel, Field

from matchers.decide import Thresholds
from matchers.extract import extract
from service.apikeys import Scope
from service.appkeys import CUSTOMERS, RESOLVER, SETTINGS
from service.bodies import json_model, query_model, read_model
from service.middleware import requires
from service.models import Strict
from service.resolve import AddressQuery, Candidate, ResolveQuery

routes = web.RouteTableDef()


@routes.post("/v1/resolve")
@requires(Scope.REP, Scope.INTEGRATION)
async def resolve(request: web.Request) -> web.Response:
    query = await read_model(request, ResolveQuery)
    return json_model(await request.app[RESOLVER].resolve(query))


class SearchQuery(Strict):
    q: str = Field(min_length=1, max_length=500)
    limit: int = Field(default=10, ge=1, le=50)


class SearchHit(Candidate):
    name: str


class SearchResults(BaseModel):
    results: list[SearchHit]


def search_query(q: str, region: str, account_pattern: str) -> ResolveQuery:
    """One box: identifiers are recognised wherever they stand, an @word is a handle,
    the words left are a name."""
    found = extract(q, region=region, account_pattern=account_pattern, phone_leniency="possible")
    rest = q
    for f in sorted(found, key=lambda f: -f.start):
        rest = rest[: f.start] + " " + rest[f.end :]
    words = rest.split()
    handle = next((w for w in words if w.startswith("@") and len(w) > 1), None)
    name = " ".join(w for w in words if w != handle).strip(" ,") or None
    first = {f.kind: f.value for f in reversed(found)}
    return ResolveQuery(
        name=name,
        handle=handle,
        email=first.get("email"),
        phone=first.get("phone"),
        account_number=first.get("account_number"),
        address=AddressQuery(postcode=first["postcode"]) if "postcode" in first else None,
    )


@routes.get("/v1/customers/search")
@requires(Scope.REP, Scope.INTEGRATION, Scope.ADMIN)
async def search(request: web.Request) -> web.Response:
    params = query_model(request, SearchQuery)
    settings = request.app[SETTINGS]
    query = search_query(params.q, settings.default_region, settings.account_pattern)
    # A rep searching wants a ranked list, not a decision: show everything that scores.
    wide = Thresholds(auto=2.0, review=0.0, max_candidates=params.limit)
    resolution = await request.app[RESOLVER].resolve(query, wide)
    hits = []
    for candidate in resolution.candidates:
        customer = await request.app[CUSTOMERS].get(candidate.customer_id)
        if customer is not None:
            hits.append(SearchHit(**candidate.model_dump(), name=customer.display_name))
    return json_model(SearchResults(results=hits))
