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
from pathlib import Path
from typing import Any

import aiohttp

from service.bench.serving import bare_app, served
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


async def _calls(
    http: aiohttp.ClientSession, kind: str, batches: list[list[str]]
) -> tuple[list[float], list[dict[str, Any]]]:
    """Each call's time and answer, one after another as a campaign tool makes them."""
    latencies, answers = [], []
    for asked in batches:
        started = time.perf_counter()
        async with http.post(
            "/v1/outreach/check", json={"kind": kind, "customer_ids": asked}
        ) as resp:
            resp.raise_for_status()
            answers.append(await resp.json())
        latencies.append(time.perf_counter() - started)
    return latencies, answers


async def bench_outreach(customers: int, calls: int) -> int:
    """Per kind, the service's calls, then the bare-aiohttp ceiling answering the same
    calls with a real answer of the same size."""
    with tempfile.TemporaryDirectory(prefix="socialid-bench-") as tmp:
        env = {"SOCIALID_DATA_DIR": tmp, "SOCIALID_LOG_LEVEL": "WARNING"}
        async with served(env) as http:
            ids = await _load(http, customers)
            rng = random.Random(5)  # noqa: S311 - test data
            for kind in KINDS:
                batches = [rng.sample(ids, min(MAX_IDS, len(ids))) for _ in range(calls)]
                latencies, answers = await _calls(http, kind, batches)
                canned = Path(tmp) / "answer.json"
                canned.write_text(json.dumps(answers[0]))
                async with (
                    bare_app(1, "/v1/outreach/check", canned) as (url, _),
                    aiohttp.ClientSession(url) as bare,
                ):
                    ceiling, _ = await _calls(bare, kind, batches)
                checked = sum(len(b) for b in batches)
                rate, top = checked / sum(latencies), checked / sum(ceiling)
                codes = Counter(
                    x["code"] for a in answers for r in a["results"] for x in r["reasons"]
                )
                blocked = sum(a["blocked"] for a in answers)
                print(
                    f"{kind}: {calls} calls of {len(batches[0]):,} ids: {rate:,.0f} customers/s "
                    f"(call p50 {statistics.median(latencies) * 1000:,.0f} ms, "
                    f"max {max(latencies) * 1000:,.0f} ms); ceiling (bare aiohttp, the same "
                    f"calls and answers) {top:,.0f}/s: {rate / top:.0%} of it; "
                    f"blocked {blocked / checked:.1%}: "
                    + ", ".join(f"{c} {n / checked:.1%}" for c, n in codes.most_common())
                )
    return 0
