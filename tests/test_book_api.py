"""The customer book over HTTP: normalisation, ETags, merge patch, erasure, export, history."""

from __future__ import annotations

import json
from typing import Any

import pytest
import redis.asyncio as aioredis

from service.store.keynames import KeySchema
from service.store.redistypes import stream_entries
from tests.helpers import PROBLEM, AppClient, admin

pytestmark = pytest.mark.cluster

DANA: dict[str, Any] = {
    "given_name": "Dana",
    "family_name": "King",
    "emails": ["Dana.King@Example.COM", "not-an-email"],
    "phones": ["07700 900123", "+44 7700 900123", "call after 6"],
    "date_of_birth": "19840503",
    "addresses": [{"line1": "14 Cardigan Road", "city": "Leeds", "postcode": "LS6 3AG"}],
    "household": {"id": "H-1", "role": "holder"},
    "identities": [{"channel": "twitter", "external_id": "1402345678", "handle": "dana_k"}],
}


async def _put(client: AppClient, cid: str, body: dict[str, Any]) -> Any:
    resp = await client.put(f"/v1/customers/{cid}", json=body, headers=admin())
    assert resp.status in (200, 201), await resp.text()
    return await resp.json()


async def test_contacts_are_normalised_and_unparseable_values_kept_and_flagged(
    client: AppClient,
) -> None:
    stored = await _put(client, "C-1", DANA)
    assert stored["emails"] == ["Dana.King@example.com", "not-an-email"]
    assert stored["phones"] == ["+447700900123", "call after 6"]
    assert stored["date_of_birth"] == "1984-05-03"
    assert {i["pointer"] for i in stored["data_issues"]} == {"/emails/1", "/phones/1"}


async def test_the_default_region_setting_reads_national_numbers(make_client: Any) -> None:
    client = await make_client(default_region="US")
    stored = await _put(client, "C-1", {"phones": ["(415) 555-0134"]})
    assert stored["phones"] == ["+14155550134"]


async def test_a_bad_date_of_birth_is_kept_and_flagged(client: AppClient) -> None:
    stored = await _put(client, "C-1", {"date_of_birth": "31/02/1984"})
    assert stored["date_of_birth"] == "31/02/1984"
    assert [i["pointer"] for i in stored["data_issues"]] == ["/date_of_birth"]


async def test_etag_and_if_match(client: AppClient) -> None:
    first = await client.put("/v1/customers/C-1", json=DANA, headers=admin())
    etag = first.headers["ETag"]
    got = await client.get("/v1/customers/C-1", headers=admin())
    assert got.headers["ETag"] == etag
    ok = await client.put(
        "/v1/customers/C-1",
        json={**DANA, "given_name": "Dee"},
        headers={**admin(), "If-Match": etag},
    )
    assert ok.status == 200
    stale = await client.put(
        "/v1/customers/C-1",
        json={**DANA, "given_name": "Di"},
        headers={**admin(), "If-Match": etag},
    )
    assert stale.status == 412
    assert stale.content_type == PROBLEM
    body = await (await client.get("/v1/customers/C-1", headers=admin())).json()
    assert body["given_name"] == "Dee"


async def test_merge_patch_changes_only_what_it_names(client: AppClient) -> None:
    await _put(client, "C-1", DANA)
    resp = await client.patch(
        "/v1/customers/C-1",
        json={"family_name": "King-Lee", "household": None, "phones": ["020 7946 0958"]},
        headers={**admin(), "Content-Type": "application/merge-patch+json"},
    )
    assert resp.status == 200
    body = await resp.json()
    assert body["family_name"] == "King-Lee"
    assert body["given_name"] == "Dana"
    assert "household" not in body
    assert body["phones"] == ["+442079460958"]
    assert body["identities"] == DANA["identities"]


async def test_patch_of_a_missing_customer_is_404_and_a_bad_patch_is_422(
    client: AppClient,
) -> None:
    assert (await client.patch("/v1/customers/C-x", json={}, headers=admin())).status == 404
    await _put(client, "C-1", DANA)
    bad = await client.patch("/v1/customers/C-1", json={"emails": 7}, headers=admin())
    assert bad.status == 422


async def test_body_id_must_match_the_path(client: AppClient) -> None:
    resp = await client.put("/v1/customers/C-1", json={"id": "C-2"}, headers=admin())
    assert resp.status == 422


