"""Bulk import over HTTP and from the CLI: bad lines, resumes, idempotence, streaming."""

from __future__ import annotations

import gc
import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis

from service.book import indexing
from service.ops.heap import YOUNG_THRESHOLD, bulk_allocation
from service.schemas import Customer
from service.store.keynames import KeySchema
from service.store.redistypes import stream_entries, text
from tests.helpers import AppClient, MakeClient, admin, command_env

pytestmark = pytest.mark.cluster

NDJSON = {**admin(), "Content-Type": "application/x-ndjson"}


def ndjson(*docs: Any) -> bytes:
    return b"\n".join(d if isinstance(d, bytes) else json.dumps(d).encode() for d in docs) + b"\n"


BOOK = ndjson(
    {
        "id": "C-1",
        "given_name": "Dana",
        "phones": ["07700 900123"],
        "identities": [{"channel": "twitter", "external_id": "t1"}],
    },
    {"id": "C-2", "given_name": "Bob", "date_of_birth": "1990-13-45"},
    b"{not json",
    {"id": "C-3", "nickname": "x"},
    b"",
    {"id": "C-4", "phones": ["garbage"]},
    {"id": "C-5", "identities": [{"channel": "twitter", "external_id": "t1"}]},
    {"given_name": "no id"},
)


async def snapshot_value(redis: aioredis.Redis, key: str) -> Any:
    kind = text(await redis.type(key))
    if kind == "string":
        return await redis.get(key)
    if kind == "hash":
        return await redis.hgetall(key)
    if kind == "zset":
        return await redis.zrange(key, 0, -1, withscores=True)
    if kind == "set":
        return sorted(await redis.smembers(key))
    if kind == "list":
        return await redis.lrange(key, 0, -1)
    if kind == "stream":
        return [fields for _, fields in stream_entries(await redis.xrange(key))]
    raise AssertionError(f"unexpected type {kind} for {key}")


async def snapshot(redis: aioredis.Redis, keys: KeySchema) -> dict[str, Any]:
    """Every key of the test's prefix with its value, to compare whole states (but the
    rate limiter's counts of requests, which are no state of the book)."""
    return {
        key: await snapshot_value(redis, key)
        async for key in redis.scan_iter(match=keys.everything())
        if not key.startswith(keys.rate_limits() + ":")
    }


async def test_customers_import_counts_and_reports_bad_lines(client: AppClient) -> None:
    resp = await client.post("/v1/import/customers", data=BOOK, headers=NDJSON)
    assert resp.status == 200
    summary = await resp.json()
    assert summary["lines"] == 8
    assert summary["accepted"] == 3  # C-1, C-2, C-4; line 5 is blank and not counted
    assert summary["rejected"] == 4
    assert summary["created"] == 3
    lines = {r["line"]: r["reason"] for r in summary["first_rejected"]}
    assert set(lines) == {3, 4, 7, 8}
    assert "nickname" in lines[4]
    assert "another customer" in lines[7]
    assert "id" in lines[8]
    # Kept as given and flagged, not dropped: the unparseable phone and date.
    c4 = await (await client.get("/v1/customers/C-4", headers=admin())).json()
    assert c4["phones"] == ["garbage"]
    c2 = await (await client.get("/v1/customers/C-2", headers=admin())).json()
    assert c2["data_issues"][0]["pointer"] == "/date_of_birth"


async def test_the_links_an_import_makes_are_audited_and_a_refused_one_is_not(
    client: AppClient, redis: aioredis.Redis, keys: KeySchema
) -> None:
    await client.post("/v1/import/customers", data=BOOK, headers=NDJSON)
    audit = [fields for _, fields in stream_entries(await redis.xrange(keys.audit()))]
    subject = await redis.get(keys.audit_subject("C-1"))
    assert [(e["action"], e.get("subject"), e["actor"]) for e in audit] == [
        ("identity_linked", subject, "import"),
        ("import", None, "bootstrap"),  # the import itself, about no one customer
    ]
    assert json.loads(audit[0]["detail"]) == {"channels": ["twitter"]}
    # Indexed under the customer, as the export reads it.
    export = await (await client.get("/v1/customers/C-1/export", headers=admin())).json()
    assert [(a["action"], a["customer_id"], a["subject"]) for a in export["audit"]] == [
        ("identity_linked", "C-1", subject),
        ("customer_exported", "C-1", subject),  # who looked, this export included
    ]


