"""``socialid bench lookup``: lookups of linked identities from this process against a
real ``socialid serve`` in others, at each number of serve processes asked for, beside
the ceiling (a bare aiohttp app in as many processes) loaded by the same client."""

from __future__ import annotations

import asyncio
import json
import statistics
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass

import aiohttp

from service.bench.commands import percentile
from service.bench.serving import bare_app, busy_since, machine_ticks, served
from service.bench.synthetic import book


@dataclass(frozen=True, slots=True)
class Load:
    """The share of a core this client (the load) used (near 100%: the client sets the
    pace), and of the machine's cores (near 100%: none was left to use)."""

    client: float
    machine: float

    def __str__(self) -> str:
        return f"client busy {self.client:.0%}, machine {self.machine:.0%}"


_MATCHED = {"resolution": {"status": "matched"}}  # what the ceiling answers every lookup


def _history(customer_id: str, events: int) -> Iterator[bytes]:
    for i in range(events):
        kind = ("interaction", "note", "case_opened", "promise")[i % 4]
        event: dict[str, object] = {
            "customer_id": customer_id,
            "id": f"{customer_id}-{i}",
            "type": kind,
            "at": f"2026-{1 + i % 12:02d}-{1 + i % 28:02d}T10:00:00Z",
            "channel": "twitter",
            "direction": "inbound",
            "summary": "synthetic",
        }
        if kind == "case_opened":
            event["case_id"] = f"K{i}"
        yield json.dumps(event).encode()


async def bench_lookup(
    customers: int, lookups: int, concurrency: int, events: int, processes: list[int]
) -> int:
    """Import once; then for each count of processes, the lookups and the ceiling."""
    docs = [json.loads(line) for line in book(customers)]
    linked = [
        (d["id"], i["channel"], i["external_id"]) for d in docs for i in d.get("identities", [])[:1]
    ]
    rounds: list[tuple[int, float, float]] = []
    with tempfile.TemporaryDirectory(prefix="socialid-bench-") as tmp:
        env = {"SOCIALID_DATA_DIR": tmp, "SOCIALID_LOG_LEVEL": "WARNING"}
        for round_, count in enumerate(processes):
            async with served(env, count) as http:
                if round_ == 0:
                    await _load(http, docs, linked, events)
                    print(
                        f"{customers:,} customers, {len(linked):,} with a linked identity, "
                        f"{events} history events each"
                    )
                ceiling_app = bare_app(count, "/v1/lookup", _MATCHED)
                async with ceiling_app as (url, _), aiohttp.ClientSession(url) as bare:
                    _, ceiling, bare_load = await _run_lookups(bare, linked, lookups, concurrency)
                latencies, rate, load = await _run_lookups(http, linked, lookups, concurrency)
            rounds.append((count, rate, ceiling))
            latencies.sort()
            print(
                f"{count} serve process(es): {len(latencies):,} lookups, {concurrency} "
                f"concurrent: p50 {percentile(latencies, 0.5) * 1000:.2f} ms, "
                f"p99 {percentile(latencies, 0.99) * 1000:.2f} ms, {rate:,.0f} lookups/s, "
                f"{load}; ceiling (bare aiohttp, {count} process(es)) {ceiling:,.0f}/s, "
                f"{bare_load}"
            )
    print_gains("lookups/s", rounds)
    return 0


def print_gains(unit: str, rounds: list[tuple[int, float, float]]) -> None:
    """Per count of processes, the median rate and ceiling of its rounds (alternate the
    counts, 1 2 1 2, so that the machine's drift falls on both), against the first's."""
    by_count: dict[int, list[tuple[float, float]]] = {}
    for count, rate, ceiling in rounds:
        by_count.setdefault(count, []).append((rate, ceiling))
    medians = {
        count: (statistics.median(r for r, _ in runs), statistics.median(c for _, c in runs))
        for count, runs in by_count.items()
    }
    first, *others = medians
    base, base_ceiling = medians[first]
    for count in others:
        rate, ceiling = medians[count]
        print(
            f"{first} -> {count} processes (median of {len(by_count[first])} and "
            f"{len(by_count[count])} rounds): service x{rate / base:.2f} ({base:,.0f} -> "
            f"{rate:,.0f} {unit}), ceiling x{ceiling / base_ceiling:.2f} ({base_ceiling:,.0f} "
            f"-> {ceiling:,.0f}); the service at {base / base_ceiling:.0%} of its ceiling "
            f"with {first}, {rate / ceiling:.0%} with {count}"
        )


async def _load(
    http: aiohttp.ClientSession,
    docs: list[dict[str, object]],
    linked: list[tuple[str, str, str]],
    events: int,
) -> None:
    ndjson = {"Content-Type": "application/x-ndjson"}
    body = b"\n".join(json.dumps(d).encode() for d in docs)
    async with http.post("/v1/import/customers", data=body, headers=ndjson) as resp:
        resp.raise_for_status()
    history = b"\n".join(line for cid, _, _ in linked for line in _history(cid, events))
    async with http.post("/v1/import/events", data=history, headers=ndjson) as resp:
        resp.raise_for_status()


async def _run_lookups(
    http: aiohttp.ClientSession,
    linked: list[tuple[str, str, str]],
    lookups: int,
    concurrency: int,
) -> tuple[list[float], float, Load]:
    """Each lookup's latency, lookups per second of wall time, and the load meanwhile."""
    latencies: list[float] = []
    bodies = [
        json.dumps({"channel": ch, "sender": {"external_id": ext}, "text": "hi"}).encode()
        for _, ch, ext in linked
    ]
    headers = {"Content-Type": "application/json"}

    async def worker(offset: int) -> None:
        for n in range(offset, lookups, concurrency):
            started = time.perf_counter()
            async with http.post("/v1/lookup", data=bodies[n % len(bodies)], headers=headers) as r:
                answer = await r.json()
            latencies.append(time.perf_counter() - started)
            if answer["resolution"]["status"] != "matched":
                raise RuntimeError("a linked identity did not resolve")

    started, cpu, ticks = time.perf_counter(), time.process_time(), machine_ticks()
    await asyncio.gather(*(worker(i) for i in range(concurrency)))
    wall = time.perf_counter() - started
    load = Load((time.process_time() - cpu) / wall, busy_since(ticks))
    return latencies, len(latencies) / wall, load
