"""Edge cases of the customer book found in review: races, odd inputs, order, case."""

from __future__ import annotations

import asyncio
import io
import json
from typing import Any

import pytest
import redis.asyncio as aioredis

from service.book.audit import Action, AuditLog
from service.store.keynames import KeySchema
from tests.helpers import PROBLEM, AppClient, MakeClient, admin
from tests.test_import import NDJSON, ndjson, snapshot

pytestmark = pytest.mark.cluster


async def _put(client: AppClient, cid: str, body: dict[str, Any]) -> Any:
    resp = await client.put(f"/v1/customers/{cid}", json=body, headers=admin())
    assert resp.status in (200, 201), await resp.text()
    return resp


async def test_events_for_an_erased_customer_leave_nothing_behind(
    client: AppClient, redis: aioredis.Redis, keys: KeySchema
) -> None:
    await _put(client, "C-1", {"given_name": "Dana"})
    await client.delete("/v1/customers/C-1", headers=admin())
    event = {"type": "note", "at": "2026-01-01T00:00:00Z", "summary": "07700 900123"}
    resp = await client.post("/v1/customers/C-1/events", json=event, headers=admin())
    assert resp.status == 404
    left = {k async for k in redis.scan_iter(match=keys.everything())}
    # The serving app's worker and dispatcher keep their (empty) streams, the rate
    # limiter its count of the admin key's requests: no customer data.
    counts = {k for k in left if k.startswith(keys.rate_limits() + ":")}
    streams = {keys.ingest_stream(), keys.event_outbox()}
    assert left - {*streams, *counts} == {keys.audit(), keys.customer_count()}


async def test_out_of_range_times_are_refused_not_500(client: AppClient) -> None:
    await _put(client, "C-1", {})
    for at in ("0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-05:00"):
        event = {"type": "note", "at": at}
        resp = await client.post("/v1/customers/C-1/events", json=event, headers=admin())
        assert resp.status == 422, at
    naive = await client.get(
        "/v1/customers/C-1/history", params={"since": "2026-01-01T00:00:00"}, headers=admin()
    )
    assert naive.status == 422
    bogus = await client.get("/v1/customers/C-1/history?type=bogus", headers=admin())
    assert bogus.status == 422
    lines = ndjson(
        {"customer_id": "C-1", "type": "note", "at": "2026-01-01T00:00:00Z"},
        {"customer_id": "C-1", "type": "note", "at": "0001-01-01T00:00:00+01:00"},
    )
    summary = await (await client.post("/v1/import/events", data=lines, headers=NDJSON)).json()
    assert (summary["accepted"], summary["rejected"]) == (1, 1)


async def test_a_byte_order_mark_on_the_first_line_is_fine(client: AppClient) -> None:
    body = b"\xef\xbb\xbf" + ndjson({"id": "C-1"})
    summary = await (await client.post("/v1/import/customers", data=body, headers=NDJSON)).json()
    assert summary["accepted"] == 1


async def test_import_outcome_does_not_depend_on_batch_size_or_runs(
    make_client: MakeClient, redis: aioredis.Redis, keys: KeySchema
) -> None:
    t1 = [{"channel": "twitter", "external_id": "t1"}]
    # A claims t1, A lets it go, B claims it; C-2 claims t2 before C-1 releases it.
    body = ndjson(
        {"id": "A", "identities": t1},
        {"id": "A"},
        {"id": "B", "identities": t1},
        {"id": "C-1", "identities": [{"channel": "twitter", "external_id": "t2"}]},
        {"id": "C-2", "identities": [{"channel": "twitter", "external_id": "t3"}]},
        {"id": "C-3", "identities": [{"channel": "twitter", "external_id": "t2"}]},
        {"id": "C-1"},
    )
    states = []
    for batch_size in (1, 500):
        client = await make_client(import_batch_size=batch_size)
        for _ in range(2):
            summary = await (
                await client.post("/v1/import/customers", data=body, headers=NDJSON)
            ).json()
            assert summary["rejected"] == 0, summary["first_rejected"]
            states.append(await snapshot(redis, keys))
        for cid in ("A", "B", "C-1", "C-2", "C-3"):
            await client.delete(f"/v1/customers/{cid}", headers=admin())
    customers = ("A", "B", "C-1", "C-2", "C-3")
    audit = {
        keys.audit(),
        *(keys.customer_audit(c) for c in customers),
        *(keys.audit_subject(c) for c in customers),
    }
    # The audit trail records when things happened, under random pseudonyms: leave it out.
    for state in states:
        for key in audit & state.keys():
            del state[key]
    assert states[0] == states[1] == states[2] == states[3]
    assert states[0][keys.identity("twitter", "t1")] == "B"
    assert states[0][keys.identity("twitter", "t2")] == "C-3"


