"""Households: the members, the family accounts and the open items on them."""

from __future__ import annotations

from datetime import UTC, datetime

from aiohttp import web

from service.http.apikeys import Scope
from service.http.appkeys import CARD_SOURCE, SETTINGS
from service.http.bodies import json_model
from service.http.middleware import requires
from service.http.openapi import documented
from service.http.problems import ProblemError
from service.http.routes.common import audit_looks
from service.schemas.context_card import HouseholdView

routes = web.RouteTableDef()
_MAX_ID = 200  # a household id is short text in a customer's record


@routes.get("/v1/households/{household_id}")
@documented(
    "A household: members and roles, the family accounts and their open items.",
    responses={200: HouseholdView},
)
@requires(Scope.REP, Scope.ADMIN, Scope.INTEGRATION)
async def get_household(request: web.Request) -> web.Response:
    household_id = request.match_info["household_id"]
    days = request.app[SETTINGS].context_recent_days
    view = (
        await request.app[CARD_SOURCE].household(household_id, datetime.now(UTC).date(), days)
        if len(household_id) <= _MAX_ID
        else None
    )
    if view is None:
        raise ProblemError(
            404, "No customer belongs to this household.", slug="household-not-found"
        )
    await audit_looks(request, "household_read", (m.customer_id for m in view.members))
    return json_model(view)
