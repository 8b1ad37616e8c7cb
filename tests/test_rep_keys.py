"""Rep-bound keys: a request made with Ana's key acts as Ana, and as nobody else."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import pytest
import redis.asyncio as aioredis

from service.settings import Settings
from tests import channels as ch
from tests.helpers import AppClient, MakeClient, accepted, admin, bearer, drain

pytestmark = pytest.mark.cluster


async def _key(client: AppClient, scopes: list[str], rep: str | None = None) -> str:
    body: dict[str, Any] = {"name": f"key for {rep or 'nobody'}", "scopes": scopes}
    if rep:
        body["rep"] = rep
    resp = await client.post("/v1/keys", json=body, headers=admin())
    assert resp.status == 201, await resp.text()
    issued = await resp.json()
    assert issued["rep"] == rep if rep else "rep" not in issued
    return str(issued["token"])


@pytest.fixture
async def conversation(
    make_client: MakeClient, make_settings: Callable[..., Settings], redis: aioredis.Redis
) -> tuple[AppClient, str]:
    client = await make_client(**ch.CHANNEL_SETTINGS)
    for rep in ("ana", "ben"):
        resp = await client.put(
            f"/v1/reps/{rep}", json={"name": rep.title(), "team": "social"}, headers=admin()
        )
        assert resp.status == 201
        await client.post(f"/v1/reps/{rep}/shift/start", headers=admin())
    raw = ch.body(ch.tweet("1800000000000000009", "555777", "@acme my router is down"))
    resp = await client.post("/webhooks/twitter", data=raw, headers=ch.twitter_headers(raw))
    message_id = await accepted(resp)
    await drain(redis, make_settings(**ch.CHANNEL_SETTINGS))
    stored = await (await client.get(f"/v1/messages/{message_id}", headers=admin())).json()
    return client, str(stored["conversation_id"])


async def test_a_rep_bound_key_acts_as_its_rep_and_no_other(
    conversation: tuple[AppClient, str],
) -> None:
    client, conv = conversation
    ana = bearer(await _key(client, ["rep"], rep="ana"))
    me = await (await client.get("/v1/me", headers=ana)).json()
    assert me["rep"] == "ana"

    # Claiming as Ben with Ana's key is refused; with no rep named it is Ana's claim.
    as_ben = await client.post(f"/v1/conversations/{conv}/claim", json={"rep": "ben"}, headers=ana)
    assert as_ben.status == 403
    assert (await as_ben.json())["type"].endswith("/wrong-rep")
    claimed = await client.post(f"/v1/conversations/{conv}/claim", json={}, headers=ana)
    assert claimed.status == 200, await claimed.text()
    assert (await claimed.json())["owner"] == "ana"
    reply = await client.post(
        f"/v1/conversations/{conv}/replies", json={"text": "On it."}, headers=ana
    )
    assert reply.status == 201
    detail = await (await client.get(f"/v1/conversations/{conv}", headers=ana)).json()
    assert [e.get("by") for e in detail["log"] if e["type"] == "reply"] == ["ana"]

    # Nor can Ana end Ben's shift or rename him.
    assert (await client.post("/v1/reps/ben/shift/end", json={}, headers=ana)).status == 403
    renamed = await client.put("/v1/reps/ben", json={"name": "B", "team": "x"}, headers=ana)
    assert renamed.status == 403
    assert (await client.post("/v1/reps/ana/shift/end", json={}, headers=ana)).status == 200


async def test_an_unbound_rep_key_cannot_act_for_anyone(
    conversation: tuple[AppClient, str],
) -> None:
    client, conv = conversation
    anyone = bearer(await _key(client, ["rep"]))
    resp = await client.post(f"/v1/conversations/{conv}/claim", json={"rep": "ana"}, headers=anyone)
    assert resp.status == 403
    assert "bound" in (await resp.json())["detail"]
    # It still reads.
    assert (await client.get(f"/v1/conversations/{conv}", headers=anyone)).status == 200


async def test_an_integration_key_acts_for_the_rep_it_names(
    conversation: tuple[AppClient, str],
) -> None:
    client, conv = conversation
    tool = bearer(await _key(client, ["integration"]))
    unnamed = await client.post(f"/v1/conversations/{conv}/claim", json={}, headers=tool)
    assert unnamed.status == 422
    assert (await unnamed.json())["errors"][0]["pointer"] == "/rep"
    claimed = await client.post(
        f"/v1/conversations/{conv}/claim", json={"rep": "ben"}, headers=tool
    )
    assert (await claimed.json())["owner"] == "ben"


async def test_cli_issues_a_rep_bound_key(client: AppClient, store_env: dict[str, str]) -> None:
    env = store_env
    created = await asyncio.to_thread(
        subprocess.run,
        [
            sys.executable,
            "-m",
            "service",
            "keys",
            "create",
            "--name",
            "ana's console",
            "--scopes",
            "rep",
            "--rep",
            "ana",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert created.returncode == 0, created.stderr
    fields = dict(line.split(":", 1) for line in created.stdout.splitlines() if ":" in line)
    assert fields["rep"].strip() == "ana"
    me = await (await client.get("/v1/me", headers=bearer(fields["token"].strip()))).json()
    assert me["rep"] == "ana"
