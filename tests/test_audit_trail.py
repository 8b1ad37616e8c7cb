"""Every look and every change is audited: who (key and rep), what (action, customer,
conversation), the request id and the time; read back by admins only."""

from __future__ import annotations

import time
from typing import Any

import pytest
import redis.asyncio as aioredis

from service.store.keynames import KeySchema
from service.store.redistypes import stream_entries
from tests.helpers import AppClient, MakeClient, admin, bearer

pytestmark = pytest.mark.cluster

DANA = {
    "given_name": "Dana",
    "family_name": "King",
    "emails": ["dana.king@example.com"],
    "identities": [{"channel": "twitter", "external_id": "555123", "handle": "dana_k"}],
}


async def _key(client: AppClient, scopes: list[str], rep: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"name": "k", "scopes": scopes, **({"rep": rep} if rep else {})}
    resp = await client.post("/v1/keys", json=body, headers=admin())
    assert resp.status == 201
    issued: dict[str, Any] = await resp.json()
    return issued


async def _trail(client: AppClient, **query: str) -> dict[str, Any]:
    resp = await client.get("/v1/audit", params=query, headers=admin())
    assert resp.status == 200, await resp.text()
    page: dict[str, Any] = await resp.json()
    return page


async def test_every_look_at_a_customer_is_audited_with_key_rep_and_request(
    client: AppClient,
) -> None:
    assert (await client.put("/v1/customers/C-1", json=DANA, headers=admin())).status == 201
    ana = await _key(client, ["rep"], rep="ana")
    as_ana = {**bearer(ana["token"]), "X-Request-ID": "req-ana-0001"}
    for path in ("", "/context", "/history"):
        assert (await client.get(f"/v1/customers/C-1{path}", headers=as_ana)).status == 200
    lookup = {"channel": "twitter", "sender": {"external_id": "555123"}}
    assert (await client.post("/v1/lookup", json=lookup, headers=as_ana)).status == 200
    search = await client.get("/v1/customers/search", params={"q": "Dana King"}, headers=as_ana)
    assert search.status == 200

    page = await _trail(client, customer_id="C-1", actor=ana["key_id"])
    looks = [(e["action"], e["rep"], e["request_id"]) for e in page["entries"]]
    assert looks == [
        ("search", "ana", "req-ana-0001"),
        ("lookup", "ana", "req-ana-0001"),
        ("history_read", "ana", "req-ana-0001"),
        ("card_read", "ana", "req-ana-0001"),
        ("customer_read", "ana", "req-ana-0001"),
    ]
    assert {e["customer_id"] for e in page["entries"]} == {"C-1"}
    # The admin's own write is in the same customer's trail, under its own key.
    writes = await _trail(client, customer_id="C-1", action="customer_written")
    assert [e["actor"] for e in writes["entries"]] == ["bootstrap"]


async def test_an_integration_key_acting_for_a_rep_is_audited_as_both(
    client: AppClient,
) -> None:
    await client.put("/v1/reps/ben", json={"name": "Ben", "team": "social"}, headers=admin())
    tool = await _key(client, ["integration"])
    resp = await client.post("/v1/reps/ben/shift/start", headers=admin())
    assert resp.status == 200
    ended = await client.post("/v1/reps/ben/shift/end", json={}, headers=bearer(tool["token"]))
    assert ended.status == 403  # integration keys do not hold the rep scope for shifts
    page = await _trail(client, action="shift_started")
    assert [(e["actor"], e["rep"]) for e in page["entries"]] == [("bootstrap", "ben")]
    created = await _trail(client, action="key_created")
    assert [e["detail"]["key_id"] for e in created["entries"]] == [tool["key_id"]]
    assert created["entries"][0].get("customer_id") is None


async def test_the_trail_pages_and_only_admins_read_it(client: AppClient) -> None:
    assert (await client.put("/v1/customers/C-1", json=DANA, headers=admin())).status == 201
    for _ in range(5):
        await client.get("/v1/customers/C-1", headers=admin())
    first = await _trail(client, action="customer_read", limit="2")
    second = await _trail(client, action="customer_read", limit="2", cursor=first["next_cursor"])
    third = await _trail(client, action="customer_read", limit="2", cursor=second["next_cursor"])
    ids = [e["id"] for p in (first, second, third) for e in p["entries"]]
    assert len(ids) == len(set(ids)) == 5
    assert third.get("next_cursor") is None
    rep = await _key(client, ["rep", "integration"])
    assert (await client.get("/v1/audit", headers=bearer(rep["token"]))).status == 403
    bad = await client.get("/v1/audit", params={"cursor": "nope"}, headers=admin())
    assert bad.status == 422
    # Before the first possible entry (found by schemathesis: it answered 500).
    early = await client.get("/v1/audit", params={"until": "0500-12-05T08:30:30Z"}, headers=admin())
    assert early.status == 200
    assert (await early.json())["entries"] == []


async def test_entries_older_than_the_retention_are_trimmed(
    make_client: MakeClient, redis: aioredis.Redis, keys: KeySchema
) -> None:
    client = await make_client(audit_retention_days=1)
    two_days_ago = int(time.time() * 1000) - 2 * 86_400_000
    await redis.xadd(
        keys.audit(), {"at": "old", "action": "x", "actor": "y"}, id=f"{two_days_ago}-0"
    )
    assert (await client.put("/v1/customers/C-1", json=DANA, headers=admin())).status == 201
    left = [entry_id for entry_id, _ in stream_entries(await redis.xrange(keys.audit()))]
    assert left
    assert all(int(entry_id.split("-")[0]) > two_days_ago for entry_id in left)