@pytest.mark.parametrize("batch_size", [1, 3, 7, 250])
async def test_the_last_line_of_a_customer_wins_whatever_the_batches_in_flight(
    make_client: MakeClient, batch_size: int
) -> None:
    # Batches are written while later ones are parsed and queued: they must still land
    # in file order.
    client = await make_client(import_batch_size=batch_size)
    body = ndjson(*({"id": f"C-{i % 4}", "given_name": f"N{i}"} for i in range(45)))
    summary = await (await client.post("/v1/import/customers", data=body, headers=NDJSON)).json()
    assert (summary["accepted"], summary["created"]) == (45, 4)
    assert summary["committed_through_line"] == 45
    for k, last in enumerate((44, 41, 42, 43)):
        got = await (await client.get(f"/v1/customers/C-{k}", headers=admin())).json()
        assert got["given_name"] == f"N{last}"


async def test_concurrent_patches_without_if_match_all_apply(client: AppClient) -> None:
    await _put(client, "C-1", {"attributes": {}})

    async def patch(i: int) -> int:
        resp = await client.patch(
            "/v1/customers/C-1", json={"attributes": {f"k{i}": i}}, headers=admin()
        )
        return resp.status

    statuses = await asyncio.gather(*(patch(i) for i in range(20)))
    assert set(statuses) == {200}
    got = await (await client.get("/v1/customers/C-1", headers=admin())).json()
    assert got["attributes"] == {f"k{i}": i for i in range(20)}


async def test_if_match_uses_strong_comparison(client: AppClient) -> None:
    etag = (await _put(client, "C-1", {"given_name": "Dana"})).headers["ETag"]
    weak = await client.patch(
        "/v1/customers/C-1", json={"given_name": "D"}, headers={**admin(), "If-Match": "W/" + etag}
    )
    assert weak.status == 412
    strong = await client.patch(
        "/v1/customers/C-1", json={"given_name": "D"}, headers={**admin(), "If-Match": etag}
    )
    assert strong.status == 200


async def test_email_identities_ignore_case(client: AppClient) -> None:
    mine = [{"channel": "email", "external_id": "Dana.King@Example.com"}]
    theirs = [{"channel": "email", "external_id": "dana.king@example.com"}]
    await _put(client, "C-1", {"identities": mine})
    clash = await client.put("/v1/customers/C-2", json={"identities": theirs}, headers=admin())
    assert clash.status == 409
    assert "email identity" in (await clash.json(content_type=PROBLEM))["detail"]
    lookup = {"channel": "email", "sender": {"external_id": "DANA.KING@example.COM"}}
    found = await (await client.post("/v1/lookup", json=lookup, headers=admin())).json()
    assert found["resolution"]["customer_id"] == "C-1"


async def test_a_record_that_no_longer_validates_can_still_be_exported_and_erased(
    client: AppClient, redis: aioredis.Redis, keys: KeySchema
) -> None:
    await _put(client, "C-1", {"identities": [{"channel": "twitter", "external_id": "t9"}]})
    raw = json.loads(await redis.get(keys.customer("C-1")) or "{}")
    await redis.set(keys.customer("C-1"), json.dumps({**raw, "legacy_field": 1}))
    export = await client.get("/v1/customers/C-1/export", headers=admin())
    assert export.status == 200
    assert (await export.json())["customer"]["legacy_field"] == 1
    erased = await client.delete("/v1/customers/C-1", headers=admin())
    assert erased.status == 200
    assert (await erased.json())["identity_links"] == 1
    left = {k async for k in redis.scan_iter(match=keys.everything())}
    # The serving app's worker and dispatcher keep their (empty) streams, the rate
    # limiter its count of the admin key's requests: no customer data.
    counts = {k for k in left if k.startswith(keys.rate_limits() + ":")}
    streams = {keys.ingest_stream(), keys.event_outbox()}
    assert left - {*streams, *counts} == {keys.audit(), keys.customer_count()}


