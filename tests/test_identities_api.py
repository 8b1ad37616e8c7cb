"""Identity links made by people: link, undo, rule out, history, erasure."""

from __future__ import annotations

import json
from typing import Any

import pytest
import redis.asyncio as aioredis

from service.store.keynames import KeySchema
from tests.helpers import PROBLEM, AppClient, admin, bearer
from tests.test_import import snapshot, snapshot_value

pytestmark = pytest.mark.cluster

TWITTER = "/v1/identities/twitter/1234567"


async def _put(client: AppClient, cid: str, doc: dict[str, Any]) -> None:
    resp = await client.put(f"/v1/customers/{cid}", json=doc, headers=admin())
    assert resp.status in (200, 201), await resp.text()


async def _resolve(client: AppClient, **query: Any) -> Any:
    resp = await client.post("/v1/resolve", json=query, headers=admin())
    assert resp.status == 200, await resp.text()
    return await resp.json()


async def _link(client: AppClient, path: str, cid: str, status: int = 201, **extra: Any) -> Any:
    body = {"customer_id": cid, "method": "rep_confirmed", "reason": "asked for DOB", **extra}
    resp = await client.put(path, json=body, headers=admin())
    assert resp.status == status, await resp.text()
    return await resp.json()


async def _unlink(client: AppClient, path: str, status: int = 200) -> Any:
    resp = await client.delete(path, json={"reason": "wrong Dana"}, headers=admin())
    assert resp.status == status, await resp.text()
    return await resp.json()


async def test_a_link_resolves_the_sender_and_keeps_its_history(client: AppClient) -> None:
    await _put(client, "C-1", {"given_name": "Dana", "family_name": "King"})
    state = await _link(client, TWITTER, "C-1")
    assert state["link"]["customer_id"] == "C-1"
    assert (state["link"]["source"], state["link"]["method"]) == ("api", "rep_confirmed")
    assert state["link"]["actor"] == "bootstrap"
    [change] = state["history"]
    assert (change["action"], change["customer_id"], change["reason"]) == (
        "linked",
        "C-1",
        "asked for DOB",
    )

    answer = await _resolve(client, channel="twitter", external_id="1234567")
    assert (answer["status"], answer["method"], answer["customer_id"]) == (
        "matched",
        "linked_identity",
        "C-1",
    )
    again = await _link(client, TWITTER, "C-1", status=200)  # idempotent
    assert len(again["history"]) == 1
    read = await client.get(TWITTER, headers=admin())
    assert (await read.json()) == again


async def test_a_link_is_never_moved_silently(client: AppClient) -> None:
    await _put(client, "C-1", {"given_name": "Dana"})
    await _put(client, "C-2", {"given_name": "Dani"})
    await _link(client, TWITTER, "C-1")
    resp = await client.put(
        TWITTER, json={"customer_id": "C-2", "method": "rep_confirmed"}, headers=admin()
    )
    assert resp.status == 409
    assert resp.content_type == PROBLEM
    assert (await resp.json())["type"].endswith("/identity-conflict")
    state = await (await client.get(TWITTER, headers=admin())).json()
    assert state["link"]["customer_id"] == "C-1"


async def test_an_unlink_restores_the_state_before_the_link(
    client: AppClient, redis: aioredis.Redis, keys: KeySchema
) -> None:
    await _put(client, "C-1", {"given_name": "Dana", "family_name": "King"})

    def lasting(state: dict[str, Any]) -> dict[str, Any]:
        # Everything but the records of what happened (history, audit, and the audit
        # pseudonym the first audited change gives the customer).
        return {
            k: v
            for k, v in state.items()
            if not any(part in k for part in (":idh", ":audit", ":aud", ":idx", ":subj"))
        }

    before = lasting(await snapshot(redis, keys))
    await _link(client, TWITTER, "C-1")
    state = await _unlink(client, TWITTER)
    assert "link" not in state
    assert [c["action"] for c in state["history"]] == ["unlinked", "linked"]
    assert state["history"][0]["reason"] == "wrong Dana"
    assert lasting(await snapshot(redis, keys)) == before
    answer = await _resolve(client, channel="twitter", external_id="1234567", name="Dana King")
    assert answer["method"] == "model"
    missing = await _unlink(client, TWITTER, status=404)
    assert missing["type"].endswith("/identity-not-linked")


