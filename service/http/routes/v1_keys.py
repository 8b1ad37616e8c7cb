"""API keys over HTTP (admin), and who-am-I for any caller."""

from __future__ import annotations

from aiohttp import web
from pydantic import BaseModel, Field

from service.http.apikeys import ALL_SCOPES, ApiKeyInfo, IssuedKey, Principal, Scope
from service.http.appkeys import API_KEYS, PRINCIPAL
from service.http.bodies import json_model, read_model
from service.http.middleware import requires
from service.http.openapi import documented
from service.http.problems import ProblemError
from service.http.routes.common import audit, audited
from service.schemas import ShortText, Strict
from service.schemas.conversation import RepId

routes = web.RouteTableDef()


class KeyRequest(Strict):
    name: ShortText = Field(min_length=1)
    scopes: list[Scope] = Field(min_length=1)
    rep: RepId | None = Field(
        default=None,
        description="Bind the key to a rep: every request made with it acts as that rep.",
    )


class KeyList(BaseModel):
    keys: list[ApiKeyInfo]


@routes.get("/v1/me")
@documented("The caller's key and scopes.", responses={200: Principal})
@requires(*ALL_SCOPES)
async def me(request: web.Request) -> web.Response:
    body = request[PRINCIPAL].model_dump_json().encode()
    return web.Response(body=body, content_type="application/json")


@routes.post("/v1/keys")
@documented("Issue an API key (its token shown once).", body=KeyRequest, responses={201: IssuedKey})
@requires(Scope.ADMIN)
async def create_key(request: web.Request) -> web.Response:
    body = await read_model(request, KeyRequest)
    issued = await request.app[API_KEYS].create(body.name, frozenset(body.scopes), body.rep)
    detail = {"key_id": issued.key_id, "scopes": issued.scopes, "rep": issued.rep}
    await audit(request, audited(request, "key_created", detail=detail))
    return json_model(issued, status=201)


@routes.get("/v1/keys")
@documented("The API keys (never their tokens).", responses={200: KeyList})
@requires(Scope.ADMIN)
async def list_keys(request: web.Request) -> web.Response:
    return json_model(KeyList(keys=await request.app[API_KEYS].list_keys()))


@routes.delete("/v1/keys/{key_id}")
@documented("Revoke an API key.", responses={204: None})
@requires(Scope.ADMIN)
async def revoke_key(request: web.Request) -> web.Response:
    key_id = request.match_info["key_id"]
    if not await request.app[API_KEYS].revoke(key_id):
        raise ProblemError(404, "No API key with this id.", slug="key-not-found")
    await audit(request, audited(request, "key_revoked", detail={"key_id": key_id}))
    return web.Response(status=204)
