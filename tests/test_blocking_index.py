"""The blocking index in Redis: bucketed entries, spill-over sets, surname counters."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import redis.asyncio as aioredis

from matchers.profile import unpack
from service.book.blocking import index_entry, index_location
from service.book.indexing import index_record, profile_of, recorded_entries
from service.cli.main import main
from service.schemas import read_stored
from service.store.keynames import KeySchema
from service.store.redistypes import text_or_none
from tests.helpers import AppClient, MakeClient, admin, command_env

pytestmark = pytest.mark.cluster


async def _put(client: AppClient, cid: str, doc: dict[str, Any]) -> None:
    resp = await client.put(f"/v1/customers/{cid}", json=doc, headers=admin())
    assert resp.status in (200, 201), await resp.text()


async def _resolve(client: AppClient, **query: Any) -> Any:
    resp = await client.post("/v1/resolve", json=query, headers=admin())
    assert resp.status == 200, await resp.text()
    return await resp.json()


async def _index_keys(redis: aioredis.Redis, keys: KeySchema) -> list[str]:
    return [k async for k in redis.scan_iter(match=keys.index_bucket_pattern())]


_GIVEN = ["Ann", "Ben", "Cara", "Dev", "Eve", "Finn", "Gus", "Hana", "Ivo", "Jo", "Kit", "Lea"]


def _smith(i: int) -> dict[str, Any]:
    # Twelve people sharing a surname, a birthday and a postcode: more ids than fit
    # inline in one bucket field, so those entries spill to sets of their own.
    return {
        "given_name": _GIVEN[i],
        "family_name": "Smith",
        "date_of_birth": "1980-01-01",
        "addresses": [{"postcode": "LS6 3AG"}],
        "emails": [f"p{i}@example.com"],
    }


async def test_a_value_shared_by_many_spills_and_still_finds_everyone(
    client: AppClient, redis: aioredis.Redis, keys: KeySchema
) -> None:
    for i in range(12):
        await _put(client, f"smith-{i:02d}", _smith(i))
    spilled = [k for k in await _index_keys(redis, keys) if await redis.type(k) == "set"]
    assert spilled, "twelve ids should not fit inline"
    for i in range(12):
        answer = await _resolve(
            client,
            given_name=_GIVEN[i],
            family_name="Smith",
            date_of_birth="1980-01-01",
            address={"postcode": "LS6 3AG"},
        )
        assert answer["candidates"][0]["customer_id"] == f"smith-{i:02d}", answer
    ninth = await _resolve(
        client,
        given_name="Ivo",
        family_name="Smith",
        date_of_birth="1980-01-01",
        address={"postcode": "LS6 3AG"},
        email="p8@example.com",
    )
    assert (ninth["status"], ninth["customer_id"]) == ("matched", "smith-08")

    for i in range(12):
        assert (await client.delete(f"/v1/customers/smith-{i:02d}", headers=admin())).status == 200
    assert await _index_keys(redis, keys) == []


async def test_a_common_value_over_the_cap_is_skipped_not_scored(
    make_client: MakeClient,
) -> None:
    client = await make_client(blocking_key_cap=5)
    for i in range(12):
        await _put(client, f"smith-{i:02d}", _smith(i))
    answer = await _resolve(
        client,
        given_name="Zed",
        family_name="Smith",
        date_of_birth="1980-01-01",
        address={"postcode": "LS6 3AG"},
    )
    assert (answer["status"], answer["candidates"]) == ("no_match", [])
    assert answer["skipped_keys"] >= 2


async def test_surname_counts_follow_puts_and_erasures(
    client: AppClient, redis: aioredis.Redis, keys: KeySchema
) -> None:
    bucket, field, _ = index_location(keys, index_entry("fn", "okafor"))

    async def count() -> str | None:
        return text_or_none(await redis.hget(bucket, field))

    for cid in ("O-1", "O-2", "O-3"):
        await _put(client, cid, {"given_name": "Ada", "family_name": "Okafor"})
    await _put(client, "O-1", {"given_name": "Adaeze", "family_name": "Okafor"})  # an update
    assert await count() == "3"
    await _put(client, "O-2", {"given_name": "Ada", "family_name": "Obi"})  # a new surname
    assert await count() == "2"
    await client.delete("/v1/customers/O-1", headers=admin())
    await client.delete("/v1/customers/O-3", headers=admin())
    assert await count() is None


async def test_the_keyspace_holds_no_email_or_phone_in_clear(
    client: AppClient, redis: aioredis.Redis, keys: KeySchema
) -> None:
    await _put(
        client,
        "C-1",
        {
            "given_name": "Dana",
            "family_name": "King",
            "emails": ["dana.king@example.com"],
            "phones": ["+44 7700 900123"],
        },
    )
    names = [k async for k in redis.scan_iter(match=keys.everything())]
    assert not [k for k in names if "dana" in k.lower() or "7700900123" in k]
    for key in await _index_keys(redis, keys):
        # The surname's and the given name's counters.
        head = keys.index_bucket_head()
        counted = key.startswith((f"{head}fn:", f"{head}gn:"))
        for value in (await redis.hgetall(key)).values():
            assert value == ("1" if counted else "C-1")


def test_index_lines_of_another_form_are_not_entries() -> None:
    entry = index_entry("em", "dana@example.com")
    assert recorded_entries(f"{entry}\nem:dana@example.com\n\nfn:king") == [entry]


async def test_candidates_are_scored_from_the_profile_stored_with_the_record(
    client: AppClient, redis: aioredis.Redis, keys: KeySchema
) -> None:
    doc = {
        "given_name": "Dana",
        "family_name": "King",
        "emails": ["dana.king@example.com"],
        "date_of_birth": "1984-05-03",
        "addresses": [{"postcode": "LS6 3AG"}],
    }
    await _put(client, "C-1", doc)
    index = text_or_none(await redis.get(keys.customer_index("C-1")))
    assert index is not None
    packed = index.partition("\n")[0]
    stored = text_or_none(await redis.get(keys.customer("C-1")))
    assert stored is not None
    assert unpack(packed) == profile_of(read_stored(stored))
    query = {
        "name": "Dana King",
        "email": "dana.king@example.com",
        "address": {"postcode": "LS6 3AG"},
    }
    expected = await _resolve(client, **query)
    assert expected["status"] == "matched"


async def test_reindex_writes_again_the_indexes_that_no_longer_match_their_records(
    client: AppClient,
    redis: aioredis.Redis,
    keys: KeySchema,
    redis_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for cid, given in (("C-1", "Dana"), ("C-2", "Olu")):
        body = {"given_name": given, "family_name": "King", "emails": [f"{given.lower()}@x.org"]}
        await _put(client, cid, body)
    current = {cid: await redis.get(keys.customer_index(cid)) for cid in ("C-1", "C-2")}
    for cid in current:  # as a version that read records differently would have indexed them
        raw = await redis.get(keys.customer(cid))
        assert raw is not None
        stale = read_stored(raw).model_copy(update={"given_name": "Someone", "emails": []})
        await redis.set(keys.customer_index(cid), index_record(stale))
    for name, value in command_env(redis_url, keys.prefix).items():
        monkeypatch.setenv(name, value)
    assert await asyncio.to_thread(main, ["reindex"]) == 0
    assert "reindexed 2 customers" in capsys.readouterr().out
    for cid, index in current.items():
        assert await redis.get(keys.customer_index(cid)) == index


def test_entry_names_keep_their_stored_form(keys: KeySchema) -> None:
    # Entry names are field names in the store: a change of encoding would orphan every
    # index written before it (until `socialid reindex`), so the form is pinned.
    assert index_entry("em", "dana.king@example.com") == "em:zDAB3v8YO_wv"
    assert index_entry("nm", "K520:d") == "nm:1_2CPirTlbSu"
