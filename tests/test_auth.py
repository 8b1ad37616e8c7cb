"""Bearer tokens on /v1: the bootstrap admin token, issued keys, scopes, revocation."""

from __future__ import annotations

import subprocess
import sys

import pytest
import redis.asyncio as aioredis

from service.store.keynames import KeySchema
from service.store.redistypes import texts
from tests.helpers import PROBLEM, AppClient, admin, bearer

pytestmark = pytest.mark.cluster


async def _issue(client: AppClient, *scopes: str) -> dict[str, str]:
    resp = await client.post(
        "/v1/keys", json={"name": "console", "scopes": list(scopes)}, headers=admin()
    )
    assert resp.status == 201
    issued: dict[str, str] = await resp.json()
    return issued


async def test_no_token_is_401(client: AppClient) -> None:
    resp = await client.get("/v1/me")
    assert resp.status == 401
    assert resp.content_type == PROBLEM
    assert resp.headers["WWW-Authenticate"].startswith("Bearer")


async def test_bad_tokens_are_401(client: AppClient) -> None:
    for header in (
        "Bearer nope",
        "Basic dXNlcjpwYXNz",
        "Bearer ",
        "Bearer sid_000000000000_" + "a" * 43,
    ):
        resp = await client.get("/v1/me", headers={"Authorization": header})
        assert resp.status == 401, header


async def test_a_non_ascii_token_is_401(client: AppClient) -> None:
    resp = await client.get("/v1/me", headers={"Authorization": "Bearer adm1n\u00ff"})
    assert resp.status == 401


async def test_unknown_paths_are_404_and_wrong_methods_405_whatever_the_scope(
    client: AppClient,
) -> None:
    rep = await _issue(client, "rep")
    assert (await client.get("/v1/nothing", headers=bearer(rep["token"]))).status == 404
    assert (await client.post("/v1/customers/C-1", headers=bearer(rep["token"]))).status == 405
    # Without a token an unknown path is still 401: routes are not disclosed.
    assert (await client.get("/v1/nothing")).status == 401


async def test_admin_token_has_every_scope(client: AppClient) -> None:
    resp = await client.get("/v1/me", headers=admin())
    assert resp.status == 200
    assert sorted((await resp.json())["scopes"]) == ["admin", "integration", "rep"]


async def test_ops_endpoints_need_no_token(client: AppClient) -> None:
    for path in ("/health/live", "/health/ready", "/metrics"):
        assert (await client.get(path)).status == 200, path


async def test_issued_key_works_within_its_scopes(client: AppClient) -> None:
    rep = await _issue(client, "rep")
    me = await client.get("/v1/me", headers=bearer(rep["token"]))
    assert (await me.json())["scopes"] == ["rep"]
    # rep may read customers but not write them, nor manage keys.
    assert (await client.get("/v1/customers/C-1", headers=bearer(rep["token"]))).status == 404
    put = await client.put("/v1/customers/C-1", json={}, headers=bearer(rep["token"]))
    assert put.status == 403
    assert put.content_type == PROBLEM
    assert "admin or integration" in (await put.json(content_type=PROBLEM))["detail"]
    assert (await client.get("/v1/keys", headers=bearer(rep["token"]))).status == 403


async def test_revoked_key_stops_working(client: AppClient) -> None:
    key = await _issue(client, "integration")
    assert (await client.get("/v1/me", headers=bearer(key["token"]))).status == 200
    resp = await client.delete(f"/v1/keys/{key['key_id']}", headers=admin())
    assert resp.status == 204
    assert (await client.get("/v1/me", headers=bearer(key["token"]))).status == 401
    assert (await client.delete(f"/v1/keys/{key['key_id']}", headers=admin())).status == 404


async def test_a_token_with_a_known_id_but_wrong_secret_is_refused(client: AppClient) -> None:
    key = await _issue(client, "admin")
    forged = key["token"][:-4] + ("AAAA" if not key["token"].endswith("AAAA") else "BBBB")
    assert (await client.get("/v1/me", headers=bearer(forged))).status == 401


async def test_only_a_hash_of_the_token_is_stored(
    client: AppClient, redis: aioredis.Redis, keys: KeySchema
) -> None:
    key = await _issue(client, "rep", "integration")
    stored: list[bytes | str] = []
    async for name in redis.scan_iter(match=keys.everything()):
        kind = await redis.type(name)
        if kind == "hash":
            stored.extend((await redis.hgetall(name)).values())
        elif kind == "set":
            stored.extend(await redis.smembers(name))
    assert stored, "the key record should be in Redis"
    assert not any(key["token"] in value for value in texts(stored))
    listed = await (await client.get("/v1/keys", headers=admin())).json()
    assert [k["key_id"] for k in listed["keys"]] == [key["key_id"]]
    assert "token" not in listed["keys"][0]


async def test_cli_keys_create_list_revoke(client: AppClient, store_env: dict[str, str]) -> None:
    env = store_env

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "service", "keys", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    created = cli("create", "--name", "chat-bot", "--scopes", "integration,rep")
    assert created.returncode == 0, created.stderr
    fields = dict(
        line.split(":", 1)
        for line in created.stdout.splitlines()
        if line.startswith(("key id", "token"))
    )
    token, key_id = fields["token"].strip(), fields["key id"].strip()
    me = await client.get("/v1/me", headers=bearer(token))
    assert sorted((await me.json())["scopes"]) == ["integration", "rep"]

    listed = cli("list")
    assert key_id in listed.stdout
    assert "chat-bot" in listed.stdout
    assert token not in listed.stdout

    assert cli("revoke", key_id).returncode == 0
    assert (await client.get("/v1/me", headers=bearer(token))).status == 401
    assert cli("revoke", key_id).returncode == 1

    bad = cli("create", "--name", "x", "--scopes", "superuser")
    assert bad.returncode == 2
    assert "scopes are a comma list of" in bad.stderr