async def test_error_pointers_name_request_fields_and_mask_personal_keys(
    client: AppClient,
) -> None:
    await _put(client, "C-1", {})
    event = {"type": "case_opened", "at": "2026-01-01T00:00:00Z"}
    resp = await client.post("/v1/customers/C-1/events", json=event, headers=admin())
    pointers = [e["pointer"] for e in (await resp.json(content_type=PROBLEM))["errors"]]
    assert pointers == [""]  # the event as a whole lacks case_id
    body = {"attributes": {"x" * 300: 1}, "dana.king@example.com": 1}
    resp = await client.put("/v1/customers/C-1", json=body, headers=admin())
    text = await resp.text()
    assert "dana.king@example.com" not in text
    pointers = [e["pointer"] for e in (await resp.json(content_type=PROBLEM))["errors"]]
    assert "/[email]" in pointers
    assert all("constrained" not in p and "[" not in p.replace("[email]", "") for p in pointers)


async def test_a_repeated_bad_value_is_reported_once(client: AppClient) -> None:
    stored = await (await _put(client, "C-1", {"emails": ["bad", "bad", "x@example.com"]})).json()
    assert stored["emails"] == ["bad", "x@example.com"]
    assert [i["pointer"] for i in stored["data_issues"]] == ["/emails/0"]


async def test_the_big_body_helper_streams(client: AppClient) -> None:
    body = io.BytesIO(ndjson(*({"id": f"C-{i}"} for i in range(50))))
    summary = await (await client.post("/v1/import/customers", data=body, headers=NDJSON)).json()
    assert summary["accepted"] == 50


async def test_data_issues_sent_by_a_client_are_replaced_by_the_servers(client: AppClient) -> None:
    sent = {"emails": ["x@example.com"], "data_issues": [{"pointer": "/emails/0", "reason": "x"}]}
    stored = await (await _put(client, "C-1", sent)).json()
    assert stored["emails"] == ["x@example.com"]
    assert stored.get("data_issues", []) == []


async def test_a_customers_audit_index_keeps_the_newest_thousand(
    redis: aioredis.Redis, keys: KeySchema
) -> None:
    log = AuditLog(redis, keys, 365)
    await log.record_many([Action("note", "C-1", "rep", {"n": n}) for n in range(1001)])
    await log.record_many([Action("note", "C-1", "rep", {"n": 1001})])
    entries = await log.about("C-1")  # oldest first
    assert len(entries) == 1000
    assert [entries[0].detail, entries[-1].detail] == [{"n": 2}, {"n": 1001}]


async def test_an_if_match_that_names_no_etag_matches_nothing(client: AppClient) -> None:
    await _put(client, "C-1", {"given_name": "Dana"})
    for cid, value in (("C-1", '""'), ("C-1", ""), ("C-2", "-"), ("C-2", '"-"')):
        resp = await client.put(
            f"/v1/customers/{cid}",
            json={"given_name": "D"},
            headers={**admin(), "If-Match": value},
        )
        assert resp.status == 412, (cid, value)
    assert (await client.get("/v1/customers/C-2", headers=admin())).status == 404


async def test_concurrent_audits_of_a_new_customer_agree_on_one_pseudonym(
    redis: aioredis.Redis, keys: KeySchema
) -> None:
    log = AuditLog(redis, keys, 365)
    await asyncio.gather(
        *(log.record("note", "C-1", f"rep{n}", {"n": n}) for n in range(20)),
        log.record("note", "C-2", "rep", {}),
    )
    entries = await log.about("C-1")
    assert len(entries) == 20
    assert {(e.customer_id, e.subject) for e in entries} == {
        ("C-1", await redis.get(keys.audit_subject("C-1")))
    }
    assert (await log.about("C-2"))[0].subject != entries[0].subject
