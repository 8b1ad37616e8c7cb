"""The lookup call chat tools make: signed instead of a token, recorded, with a brief."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest
import redis.asyncio as aioredis

from service.http.signedcalls import sign
from service.settings import Settings
from service.wiring import build_stores, build_worker
from tests import channels as ch
from tests.helpers import AppClient, MakeClient, admin

pytestmark = pytest.mark.cluster

SECRET = "lookup-signing-secret"
DANA = {
    "given_name": "Dana",
    "family_name": "King",
    "emails": ["dana@example.net"],
    "identities": [{"channel": "twitter", "external_id": "555123", "handle": "dana_k"}],
}
LOOKUP = {"channel": "twitter", "sender": {"external_id": "555123"}, "text": "still down"}


@pytest.fixture
async def client(make_client: MakeClient) -> AppClient:
    client = await make_client(**ch.CHANNEL_SETTINGS, lookup_signing_secret=SECRET)
    resp = await client.put("/v1/customers/c-dana", json=DANA, headers=admin())
    assert resp.status == 201
    return client


def _signed(body: bytes, *, at: int | None = None, secret: str = SECRET) -> dict[str, str]:
    stamp = str(int(time.time()) if at is None else at)
    return {
        "Content-Type": "application/json",
        "X-Socialid-Timestamp": stamp,
        "X-Socialid-Signature": sign(secret, stamp, body),
    }


async def test_a_signed_lookup_a_stale_one_and_a_replayed_one(client: AppClient) -> None:
    body = json.dumps(LOOKUP).encode()
    headers = _signed(body)
    ok = await client.post("/v1/lookup", data=body, headers=headers)
    assert ok.status == 200, await ok.text()
    answer = await ok.json()
    assert answer["resolution"]["customer_id"] == "c-dana"
    assert answer["context"]["customer_id"] == "c-dana"
    # The one-read path of a linked sender gives the card the context call gives.
    card = await (await client.get("/v1/customers/c-dana/context", headers=admin())).json()
    assert answer["context"] == card
    replayed = await client.post("/v1/lookup", data=body, headers=headers)
    assert replayed.status == 401
    assert "used before" in (await replayed.json())["detail"]
    stale = await client.post(
        "/v1/lookup", data=body, headers=_signed(body, at=int(time.time()) - 600)
    )
    assert stale.status == 401
    assert "too far from the server's clock" in (await stale.json())["detail"]
    forged = await client.post("/v1/lookup", data=body, headers=_signed(body, secret="guess"))
    assert forged.status == 401
    # A signature covers only the lookup call.
    other = await client.get("/v1/customers/c-dana", headers=_signed(b""))
    assert other.status == 401


async def test_signed_calls_are_off_without_the_secret(make_client: MakeClient) -> None:
    client = await make_client()
    body = json.dumps(LOOKUP).encode()
    resp = await client.post("/v1/lookup", data=body, headers=_signed(body))
    assert resp.status == 401


async def test_a_recorded_lookup_is_processed_and_its_thread_brings_the_brief(
    client: AppClient, make_settings: Callable[..., Settings], redis: aioredis.Redis
) -> None:
    settings = make_settings(**ch.CHANNEL_SETTINGS)
    worker = build_worker(redis, settings, build_stores(redis, settings), names=None, metrics=None)
    await worker.setup()
    body: dict[str, Any] = {**LOOKUP, "record": True, "thread": "chat-77", "message_id": "m1"}
    first = await (await client.post("/v1/lookup", json=body, headers=admin())).json()
    [message_id] = first["recorded"]["accepted"]
    assert "brief" not in first  # the thread is not known yet
    again = await (await client.post("/v1/lookup", json=body, headers=admin())).json()
    assert again["recorded"] == {"accepted": [], "duplicates": 1}
    while await worker.run_once():
        pass
    stored = await (await client.get(f"/v1/messages/{message_id}", headers=admin())).json()
    assert stored["resolution"]["customer_id"] == "c-dana"
    follow = {**LOOKUP, "thread": "chat-77", "text": "any news?"}
    answer = await (await client.post("/v1/lookup", json=follow, headers=admin())).json()
    assert answer["brief"]["conversation"]["id"] == stored["conversation_id"]
    assert [t["text"] for t in answer["brief"]["thread"]] == ["still down"]
    by_id = {**LOOKUP, "thread": stored["conversation_id"]}
    answer = await (await client.post("/v1/lookup", json=by_id, headers=admin())).json()
    assert answer["brief"]["conversation"]["id"] == stored["conversation_id"]