async def test_erasure_leaves_no_key_that_leads_to_the_customer(
    client: AppClient, redis: aioredis.Redis, keys: KeySchema
) -> None:
    await _put(client, "C-1", DANA)
    await _put(
        client,
        "C-2",
        {"given_name": "Other", "identities": [{"channel": "facebook", "external_id": "fb-2"}]},
    )
    events = [
        {"type": "note", "at": "2026-01-01T00:00:00Z", "summary": "a"},
        {"type": "note", "at": "2026-01-02T00:00:00Z", "summary": "b"},
    ]
    await client.post("/v1/customers/C-1/events", json=events, headers=admin())
    before = {k async for k in redis.scan_iter(match=keys.everything())}
    subjects = {cid: await redis.get(keys.audit_subject(cid)) for cid in ("C-1", "C-2")}
    assert None not in subjects.values()
    assert subjects["C-1"] != subjects["C-2"]

    resp = await client.delete("/v1/customers/C-1", headers=admin())
    assert resp.status == 200
    erased = await resp.json()
    assert erased["customers"] == 1
    assert erased["events"] == 2
    assert erased["identity_links"] == 1
    assert erased["index_entries"] >= 5  # e-mail, phone, postcode, name and surname sets

    after = {k async for k in redis.scan_iter(match=keys.everything())}
    theirs = {*keys.customer_keys("C-1"), keys.identity("twitter", "1402345678")}
    assert theirs & before  # the record, history and link were there
    assert not theirs & after
    for key in after - {keys.audit()}:
        kind = await redis.type(key)
        value = await redis.get(key) if kind == "string" else ""
        assert value != "C-1", key
    assert (await client.get("/v1/customers/C-1", headers=admin())).status == 404
    assert (await client.get("/v1/customers/C-2", headers=admin())).status == 200
    assert (await client.delete("/v1/customers/C-1", headers=admin())).status == 404

    # The audit trail keeps who erased which subject, under a pseudonym that nothing
    # left ties to the person: never their id or an identifier of theirs.
    audit = stream_entries(await redis.xrange(keys.audit()))
    changes = {"identity_linked", "erase"}
    assert [
        (e["action"], e["subject"], e["actor"]) for _, e in audit if e["action"] in changes
    ] == [
        ("identity_linked", subjects["C-1"], "bootstrap"),
        ("identity_linked", subjects["C-2"], "bootstrap"),
        ("erase", subjects["C-1"], "bootstrap"),
    ]
    assert erased["audit_subject"] == subjects["C-1"]
    assert await redis.get(keys.audit_subject("C-2")) == subjects["C-2"]
    for forbidden in ("C-1", "1402345678"):
        assert forbidden not in json.dumps(audit)


async def test_erasure_needs_admin(client: AppClient) -> None:
    issued = await (
        await client.post(
            "/v1/keys", json={"name": "bot", "scopes": ["integration", "rep"]}, headers=admin()
        )
    ).json()
    await _put(client, "C-1", DANA)
    resp = await client.delete(
        "/v1/customers/C-1", headers={"Authorization": f"Bearer {issued['token']}"}
    )
    assert resp.status == 403


async def test_export_holds_everything(client: AppClient) -> None:
    await _put(client, "C-1", DANA)
    await client.post(
        "/v1/customers/C-1/events",
        json={"id": "n1", "type": "note", "at": "2026-01-01T00:00:00Z", "summary": "hello"},
        headers=admin(),
    )
    moved = {**DANA, "identities": [{"channel": "facebook", "external_id": "fb-1"}]}
    await client.put("/v1/customers/C-1", json=moved, headers=admin())
    export = await (await client.get("/v1/customers/C-1/export", headers=admin())).json()
    assert export["customer"]["emails"][0] == "Dana.King@example.com"
    assert [e["id"] for e in export["events"]] == ["n1"]
    assert [(a["action"], a["detail"].get("channels")) for a in export["audit"]] == [
        ("identity_linked", ["twitter"]),
        ("customer_written", None),
        ("events_added", None),
        ("identity_linked", ["facebook"]),
        ("identity_unlinked", ["twitter"]),
        ("customer_written", None),
        ("customer_exported", None),  # who looked at them, this export included
    ]


def _event(i: int, **extra: Any) -> dict[str, Any]:
    return {
        "id": f"e{i:03d}",
        "type": "interaction",
        "at": f"2026-01-{1 + i % 28:02d}T10:00:00Z",
        "channel": "twitter" if i % 2 else "email",
        **extra,
    }


