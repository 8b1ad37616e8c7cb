"""``socialid bench outreach``: bulk outreach checks of 10,000 ids a call against a real
``socialid serve``, on a book whose customers carry the histories that block outreach
(open complaints, promises, disputes, renewals, recent contacts) beside quiet ones."""

from __future__ import annotations

import json
import random
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import aiohttp

from service.bench.commands import percentile
from service.bench.serving import served
from service.bench.synthetic import book
from service.schemas.outreach import MAX_IDS

KINDS = ("sales", "retention", "survey")


def _history(rng: random.Random, customer_id: str, now: datetime) -> Iterator[dict[str, object]]:
    """A year of ordinary contacts, and now and then what blocks outreach."""

    def at(days: float) -> str:
        return (now - timedelta(days=days)).isoformat(timespec="seconds")

    base = {"customer_id": customer_id, "channel": "twitter", "direction": "inbound"}
    for i in range(rng.randint(0, 6)):
        yield {
            **base,
            "id": f"{customer_id}-i{i}",
            "type": "interaction",
            "at": at(rng.uniform(0, 365)),
        }
    roll = rng.random()
    if roll < 0.08:
        yield {
            **base,
            "id": f"{customer_id}-k",
            "type": "case_opened",
            "at": at(rng.uniform(0, 30)),
            "case_id": f"K-{customer_id}",
            "category": rng.choice(["outage", "complaint", "billing"]),
        }
    elif roll < 0.12:
        yield {
            **base,
            "id": f"{customer_id}-p",
            "type": "promise",
            "at": at(rng.uniform(0, 30)),
            "summary": "waive the fee",
        }
    elif roll < 0.15:
        yield {
            **base,
            "id": f"{customer_id}-d",
            "type": "billing",
            "kind": "dispute",
            "at": at(rng.uniform(0, 60)),
            "amount": "30.00",
            "currency": "GBP",
        }
    if rng.random() < 0.1:
        yield {
            **base,
            "id": f"{customer_id}-r",
            "type": "contract_change",
            "at": at(rng.uniform(0, 200)),
            "kind": rng.choice(["renewal", "upgrade", "downgrade"]),
            "direction": None,
        }


async def _load(http: aiohttp.ClientSession, customers: int) -> list[str]:
    docs = [json.loads(line) for line in book(customers)]
    ndjson = {"Content-Type": "application/x-ndjson"}
    body = b"\n".join(json.dumps(d).encode() for d in docs)
    async with http.post("/v1/import/customers", data=body, headers=ndjson) as resp:
        resp.raise_for_status()
    rng, now = random.Random(3), datetime.now(UTC)  # noqa: S311 - test data
    events = [e for d in docs for e in _history(rng, d["id"], now)]
    body = b"\n".join(
        json.dumps({k: v for k, v in e.items() if v is not None}).encode() for e in events
    )
    async with http.post("/v1/import/events", data=body, headers=ndjson) as resp:
        resp.raise_for_status()
    print(f"{customers:,} customers, {len(events):,} history events")
    return [d["id"] for d in docs]


async def bench_outreach(customers: int, calls: int) -> int:
    with tempfile.TemporaryDirectory(prefix="socialid-bench-") as tmp:
        env = {"SOCIALID_DATA_DIR": tmp, "SOCIALID_LOG_LEVEL": "WARNING"}
        async with served(env) as http:
            ids = await _load(http, customers)
            rng = random.Random(5)  # noqa: S311 - test data
            for kind in KINDS:
                latencies: list[float] = []
                codes: Counter[str] = Counter()
                blocked = 0
                for _ in range(calls):
                    asked = rng.sample(ids, min(MAX_IDS, len(ids)))
                    started = time.perf_counter()
                    async with http.post(
                        "/v1/outreach/check", json={"kind": kind, "customer_ids": asked}
                    ) as resp:
                        resp.raise_for_status()
                        answer = await resp.json()
                    latencies.append(time.perf_counter() - started)
                    blocked += answer["blocked"]
                    codes.update(x["code"] for r in answer["results"] for x in r["reasons"])
                checked = calls * len(asked)
                latencies.sort()
                rate = checked / sum(latencies)
                print(
                    f"{kind}: {calls} calls of {len(asked):,} ids: {rate:,.0f} customers/s "
                    f"(call p50 {statistics.median(latencies) * 1000:,.0f} ms, "
                    f"max {percentile(latencies, 1.0) * 1000:,.0f} ms); "
                    f"blocked {blocked / checked:.1%}: "
                    + ", ".join(f"{c} {n / checked:.1%}" for c, n in codes.most_common())
                )
    return 0