async def test_bad_link_requests_get_problems(client: AppClient) -> None:
    await _put(client, "C-1", {"given_name": "Dana"})
    unknown = await _link(client, TWITTER, "C-404", status=404)
    assert unknown["type"].endswith("/customer-not-found")
    for body in (
        {"customer_id": "C-1", "method": "guessed"},
        {"customer_id": "C-1"},
        {"customer_id": "C 1", "method": "rep_confirmed"},
    ):
        resp = await client.put(TWITTER, json=body, headers=admin())
        assert resp.status == 422, body
        assert resp.content_type == PROBLEM
    resp = await client.put(
        "/v1/identities/myspace/1",
        json={"customer_id": "C-1", "method": "imported"},
        headers=admin(),
    )
    assert resp.status == 404
    await _link(client, TWITTER, "C-1")
    no_reason = await client.delete(TWITTER, headers=admin())
    assert no_reason.status == 422
    by_query = await client.delete(TWITTER + "?reason=typo", headers=admin())
    assert by_query.status == 200


async def test_links_from_the_customer_record_are_changed_in_the_record(
    client: AppClient,
) -> None:
    identity = {"channel": "twitter", "external_id": "1234567"}
    await _put(client, "C-1", {"given_name": "Dana", "identities": [identity]})
    state = await (await client.get(TWITTER, headers=admin())).json()
    assert state["link"] == {
        "customer_id": "C-1",
        "source": "customer_record",
        "method": "imported",
    }
    await _link(client, TWITTER, "C-1", status=200)
    refused = await _unlink(client, TWITTER, status=409)
    assert refused["type"].endswith("/identity-from-record")


async def test_a_reps_link_outlives_a_reimport_of_the_record(client: AppClient) -> None:
    await _put(client, "C-1", {"given_name": "Dana"})
    await _link(client, TWITTER, "C-1")
    # The CRM lists the identity, then drops it again: the rep's link stays.
    identity = {"channel": "twitter", "external_id": "1234567"}
    await _put(client, "C-1", {"given_name": "Dana", "identities": [identity]})
    await _put(client, "C-1", {"given_name": "Dana K"})
    answer = await _resolve(client, channel="twitter", external_id="1234567")
    assert answer["customer_id"] == "C-1"
    # Another customer's record cannot take it over either.
    resp = await client.put("/v1/customers/C-2", json={"identities": [identity]}, headers=admin())
    assert resp.status == 409


async def test_a_rejected_candidate_is_not_suggested_again(client: AppClient) -> None:
    for cid, given in (("C-1", "Dana"), ("C-2", "Dana")):
        await _put(
            client,
            cid,
            {
                "given_name": given,
                "family_name": "King",
                "date_of_birth": "1984-05-03",
                "addresses": [{"postcode": "LS6 3AG"}],
            },
        )
    sender = {
        "channel": "twitter",
        "external_id": "1234567",
        "name": "Dana King",
        "date_of_birth": "1984-05-03",
        "address": {"postcode": "LS6 3AG"},
    }
    first = await _resolve(client, **sender)
    assert {c["customer_id"] for c in first["candidates"]} == {"C-1", "C-2"}

    path = TWITTER + "/rejections"
    resp = await client.post(
        path, json={"customer_id": "C-2", "reason": "other Dana"}, headers=admin()
    )
    assert resp.status == 201
    assert (await resp.json())["rejected"] == ["C-2"]
    second = await _resolve(client, **sender)
    assert [c["customer_id"] for c in second["candidates"]] == ["C-1"]
    assert second["status"] != "matched"  # fuzzy evidence alone never links

    refused = await _link(client, TWITTER, "C-2", status=409)
    assert refused["type"].endswith("/identity-rejected")
    withdrawn = await client.delete(path + "/C-2", headers=admin())
    assert withdrawn.status == 200
    assert (await withdrawn.json())["rejected"] == []
    await _link(client, TWITTER, "C-2")
    linked = await client.post(path, json={"customer_id": "C-2"}, headers=admin())
    assert linked.status == 409