async def test_history_pages_newest_first_without_gaps_or_repeats(client: AppClient) -> None:
    await _put(client, "C-1", DANA)
    # 60 events over 28 days: many share a timestamp, which the cursor must handle.
    events = [_event(i) for i in range(60)]
    await client.post("/v1/customers/C-1/events", json=events, headers=admin())
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        query = {"limit": "7", **({"cursor": cursor} if cursor else {})}
        resp = await client.get("/v1/customers/C-1/history", params=query, headers=admin())
        page = await resp.json()
        seen.extend(e["id"] for e in page["events"])
        pages += 1
        cursor = page.get("next_cursor")
        if cursor is None:
            break
    assert sorted(seen) == sorted(e["id"] for e in events)
    assert len(seen) == len(set(seen))
    times = [next(e["at"] for e in events if e["id"] == i) for i in seen]
    assert times == sorted(times, reverse=True)
    assert pages == 9


async def test_history_filters(client: AppClient) -> None:
    await _put(client, "C-1", DANA)
    events = [
        *[_event(i) for i in range(10)],
        {"id": "n", "type": "note", "at": "2026-01-05T11:00:00Z"},
    ]
    await client.post("/v1/customers/C-1/events", json=events, headers=admin())

    async def ids(**params: str) -> list[str]:
        resp = await client.get("/v1/customers/C-1/history", params=params, headers=admin())
        assert resp.status == 200
        return [e["id"] for e in (await resp.json())["events"]]

    assert await ids(type="note") == ["n"]
    assert set(await ids(channel="email")) == {"e000", "e002", "e004", "e006", "e008"}
    assert await ids(since="2026-01-08T00:00:00Z") == ["e009", "e008", "e007"]
    assert await ids(until="2026-01-02T10:00:00Z", type="interaction") == ["e001", "e000"]
    bad = await client.get("/v1/customers/C-1/history?limit=0", headers=admin())
    assert bad.status == 422
    junk = await client.get("/v1/customers/C-1/history?cursor=%%%", headers=admin())
    assert junk.status == 400


async def test_events_without_ids_are_stored_once(client: AppClient) -> None:
    await _put(client, "C-1", DANA)
    event = {"type": "note", "at": "2026-01-01T00:00:00Z", "summary": "same"}
    first = await client.post("/v1/customers/C-1/events", json=[event, event], headers=admin())
    assert (await first.json())["added"] == 1
    again = await client.post("/v1/customers/C-1/events", json=event, headers=admin())
    assert (await again.json())["added"] == 0


async def test_a_padded_path_id_never_reaches_another_customer(client: AppClient) -> None:
    await _put(client, "C-1", DANA)
    resp = await client.put("/v1/customers/%20C-1%20", json={"given_name": "Eve"}, headers=admin())
    assert resp.status == 404
    body = await (await client.get("/v1/customers/C-1", headers=admin())).json()
    assert body["given_name"] == "Dana"
    assert body["identities"] == DANA["identities"]


async def test_event_times_are_stored_in_utc_and_old_dates_work(client: AppClient) -> None:
    await _put(client, "C-1", DANA)
    events = [
        {"id": "a", "type": "note", "at": "2026-01-01T12:00:00+05:00"},
        {"id": "b", "type": "note", "at": "0001-01-01T00:00:00Z"},
    ]
    assert (
        await client.post("/v1/customers/C-1/events", json=events, headers=admin())
    ).status == 201
    history = await (await client.get("/v1/customers/C-1/history", headers=admin())).json()
    assert [e["at"] for e in history["events"]] == ["2026-01-01T07:00:00Z", "0001-01-01T00:00:00Z"]
    assert (await client.get("/v1/customers/C-1/context", headers=admin())).status == 200


async def test_incomplete_events_are_422(client: AppClient) -> None:
    await _put(client, "C-1", DANA)
    for bad in (
        {"type": "case_opened", "at": "2026-01-01T00:00:00Z"},
        {"type": "billing", "at": "2026-01-01T00:00:00Z", "kind": "gift"},
        {"type": "promise_kept", "at": "2026-01-01T00:00:00Z"},
        {"type": "note", "at": "2026-01-01T00:00:00"},
        {"type": "note", "at": "yesterday"},
    ):
        resp = await client.post("/v1/customers/C-1/events", json=bad, headers=admin())
        assert resp.status == 422, bad


async def test_context_card_endpoint(client: AppClient) -> None:
    await _put(client, "C-1", DANA)
    await client.post(
        "/v1/customers/C-1/events",
        json={"type": "credit", "at": "2026-01-01T00:00:00Z", "amount": "50.00"},
        headers=admin(),
    )
    card = await (await client.get("/v1/customers/C-1/context", headers=admin())).json()
    assert (card["household"]["id"], card["household"]["role"]) == ("H-1", "holder")
    assert [f["code"] for f in card["flags"]] == ["unapplied_credit"]