async def test_importing_the_same_file_twice_leaves_the_same_state(
    client: AppClient, redis: aioredis.Redis, keys: KeySchema
) -> None:
    await client.post("/v1/import/customers", data=BOOK, headers=NDJSON)
    first = await snapshot(redis, keys)
    again = await (await client.post("/v1/import/customers", data=BOOK, headers=NDJSON)).json()
    assert again["accepted"] == 3
    assert again["created"] == 0
    second = await snapshot(redis, keys)
    # The trail gains the second import itself, and nothing else.
    trail = keys.audit()
    assert [e["action"] for e in second.pop(trail)[len(first[trail]) :]] == ["import"]
    del first[trail]
    assert second == first


async def test_a_resumed_import_skips_what_was_done(client: AppClient) -> None:
    resp = await client.post("/v1/import/customers?from_line=5", data=BOOK, headers=NDJSON)
    summary = await resp.json()
    assert summary["accepted"] == 2  # C-4 and C-5 (no conflict: C-1 never imported)
    assert (await client.get("/v1/customers/C-1", headers=admin())).status == 404
    assert (await client.get("/v1/customers/C-5", headers=admin())).status == 200


async def test_the_last_line_of_a_duplicate_id_wins(client: AppClient) -> None:
    body = ndjson({"id": "C-1", "given_name": "First"}, {"id": "C-1", "given_name": "Second"})
    summary = await (await client.post("/v1/import/customers", data=body, headers=NDJSON)).json()
    assert summary["accepted"] == 2
    got = await (await client.get("/v1/customers/C-1", headers=admin())).json()
    assert got["given_name"] == "Second"


