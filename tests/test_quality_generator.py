"""``socialid bench quality``: the synthetic book is realistic and its truth is right.

A benchmark whose truth is wrong reports a service's successes as failures (or the other
way round), so the book and the queries are checked here; the figures themselves are
printed by the benchmark, never asserted.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
import redis.asyncio as aioredis

from service.bench import quality_queries
from service.bench.commands import bench_quality
from service.bench.quality import BookStream, name_key
from service.bench.quality_eval import evaluate, report
from service.bench.quality_noise import written
from service.bench.quality_queries import CLASSES, HOUSEHOLD, STRANGER, Query, build
from service.resolution.query import ResolveQuery
from service.schemas import Customer
from service.schemas.customer import REGION
from service.settings import Settings
from service.store.keynames import KeySchema
from service.wiring import build_stores


@pytest.fixture(scope="module")
def book() -> tuple[BookStream, list[dict[str, Any]], list[Query]]:
    stream = BookStream(20_000, seed=7, sample_size=300)
    docs = [json.loads(line) for line in stream.lines()]
    return stream, docs, build(stream, 7, 300)


def test_the_book_is_the_same_for_a_seed_and_another_for_another_seed() -> None:
    first = list(BookStream(500, seed=3).lines())
    assert first == list(BookStream(500, seed=3).lines())
    assert first != list(BookStream(500, seed=4).lines())
    assert len(first) == 500


def test_every_record_is_valid_with_8_digit_accounts_and_a_town(
    book: tuple[BookStream, list[dict[str, Any]], list[Query]],
) -> None:
    _, docs, _ = book
    assert len({d["id"] for d in docs}) == 20_000
    for doc in docs[:5000]:
        customer = Customer.model_validate(doc, context={REGION: "GB"})
        assert customer.data_issues == [], doc  # every phone and e-mail parses
        assert all(re.fullmatch(r"[1-9]\d{7}", a.number) for a in customer.accounts)
        assert customer.addresses[0].city
    mobiles = Counter(d["phones"][0] for d in docs)
    assert mobiles.most_common(1)[0][1] == 1


def test_households_share_the_family_account_landline_and_address(
    book: tuple[BookStream, list[dict[str, Any]], list[Query]],
) -> None:
    stream, docs, _ = book
    by_id = {d["id"]: d for d in docs}
    units = stream.samples["household"]
    assert len(units) == 300
    for unit in units:
        holder, *members = (by_id[p.customer_id] for p in unit)
        assert holder["household"]["role"] == "holder"
        assert members
        family = holder["accounts"][0]["number"]
        for member in members:
            assert member["household"] == {"id": holder["household"]["id"], "role": "member"}
            assert member["accounts"][0]["number"] == family
            for part in ("line1", "city", "postcode"):
                assert member["addresses"][0][part] == holder["addresses"][0][part]
            assert member["phones"][1:] == holder["phones"][1:]  # the landline, if any
    # A son named after his father, at the same address.
    assert any(len({p.given for p in unit}) < len(unit) for unit in units)


def test_the_book_holds_customers_abroad_other_scripts_and_particles(
    book: tuple[BookStream, list[dict[str, Any]], list[Query]],
) -> None:
    _, docs, _ = book
    addresses = [d["addresses"][0] for d in docs]
    countries = Counter(a.get("country", "GB") for a in addresses)
    assert {"GB", "AU", "US", "DE", "FR"} <= set(countries)
    assert all(re.fullmatch(r"\d{4}", a["postcode"]) for a in addresses if a.get("country") == "AU")
    names = [f"{d['given_name']} {d['family_name']}" for d in docs]
    assert any(re.search("[\u0370-\u03ff]", n) for n in names)  # Greek
    assert any(re.search("[\u0400-\u04ff]", n) for n in names)  # Cyrillic
    for particle in ("van der Berg", "O'Brien", "Nic Giolla", "Smith-Jones"):
        assert any(particle in n for n in names), particle
    surnames = Counter(d["family_name"] for d in docs)
    assert surnames.most_common(1)[0][0] == "Smith"  # the Zipf-like head
    assert len(surnames) > 5000  # and a long tail


def test_name_counts_are_those_of_the_book(
    book: tuple[BookStream, list[dict[str, Any]], list[Query]],
) -> None:
    stream, docs, _ = book
    assert stream.names == Counter(name_key(d["given_name"], d["family_name"]) for d in docs)


def test_every_class_has_queries_and_each_truth_is_right(
    book: tuple[BookStream, list[dict[str, Any]], list[Query]],
) -> None:
    stream, docs, queries = book
    by_id = {d["id"]: d for d in docs}
    kinds = Counter(q.kind for q in queries)
    assert set(kinds) == set(CLASSES)
    books_accounts = {a["number"] for d in docs for a in d["accounts"]}
    for q in queries:
        group = CLASSES[q.kind][0]
        if group == STRANGER:
            assert q.truth is None
            digits = re.findall(r"\d[\d -]{6,9}\d", q.query.text or "")
            assert not {re.sub(r"\D", "", d) for d in digits} & books_accounts
        elif group == HOUSEHOLD:
            members = [by_id[cid] for cid in q.household]
            account = members[0]["accounts"][0]["number"]
            assert all(m["accounts"][0]["number"] == account for m in members)
            assert not any(m["given_name"] in (q.query.text or "") for m in members)
        else:
            assert q.truth in by_id
        if q.kind.startswith("name alone"):
            doc = by_id[q.truth or ""]
            share = stream.names[name_key(doc["given_name"], doc["family_name"])]
            assert (share <= 3) == (q.kind == quality_queries.NAME_ALONE_FEW)
        if q.kind == "household account, own name":
            assert by_id[q.truth or ""]["household"]["role"] == "member"


def test_account_numbers_are_written_the_ways_people_write_them() -> None:
    assert written("31052228", "plain") == "31052228"
    assert written("31052228", "dashed") == "31-0522-28"
    assert written("31052228", "spaced") == "3105 2228"
    texts = [q.query.text or "" for q in build(_small(), 1, 40) if "account" in q.kind]
    for cue in ("acct no.", "a/c", "my account is", "account number", "customer number", "ref"):
        assert any(cue in t for t in texts), cue


def _small() -> BookStream:
    stream = BookStream(2000, seed=1, sample_size=40)
    for _ in stream.lines():
        pass
    return stream


async def test_a_refused_query_is_counted_per_class_not_raised(
    redis: aioredis.Redis, keys: KeySchema, make_settings: Callable[..., Settings]
) -> None:
    resolver = build_stores(redis, make_settings(), keys).resolver
    bad = Query("name+dob+address", "Q-1", ResolveQuery(name="Zoe Smith", date_of_birth="soon"))
    tallies = await evaluate(resolver, [bad])
    assert tallies["name+dob+address"].count == 1
    assert tallies["name+dob+address"].refused == 1
    row = next(line for line in report(tallies) if "name+dob+address" in line)
    assert row.endswith("FAIL")


async def test_bench_quality_prints_every_class_and_leaves_nothing_behind(
    make_settings: Callable[..., Settings],
    redis: aioredis.Redis,
    capsys: pytest.CaptureFixture[str],
) -> None:
    before = {k async for k in redis.scan_iter(match="bench*", count=1000)}
    assert await bench_quality(make_settings(), 1500, seed=3, queries=700) == 0
    out = capsys.readouterr().out
    assert "1,500 customers accepted, 0 rejected" in out
    rare = {quality_queries.NAME_ALONE_MANY, "maiden name+email"}  # few in a small book
    for kind in CLASSES.keys() - rare:
        assert re.search(rf"^  {re.escape(kind)} +[\d,]+ +[\d,]+ ", out, re.M), kind
    assert re.search(r"^wrong person matched: [\d,]+ \(goal 0\)", out, re.M)
    assert re.search(r"^strangers matched: [\d,]+ of [\d,]+ \(goal 0\)", out, re.M)
    assert {k async for k in redis.scan_iter(match="bench*", count=1000)} == before
