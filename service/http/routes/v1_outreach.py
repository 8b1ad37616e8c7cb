"""The outreach check: may a campaign, a dialler or a survey tool contact these customers?"""

from __future__ import annotations

from aiohttp import web

from service.context.outreach import BLOCKS
from service.http.apikeys import Scope
from service.http.appkeys import OUTREACH
from service.http.bodies import json_model, read_model
from service.http.middleware import requires
from service.http.openapi import documented
from service.http.routes.common import audit, audited
from service.schemas.outreach import OutreachAnswer, OutreachCheck

routes = web.RouteTableDef()
_TABLE = "; ".join(f"{code}: {', '.join(sorted(kinds))}" for code, kinds in BLOCKS.items())


@routes.post("/v1/outreach/check")
@documented(
    "Per customer, whether a sales pitch, a retention offer or a survey may go out, and "
    f"the reasons and events when not. What blocks which kind: {_TABLE}.",
    body=OutreachCheck,
    responses={200: OutreachAnswer},
)
@requires(Scope.INTEGRATION, Scope.REP, Scope.ADMIN)
async def check_outreach(request: web.Request) -> web.Response:
    body = await read_model(request, OutreachCheck)
    answer = await request.app[OUTREACH].check(body.kind, body.customer_ids)
    # The blocked customers' items were shown to the caller; an allowed one only says
    # that nothing stands in the way.
    await audit(
        request,
        *(
            audited(
                request,
                "outreach_blocked",
                r.customer_id,
                detail={"kind": body.kind, "reasons": [x.code for x in r.reasons]},
            )
            for r in answer.results
            if r.decision == "blocked" and r.reasons[0].code != "unknown_customer"
        ),
    )
    return json_model(answer)
