"""``socialid bench resolve``: ``POST /v1/resolve`` latency through HTTP on a large book.

The book is imported straight into a private embedded store (the import has its own
benchmark), then a real ``socialid serve`` in another process answers queries sent one at
a time, so that the figures are service time, not queueing: every class of query, from a name
alone (the model scores up to the candidate cap) to an e-mail address (an exact key).
"""

from __future__ import annotations

import asyncio
import json
import random
import tempfile
import time
from collections.abc import AsyncIterable, AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp

from service.bench.commands import percentile
from service.bench.serving import served
from service.bench.synthetic import book
from service.book.importer import ImportSummary, Record
from service.settings import Settings
from service.store.client import redis_client
from service.store.embedded import EmbeddedRedis
from service.store.localcluster import LocalCluster
from service.wiring import build_stores


async def _lines(count: int, sample: list[dict[str, Any]]) -> AsyncIterator[tuple[int, Record]]:
    rng = random.Random(11)  # noqa: S311 - which customers are queried, not secrets
    for number, line in enumerate(book(count), start=1):
        if rng.random() < 2_000 / count and len(sample) < 2_000:
            sample.append(json.loads(line))
        yield number, line


def _queries(sample: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Every class of query a social team sends, from the same sampled customers."""

    def name(d: dict[str, Any]) -> str:
        return f"{d['given_name']} {d['family_name']}"

    def address(d: dict[str, Any], *fields: str) -> dict[str, Any]:
        return {f: d["addresses"][0][f] for f in fields}

    def account(d: dict[str, Any]) -> str:
        return "".join(ch for ch in d["accounts"][0]["number"] if ch.isdigit())

    born = [d for d in sample if d.get("date_of_birth")]
    return {
        "name only": [{"name": name(d)} for d in sample],
        "name + town": [{"name": name(d), "address": address(d, "city")} for d in sample],
        "name + postcode": [{"name": name(d), "address": address(d, "postcode")} for d in sample],
        "name + date of birth + postcode": [
            {
                "name": name(d),
                "date_of_birth": d["date_of_birth"],
                "address": address(d, "postcode"),
            }
            for d in born
        ],
        "account number in text": [
            {"text": f"{d['given_name']} here, acct no. {account(d)}, my bill doubled"}
            for d in sample
        ],
        "e-mail": [{"email": d["emails"][0]} for d in sample if d.get("emails")],
    }


async def bench_resolve(settings: Settings, customers: int, stores: str = "single") -> int:
    """``stores``: "single" (one embedded server), "cluster" (a local three-master
    cluster, docs/cluster.md) or "both", one after the other in one run."""
    for store in ("single", "cluster") if stores == "both" else (stores,):
        sample: list[dict[str, Any]] = []
        cluster = store == "cluster"
        async with served_book(settings, _lines(customers, sample), cluster=cluster) as (
            http,
            summary,
        ):
            print(f"{store}: {customers:,} customers imported in {summary.seconds:,.0f} s")
            await _query(http, _queries(sample))
    return 0


@asynccontextmanager
async def served_book(
    settings: Settings, lines: AsyncIterable[tuple[int, Record]], *, cluster: bool = False
) -> AsyncIterator[tuple[aiohttp.ClientSession, ImportSummary]]:
    """A book imported straight into a private store (under the key prefix a plain
    ``socialid serve`` uses), then served by one: the session to it, and what the import
    said. The store is one embedded server, or a local three-master cluster."""
    with tempfile.TemporaryDirectory(prefix="socialid-bench-") as tmp:
        server: EmbeddedRedis | LocalCluster
        if cluster:
            server = LocalCluster(Path(tmp))
        else:
            server = EmbeddedRedis(
                Path(tmp), appendfsync="no", allocator=settings.embedded_allocator
            )
        await asyncio.to_thread(server.start)
        try:
            own = settings.model_copy(
                update={"redis_timeout": 30.0, "key_prefix": "sid", "redis_cluster": cluster}
            )
            client = redis_client(server.url, own)
            stores = build_stores(client, own)
            summary = await stores.importer.customers(lines)
            await client.aclose()
            store = {
                "SOCIALID_REDIS_URL": server.url,
                "SOCIALID_WORKER": "false",
                "SOCIALID_REDIS_CLUSTER": "true" if cluster else "false",
            }
            async with served(store) as http:
                yield http, summary
        finally:
            await asyncio.to_thread(server.stop)


async def _query(http: aiohttp.ClientSession, queries: dict[str, list[dict[str, Any]]]) -> int:
    for kind, batch in queries.items():
        for warm in batch[:50]:  # first queries load the model and fill caches
            async with http.post("/v1/resolve", json=warm) as resp:
                await resp.read()
        latencies: list[float] = []
        statuses: dict[str, int] = {}
        for query in batch:
            t = time.perf_counter()
            async with http.post("/v1/resolve", json=query) as resp:
                answer = await resp.json()
            latencies.append(time.perf_counter() - t)
            statuses[answer["status"]] = statuses.get(answer["status"], 0) + 1
        latencies.sort()
        p50, p99 = (percentile(latencies, q) * 1000 for q in (0.5, 0.99))
        print(
            f"{kind}: {len(batch):,} queries one at a time: p50 {p50:.2f} ms, "
            f"p99 {p99:.2f} ms; {statuses}"
        )
    return 0