async def test_a_record_that_validates_but_cannot_be_prepared_is_rejected_alone(
    client: AppClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Records are prepared a chunk at a time: one that fails there must not take the
    # others of its chunk with it.
    real = indexing.index_record

    def failing(customer: Customer, region: str = "GB") -> str:
        if customer.id == "C-13":
            raise ValueError("cannot be indexed")
        return real(customer, region)

    monkeypatch.setattr("service.book.customers.index_record", failing)
    body = ndjson(*({"id": f"C-{i}", "given_name": "Dana"} for i in range(1, 31)))
    summary = await (await client.post("/v1/import/customers", data=body, headers=NDJSON)).json()
    assert summary["accepted"] == 29
    assert summary["first_rejected"] == [{"line": 13, "reason": "cannot be indexed"}]
    assert (await client.get("/v1/customers/C-12", headers=admin())).status == 200
    assert (await client.get("/v1/customers/C-13", headers=admin())).status == 404
    assert (await client.get("/v1/customers/C-14", headers=admin())).status == 200


async def test_the_body_is_streamed_not_read_whole(make_client: MakeClient) -> None:
    client = await make_client(max_body_bytes=4096)
    body = ndjson(*({"id": f"C-{i}", "given_name": "x" * 50} for i in range(300)))
    assert len(body) > 4096 * 4
    summary = await (await client.post("/v1/import/customers", data=body, headers=NDJSON)).json()
    assert summary["accepted"] == 300


async def test_an_overlong_line_is_rejected_and_the_rest_imported(client: AppClient) -> None:
    huge = json.dumps({"id": "C-big", "name": "x" * (2 * 1024 * 1024)}).encode()
    body = io.BytesIO(ndjson({"id": "C-1"}, huge, {"id": "C-2"}))
    summary = await (await client.post("/v1/import/customers", data=body, headers=NDJSON)).json()
    assert summary["accepted"] == 2
    assert summary["first_rejected"] == [{"line": 2, "reason": "line longer than 1 MiB"}]


async def test_import_needs_ndjson_and_admin(client: AppClient) -> None:
    resp = await client.post("/v1/import/customers", json={"id": "C-1"}, headers=admin())
    assert resp.status == 415
    key = await (
        await client.post(
            "/v1/keys", json={"name": "x", "scopes": ["integration"]}, headers=admin()
        )
    ).json()
    resp = await client.post(
        "/v1/import/customers",
        data=BOOK,
        headers={"Authorization": f"Bearer {key['token']}", "Content-Type": "application/x-ndjson"},
    )
    assert resp.status == 403


async def test_events_import(client: AppClient) -> None:
    await client.post("/v1/import/customers", data=BOOK, headers=NDJSON)
    events = ndjson(
        {"customer_id": "C-1", "type": "note", "at": "2026-01-01T00:00:00Z", "summary": "a"},
        {"customer_id": "C-404", "type": "note", "at": "2026-01-01T00:00:00Z"},
        {"customer_id": "C-1", "type": "case_opened", "at": "2026-01-01T00:00:00Z"},
        {"customer_id": "C-1", "type": "promise", "at": "2026-01-02T00:00:00Z", "summary": "w"},
    )
    summary = await (await client.post("/v1/import/events", data=events, headers=NDJSON)).json()
    assert summary["accepted"] == 2
    assert {r["line"] for r in summary["first_rejected"]} == {2, 3}
    again = await (await client.post("/v1/import/events", data=events, headers=NDJSON)).json()
    assert again["accepted"] == 2
    history = await (await client.get("/v1/customers/C-1/history", headers=admin())).json()
    assert len(history["events"]) == 2  # the re-import stored nothing twice


def _cli(redis_url: str, key_prefix: str, *args: str, stdin: bytes | None = None) -> Any:
    env = command_env(redis_url, key_prefix)
    return subprocess.run(
        [sys.executable, "-m", "service", "import", *args],
        env=env,
        input=stdin,
        capture_output=True,
        timeout=120,
        check=False,
    )


CSV = (
    "id,given_name,family_name,emails,phones,date_of_birth,postcode,account_number,"
    "twitter_id,twitter_handle,household_id,household_role,attr.segment\n"
    "C-10,Dana,King,dana@example.com;d.king@example.org,07700 900123,19840503,LS6 3AG,"
    "55-1234-88,t10,dana_k,H-1,holder,gold\n"
    'C-11,"O\'Brien, Sean",,not-an-email,,1990-02-30,,,,,,,\n'
    "C-12,Priya,Shah,,,,,,,,H-1,cousin,\n"
)


async def test_cli_imports_csv_with_the_documented_mapping(
    client: AppClient, redis_url: str, key_prefix: str, tmp_path: Path
) -> None:
    path = tmp_path / "book.csv"
    path.write_text(CSV)
    result = _cli(redis_url, key_prefix, "customers", str(path))
    out = result.stdout.decode()
    assert result.returncode == 1, result.stderr  # one line was rejected
    assert "4 lines, 2 accepted, 1 rejected" in out  # lines as a spreadsheet counts them
    assert "line 4: household/role" in out
    dana = await (await client.get("/v1/customers/C-10", headers=admin())).json()
    assert dana["emails"] == ["dana@example.com", "d.king@example.org"]
    assert dana["phones"] == ["+447700900123"]
    assert dana["date_of_birth"] == "1984-05-03"
    assert dana["addresses"] == [{"postcode": "LS6 3AG"}]
    assert [a["number"] for a in dana["accounts"]] == ["55-1234-88"]
    assert dana["identities"] == [{"channel": "twitter", "external_id": "t10", "handle": "dana_k"}]
    assert dana["household"] == {"id": "H-1", "role": "holder"}
    assert dana["attributes"] == {"segment": "gold"}
    sean = await (await client.get("/v1/customers/C-11", headers=admin())).json()
    assert sean["given_name"] == "O'Brien, Sean"
    assert {i["pointer"] for i in sean["data_issues"]} == {"/emails/0", "/date_of_birth"}


async def test_cli_reads_ndjson_from_stdin(
    client: AppClient, redis_url: str, key_prefix: str
) -> None:
    result = _cli(redis_url, key_prefix, "customers", "-", stdin=BOOK)
    assert result.returncode == 1
    assert "8 lines, 3 accepted, 4 rejected" in result.stdout.decode()
    assert (await client.get("/v1/customers/C-4", headers=admin())).status == 200


def test_cli_refuses_an_unknown_csv_column(redis_url: str, key_prefix: str, tmp_path: Path) -> None:
    path = tmp_path / "book.csv"
    path.write_text("id,given_name,emial\nC-1,Dana,d@example.com\n")
    result = _cli(redis_url, key_prefix, "customers", str(path))
    assert result.returncode == 2
    assert "unknown CSV columns: emial" in result.stderr.decode()


def test_cli_refuses_csv_rows_that_would_lose_data(
    redis_url: str, key_prefix: str, tmp_path: Path
) -> None:
    path = tmp_path / "book.csv"
    path.write_text(
        "id,given_name,family_name,emails,city,twitter_handle\n"
        "C-1,Dana,King,dana@example.com,Leeds,\n"
        "C-2,O'Brien, Sean,,sean@example.com,Leeds,\n"  # one cell too many
        "C-3,Priya,Shah,,,priya_s\n"  # a handle without its twitter_id
    )
    result = _cli(redis_url, key_prefix, "customers", str(path))
    out = result.stdout.decode()
    assert result.returncode == 1
    assert "line 3: the row has more cells than the header has columns" in out
    assert "line 4: twitter_handle needs twitter_id" in out
    repeated = tmp_path / "repeated.csv"
    repeated.write_text("id,emails,emails\nC-9,a@example.com,b@example.com\n")
    again = _cli(redis_url, key_prefix, "customers", str(repeated))
    assert again.returncode == 2
    assert "repeated CSV columns: emails" in again.stderr.decode()


async def test_cli_stops_at_a_broken_byte_and_keeps_what_came_before(
    client: AppClient, redis_url: str, key_prefix: str, tmp_path: Path
) -> None:
    path = tmp_path / "book.csv"
    path.write_bytes(b"id,given_name\nC-1,Dana\nC-2,Bob\nC-3,\xff\xfe\nC-4,Eve\n")
    result = _cli(redis_url, key_prefix, "customers", str(path))
    out = result.stdout.decode()
    assert result.returncode == 2
    assert "stopped early at line" in out
    assert "not UTF-8" in out
    assert (await client.get("/v1/customers/C-1", headers=admin())).status == 200
    assert (await client.get("/v1/customers/C-2", headers=admin())).status == 200
    assert (await client.get("/v1/customers/C-4", headers=admin())).status == 404


async def test_cli_imports_events_from_csv(
    client: AppClient, redis_url: str, key_prefix: str, tmp_path: Path
) -> None:
    await client.put("/v1/customers/C-1", json={}, headers=admin())
    path = tmp_path / "events.csv"
    path.write_text(
        "customer_id,id,type,at,kind,amount,currency,summary\n"
        "C-1,e1,credit,2026-01-01T00:00:00Z,,50.00,USD,voucher\n"
        "C-1,e2,billing,2026-01-02T00:00:00Z,credit_applied,,,\n"
        "C-404,e3,note,2026-01-02T00:00:00Z,,,,\n"
    )
    result = _cli(redis_url, key_prefix, "events", str(path))
    assert result.returncode == 1
    assert "4 lines, 2 accepted, 1 rejected" in result.stdout.decode()
    history = await (await client.get("/v1/customers/C-1/history", headers=admin())).json()
    assert [e["id"] for e in history["events"]] == ["e2", "e1"]


def test_a_bulk_command_tunes_the_collector_only_while_it_runs() -> None:
    before = gc.get_threshold()
    with bulk_allocation():
        assert gc.get_threshold()[0] >= YOUNG_THRESHOLD
    assert gc.get_threshold() == before