async def test_a_rep_key_may_link_but_not_without_a_token(client: AppClient) -> None:
    await _put(client, "C-1", {"given_name": "Dana"})
    resp = await client.post("/v1/keys", json={"name": "desk", "scopes": ["rep"]}, headers=admin())
    token = (await resp.json())["token"]
    body = {"customer_id": "C-1", "method": "rep_confirmed"}
    assert (await client.put(TWITTER, json=body)).status == 401
    linked = await client.put(TWITTER, json=body, headers=bearer(token))
    assert linked.status == 201
    assert (await linked.json())["link"]["actor"] != "bootstrap"


async def test_a_link_made_with_a_reps_key_names_the_rep(client: AppClient) -> None:
    await _put(client, "C-1", {"given_name": "Dana"})
    body = {"name": "Ana", "scopes": ["rep"], "rep": "ana"}
    token = (await (await client.post("/v1/keys", json=body, headers=admin())).json())["token"]
    link = {"customer_id": "C-1", "method": "rep_confirmed"}
    linked = await client.put(TWITTER, json=link, headers=bearer(token))
    assert linked.status == 201
    state = await linked.json()
    assert state["link"]["actor"] == "ana"
    assert state["history"][0]["actor"] == "ana"


async def test_erasure_leaves_no_link_rejection_or_history_naming_the_customer(
    client: AppClient, redis: aioredis.Redis, keys: KeySchema
) -> None:
    await _put(client, "C-1", {"given_name": "Dana"})
    await _put(client, "C-2", {"given_name": "Dani"})
    await _link(client, TWITTER, "C-1")
    await _unlink(client, TWITTER)
    await _link(client, TWITTER, "C-2")
    await _link(client, "/v1/identities/email/dana@example.com", "C-1")
    resp = await client.post(
        "/v1/identities/facebook/99/rejections", json={"customer_id": "C-1"}, headers=admin()
    )
    assert resp.status == 201

    assert (await client.delete("/v1/customers/C-1", headers=admin())).status == 200
    async for key in redis.scan_iter(match=keys.everything()):
        if key == keys.audit():
            continue
        assert "C-1" not in json.dumps(await snapshot_value(redis, key)), key
    state = await (await client.get(TWITTER, headers=admin())).json()
    assert state["link"]["customer_id"] == "C-2"
    assert [c["customer_id"] for c in state["history"]] == ["C-2"]
    email = await (
        await client.get("/v1/identities/email/dana@example.com", headers=admin())
    ).json()
    assert "link" not in email


async def test_a_ruled_out_customer_is_not_matched_even_on_strong_evidence(
    client: AppClient,
) -> None:
    # The family shares an address: the rep knows this sender is not the account holder.
    await _put(
        client,
        "C-1",
        {"given_name": "Mary", "family_name": "King", "emails": ["kings@example.com"]},
    )
    sender = {
        "channel": "twitter",
        "external_id": "1234567",
        "name": "Mary King",
        "email": "kings@example.com",
    }
    assert (await _resolve(client, **sender))["status"] == "matched"
    resp = await client.post(TWITTER + "/rejections", json={"customer_id": "C-1"}, headers=admin())
    assert resp.status == 201
    answer = await _resolve(client, **sender)
    assert (answer["status"], answer["candidates"]) == ("no_match", [])
    # Without the sender's identity the rejection does not apply.
    plain = {k: v for k, v in sender.items() if k not in ("channel", "external_id")}
    assert (await _resolve(client, **plain))["status"] == "matched"
