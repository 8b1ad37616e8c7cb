"""Resolution over HTTP: a structured query, and one search box for reps."""

from __future__ import annotations

import re
from datetime import date
from typing import Literal

from aiohttp import web
from pydantic import BaseModel, Field

from matchers.decide import Thresholds
from matchers.extract import extract
from matchers.profile import account_key
from service.context.household import member
from service.http.apikeys import Scope
from service.http.appkeys import CARD_SOURCE, CUSTOMERS, RESOLVER, SETTINGS
from service.http.bodies import json_model, query_model, read_model
from service.http.middleware import requires
from service.http.openapi import documented
from service.http.routes.common import audit_looks
from service.resolution.query import AddressQuery, ResolveQuery
from service.resolution.resolver import Candidate, Resolution
from service.schemas import Customer, Strict
from service.schemas.context_card import HouseholdMember

routes = web.RouteTableDef()


@routes.post("/v1/resolve")
@documented(
    "Resolve a structured query to a customer.", body=ResolveQuery, responses={200: Resolution}
)
@requires(Scope.REP, Scope.INTEGRATION)
async def resolve(request: web.Request) -> web.Response:
    query = await read_model(request, ResolveQuery)
    resolution = await request.app[RESOLVER].resolve(query)
    await audit_looks(request, "resolve", (c.customer_id for c in resolution.candidates))
    return json_model(resolution)


class SearchQuery(Strict):
    q: str = Field(min_length=1, max_length=500)
    limit: int = Field(default=10, ge=1, le=50)


class SearchHit(Candidate):
    name: str


MatchedBy = Literal["household_id", "account_number"]


class HouseholdHit(BaseModel):
    id: str
    holder: HouseholdMember | None
    members: list[HouseholdMember]
    accounts: list[str] = Field(description="The family accounts' numbers.")
    matched_by: MatchedBy


class SearchResults(BaseModel):
    results: list[SearchHit]
    households: list[HouseholdHit] = Field(
        default_factory=list,
        description="Households the box names: by their id, or by a family account's number.",
    )


_MONTH_NAMES = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_MONTHS = {m: i for i, m in enumerate(_MONTH_NAMES, start=1)}
_DATE_WORDS = re.compile(
    r"\b(\d{1,2})(?:st|nd|rd|th)?\s+([A-Za-z]{3,9})\.?,?\s+(\d{4})\b"  # 3 May 1984
    r"|\b(\d{4})-(\d{2})-(\d{2})\b"  # 1984-05-03
    r"|\b(\d{1,2})/(\d{1,2})/(\d{4})\b"  # 03/05/1984, day first
)
# A number as a rep types it, in groups or not: in a search box it may well be an
# account number, whatever the account pattern says (the book decides).
_NUMBER = re.compile(r"(?<![\w@.])[A-Za-z]{0,3}-?\d(?:[ -]?\d){5,19}(?![\w@])")
_DISTRICT = re.compile(r"^[A-Za-z]{1,2}\d[A-Za-z\d]?$")
_FILLER = frozenset(
    (
        "born",
        "dob",
        "b.",
        "b",
        "on",
        "at",
        "in",
        "from",
        "lives",
        "living",
        "near",
        "the",
        "order",
        "acct",
        "account",
    )
)


def _date_in(text: str) -> tuple[str | None, str]:
    """The first date in the text as YYYY-MM-DD, and the text without it."""
    for m in _DATE_WORDS.finditer(text):
        g = m.groups()
        if g[0]:
            month = _MONTHS.get(g[1][:3].lower())
            day, year = int(g[0]), int(g[2])
        elif g[3]:
            year, month, day = int(g[3]), int(g[4]), int(g[5])
        else:
            day, month, year = int(g[6]), int(g[7]), int(g[8])
        if month is None:
            continue
        try:
            value = date(year, month, day).isoformat()
        except ValueError:
            continue
        return value, text[: m.start()] + " " + text[m.end() :]
    return None, text


def search_query(q: str, region: str, account_pattern: str) -> ResolveQuery:
    """One box: dates and identifiers are recognised wherever they stand, an @word is a
    handle, postcode districts and filler words are dropped, the words left are a name.
    "Dana King, LS6, born 3 May 1984" is a name and a date of birth."""
    dob, q = _date_in(q)
    found = extract(q, region=region, account_pattern=account_pattern, phone_leniency="possible")
    rest = q
    for f in sorted(found, key=lambda f: -f.start):
        rest = rest[: f.start] + " " + rest[f.end :]
    words = [w.strip(",;.") for w in rest.split()]
    handle = next((w for w in words if w.startswith("@") and len(w) > 1), None)
    name_words = [
        w
        for w in words
        if w
        and w != handle
        and w.lower() not in _FILLER
        and not _DISTRICT.match(w)
        and not any(ch.isdigit() for ch in w)
    ]
    first = {f.kind: f.value for f in reversed(found)}
    if "account_number" not in first:
        number = _NUMBER.search(q)
        if number:
            first["account_number"] = number.group(0)
    return ResolveQuery(
        name=" ".join(name_words) or None,
        handle=handle,
        date_of_birth=dob,
        email=first.get("email"),
        phone=first.get("phone"),
        account_number=first.get("account_number"),
        address=AddressQuery(postcode=first["postcode"]) if "postcode" in first else None,
    )


@routes.get("/v1/customers/search")
@documented("One search box for reps.", query=SearchQuery, responses={200: SearchResults})
@requires(Scope.REP, Scope.INTEGRATION, Scope.ADMIN)
async def search(request: web.Request) -> web.Response:
    params = query_model(request, SearchQuery)
    settings = request.app[SETTINGS]
    query = search_query(params.q, settings.default_region, settings.account_pattern)
    # A rep searching wants a ranked list, not a decision: show everything that scores.
    wide = Thresholds(auto=2.0, review=0.0, max_candidates=params.limit)
    resolution = await request.app[RESOLVER].resolve(query, wide)
    hits: list[SearchHit] = []
    named: dict[str, MatchedBy] = {}
    account = account_key(query.account_number) if query.account_number else None
    for candidate in resolution.candidates:
        customer = await request.app[CUSTOMERS].get(candidate.customer_id)
        if customer is None:
            continue
        hits.append(SearchHit(**candidate.model_dump(), name=customer.display_name))
        holds = any(account_key(a.number) == account for a in customer.accounts)
        if customer.household and holds:
            named.setdefault(customer.household.id, "account_number")
    await audit_looks(request, "search", (h.customer_id for h in hits))
    named = {params.q.strip(): "household_id", **named}  # a household's id typed whole
    households = []
    for household_id, matched_by in named.items():
        members = await request.app[CARD_SOURCE].members(household_id)
        if members:
            households.append(household_hit(household_id, members, matched_by))
    return json_model(SearchResults(results=hits, households=households))


def household_hit(
    household_id: str,
    members: list[Customer],
    matched_by: MatchedBy,
) -> HouseholdHit:
    listed = [member(c) for c in members]
    holders = [m for m in listed if m.role == "holder"]
    return HouseholdHit(
        id=household_id,
        holder=holders[0] if holders else None,
        members=listed,
        accounts=[
            a.number
            for c in members
            if c.household and c.household.role == "holder"
            for a in c.accounts
        ],
        matched_by=matched_by,
    )
