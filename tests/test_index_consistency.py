"""After any mix of writes, the index is exactly what the records imply.

The put script moves a customer's index entries and identity links from the list it
stored last time, not from the record: this checks, after random sequences of creates,
updates, batch imports with repeated ids and erasures, that no entry or link is missing,
stale or counted twice.
"""

from __future__ import annotations

import contextlib
import random
from collections import Counter
from typing import Any

import pytest
import redis.asyncio as aioredis

from service.book import putting
from service.book.blocking import COUNTED_KINDS, index_kind, index_location
from service.book.customers import CustomerStore, IdentityConflict
from service.book.indexing import owned_identities, set_entries
from service.schemas import Customer, read_stored
from service.schemas.customer import REGION
from service.store.keynames import KeySchema
from service.store.lua import run_pipelined
from service.store.redistypes import text, texts

pytestmark = pytest.mark.cluster

# Few values, shared by many: entries spill past the inline limit and come back, and
# identities are claimed by one customer while another holds them.
_IDS = [f"CUST-{n:02d}" for n in range(14)]
_GIVEN = ["Dana", "Bill", "William"]
_FAMILY = ["King", "Kyng", "Okafor"]
_EMAILS = ["d.king@gmail.com", "dking@gmail.com", "dk@example.com", "o@example.com"]
_PHONES = ["07700 900123", "+44 7700 900456"]
_DOBS = ["1980-01-01", "19800101", "1990-02-02"]
_POSTCODES = ["LS6 3AG", "ls63ag", "M1 1AE"]
_TWITTER = ["tw-1", "tw-2", "tw-3"]


def _customer(rng: random.Random, cid: str) -> Customer:
    doc: dict[str, Any] = {"id": cid, "given_name": rng.choice(_GIVEN)}
    if rng.random() < 0.8:
        doc["family_name"] = rng.choice(_FAMILY)
    doc["emails"] = rng.sample(_EMAILS, rng.randint(0, 2))
    doc["phones"] = rng.sample(_PHONES, rng.randint(0, 1))
    if rng.random() < 0.9:
        doc["date_of_birth"] = rng.choice(_DOBS)
    doc["addresses"] = [{"postcode": rng.choice(_POSTCODES)}]
    doc["accounts"] = [{"number": f"AC-{rng.randint(1, 3)}"}]
    doc["identities"] = [
        {"channel": "twitter", "external_id": tw, "handle": f"dana_{tw}"}
        for tw in rng.sample(_TWITTER, rng.randint(0, 1))
    ]
    return Customer.model_validate(doc, context={REGION: "GB"})


async def _bucket_contents(redis: aioredis.Redis, keys: KeySchema) -> Counter[tuple[str, str, str]]:
    """(bucket, field, id or "#") -> how often the store lists it ("#": a counter's value)."""
    found: Counter[tuple[str, str, str]] = Counter()
    async for key in redis.scan_iter(match=keys.index_bucket_pattern()):
        name = text(key)
        if await redis.type(name) != "hash":
            continue  # a spill set, read through its field
        kind = name.removeprefix(keys.index_bucket_head()).split(":")[0]
        for raw_field, raw_value in (await redis.hgetall(name)).items():
            field, value = text(raw_field), text(raw_value)
            if kind in COUNTED_KINDS:
                found[(name, field, "#")] += int(value)
            elif value == "*":
                spill = index_location(keys, f"{kind}:{field}")[2]
                for member in texts(await redis.smembers(spill)):
                    found[(name, field, member)] += 1
            else:
                for member in value.split(" "):
                    found[(name, field, member)] += 1
    return found


async def _assert_index_matches_records(redis: aioredis.Redis, keys: KeySchema) -> None:
    expected: Counter[tuple[str, str, str]] = Counter()
    links: dict[str, str] = {}
    customers = 0
    for cid in _IDS:
        raw = await redis.get(keys.customer(cid))
        if raw is None:
            assert await redis.get(keys.customer_index(cid)) is None
            continue
        customers += 1
        record = read_stored(raw)
        for entry in set_entries(record):
            bucket, field, _ = index_location(keys, entry)
            counted = index_kind(entry) in COUNTED_KINDS
            expected[(bucket, field, "#" if counted else cid)] += 1
        for suffix in owned_identities(record):
            links[keys.identity_of(suffix)] = cid
    assert await _bucket_contents(redis, keys) == expected
    stored_links = {
        text(k): text(v)
        async for k in redis.scan_iter(match=keys.identity_of("*"))
        if (v := await redis.get(k)) is not None
    }
    assert stored_links == links
    assert int(await redis.get(keys.customer_count()) or 0) == customers


@pytest.mark.parametrize("seed", range(6))
async def test_the_index_is_what_the_records_imply_after_any_writes(
    redis: aioredis.Redis, keys: KeySchema, seed: int
) -> None:
    rng = random.Random(seed)  # noqa: S311 - test data
    store = CustomerStore(redis, keys)
    for step in range(60):
        roll = rng.random()
        if roll < 0.4:
            with contextlib.suppress(IdentityConflict):  # refused, nothing written
                await store.put(_customer(rng, rng.choice(_IDS)), actor="test")
        elif roll < 0.7:
            batch = [store.prepare(_customer(rng, rng.choice(_IDS))) for _ in range(5)]
            await store.put_many(batch, actor="test")
        else:
            await store.erase(rng.choice(_IDS))
        if step % 10 == 9:
            await _assert_index_matches_records(redis, keys)
    await _assert_index_matches_records(redis, keys)


@pytest.mark.parametrize("then", ["put again", "erase"])
async def test_a_put_that_stopped_half_way_is_finished_by_the_next_write(
    redis: aioredis.Redis, keys: KeySchema, monkeypatch: pytest.MonkeyPatch, then: str
) -> None:
    rng = random.Random(7)  # noqa: S311 - test data
    store = CustomerStore(redis, keys)
    first, second = _customer(rng, "CUST-01"), _customer(rng, "CUST-01")
    await store.put(first, actor="test")
    calls = 0
    real = run_pipelined

    async def stops_after_the_record(*args: Any) -> list[Any]:
        nonlocal calls
        calls += 1
        if calls == 2:  # the record is written; the buckets were about to move
            raise ConnectionError("the process died here")
        return await real(*args)

    monkeypatch.setattr(putting, "run_pipelined", stops_after_the_record)
    with pytest.raises(ConnectionError):
        await store.put(second, actor="test")
    monkeypatch.setattr(putting, "run_pipelined", real)
    assert await redis.exists(keys.customer_pending("CUST-01"))
    if then == "put again":
        await store.put(second, actor="test")
    else:
        await store.erase("CUST-01")
    await _assert_index_matches_records(redis, keys)
    assert not await redis.exists(keys.customer_pending("CUST-01"))
