"""Customers, history and lookup through the HTTP API against the real store."""

from __future__ import annotations

from typing import Any

import pytest

from tests.helpers import AppClient, admin

pytestmark = pytest.mark.cluster

DANA: dict[str, Any] = {
    "given_name": "Dana",
    "family_name": "King",
    "emails": ["dana.king@example.com"],
    "accounts": [
        {
            "number": "55-1234-88",
            "products": [
                {"name": "Fibre 500", "monthly_price": "45.00"},
                {"name": "Old TV", "status": "ended"},
            ],
        }
    ],
    "identities": [{"channel": "twitter", "external_id": "1402345678", "handle": "dana_k"}],
}


def _lookup(external_id: str, channel: str = "twitter") -> dict[str, Any]:
    return {"channel": channel, "sender": {"external_id": external_id}, "text": "hello"}


async def _resolve(client: AppClient, external_id: str, channel: str = "twitter") -> Any:
    resp = await client.post("/v1/lookup", json=_lookup(external_id, channel), headers=admin())
    assert resp.status == 200
    return await resp.json()


async def test_put_creates_then_replaces(client: AppClient) -> None:
    first = await client.put("/v1/customers/C-1", json=DANA, headers=admin())
    assert first.status == 201
    again = await client.put(
        "/v1/customers/C-1", json={**DANA, "family_name": "King-Lee"}, headers=admin()
    )
    assert again.status == 200
    got = await (await client.get("/v1/customers/C-1", headers=admin())).json()
    assert got["id"] == "C-1"
    assert got["family_name"] == "King-Lee"
    assert got["accounts"][0]["products"][0]["monthly_price"] == "45.00"


async def test_missing_customer_is_404(client: AppClient) -> None:
    resp = await client.get("/v1/customers/C-nobody", headers=admin())
    assert resp.status == 404
    assert "customer-not-found" in (await resp.json(content_type=None))["type"]


async def test_an_identity_is_never_taken_from_another_customer(client: AppClient) -> None:
    await client.put("/v1/customers/C-1", json=DANA, headers=admin())
    thief = {"given_name": "Eve", "identities": DANA["identities"]}
    resp = await client.put("/v1/customers/C-2", json=thief, headers=admin())
    assert resp.status == 409
    found = await (
        await client.post("/v1/lookup", json=_lookup("1402345678"), headers=admin())
    ).json()
    assert found["resolution"]["customer_id"] == "C-1"
    assert (await client.get("/v1/customers/C-2", headers=admin())).status == 404


async def test_lookup_resolves_a_linked_identity_with_context(client: AppClient) -> None:
    await client.put("/v1/customers/C-1", json=DANA, headers=admin())
    events = [
        {
            "id": "e1",
            "type": "case_opened",
            "at": "2026-01-01T10:00:00Z",
            "case_id": "K1",
            "category": "complaint",
            "summary": "Drops every evening",
        },
        {
            "id": "e2",
            "type": "promise",
            "at": "2026-01-01T10:05:00Z",
            "summary": "Waive $300 fee",
            "amount": "300.00",
            "due": "2026-01-15",
            "by": "Sam",
        },
        {
            "id": "e3",
            "type": "interaction",
            "at": "2026-01-02T09:00:00Z",
            "channel": "twitter",
            "direction": "inbound",
            "summary": "Again down",
        },
    ]
    posted = await client.post("/v1/customers/C-1/events", json=events, headers=admin())
    assert (await posted.json()) == {"received": 3, "added": 3}

    resp = await client.post("/v1/lookup", json=_lookup("1402345678"), headers=admin())
    assert resp.status == 200
    body = await resp.json()
    resolution = body["resolution"]
    assert (resolution["status"], resolution["method"], resolution["customer_id"]) == (
        "matched",
        "linked_identity",
        "C-1",
    )
    card = body["context"]
    assert card["name"] == "Dana King"
    assert [p["name"] for p in card["active_products"]] == ["Fibre 500"]
    assert [c["case_id"] for c in card["open_cases"]] == ["K1"]
    assert card["open_promises"][0]["summary"] == "Waive $300 fee"
    assert card["open_promises"][0]["overdue"] is True
    assert [e["id"] for e in card["last_interactions"]] == ["e3"]


async def test_lookup_of_an_unknown_sender_is_no_match(client: AppClient) -> None:
    await client.put("/v1/customers/C-1", json=DANA, headers=admin())
    for external_id, channel in (("999", "twitter"), ("1402345678", "facebook")):
        body = await _resolve(client, external_id, channel)
        assert body["resolution"]["status"] == "no_match"
        assert "context" not in body


async def test_replacing_a_customer_moves_identity_links(client: AppClient) -> None:
    await client.put("/v1/customers/C-1", json=DANA, headers=admin())
    moved = {**DANA, "identities": [{"channel": "facebook", "external_id": "fb-77"}]}
    await client.put("/v1/customers/C-1", json=moved, headers=admin())
    old = await (
        await client.post("/v1/lookup", json=_lookup("1402345678"), headers=admin())
    ).json()
    assert old["resolution"]["status"] == "no_match"
    new = await _resolve(client, "fb-77", "facebook")
    assert new["resolution"]["customer_id"] == "C-1"
    # The released identity can now be linked to someone else.
    other = {"identities": DANA["identities"]}
    assert (await client.put("/v1/customers/C-2", json=other, headers=admin())).status == 201


async def test_events_are_idempotent_by_id_and_listed_newest_first(client: AppClient) -> None:
    await client.put("/v1/customers/C-1", json=DANA, headers=admin())
    older = {"id": "a", "type": "note", "at": "2026-01-01T00:00:00Z", "summary": "first"}
    newer = {"id": "b", "type": "note", "at": "2026-02-01T00:00:00Z", "summary": "second"}
    url = "/v1/customers/C-1/events"
    assert (await (await client.post(url, json=older, headers=admin())).json())["added"] == 1
    resent = await client.post(url, json=[older, newer], headers=admin())
    assert (await resent.json()) == {"received": 2, "added": 1}
    history = await (await client.get("/v1/customers/C-1/history", headers=admin())).json()
    assert [e["id"] for e in history["events"]] == ["b", "a"]


async def test_events_for_an_unknown_customer_are_404(client: AppClient) -> None:
    event = {"type": "note", "at": "2026-01-01T00:00:00Z"}
    resp = await client.post("/v1/customers/C-x/events", json=event, headers=admin())
    assert resp.status == 404
