"""``socialid bench``: benchmarks that print figures (never timed tests)."""

from __future__ import annotations

import asyncio
import json
import os
import resource
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

from redis.asyncio import Redis

from matchers.model import DEFAULT_PARAMS
from service.bench.synthetic import book
from service.book import import_jobs
from service.book.customers import prepare_many
from service.book.importer import PARSE_CHUNK, Record
from service.schemas import Customer
from service.schemas.customer import REGION
from service.settings import Settings
from service.store.client import redis_client
from service.store.embedded import EmbeddedRedis
from service.store.keynames import KeySchema
from service.wiring import build_stores


async def _records(lines: list[bytes]) -> AsyncIterator[tuple[int, Record]]:
    for number, line in enumerate(lines, start=1):
        yield number, line


async def _delete_prefix(client: Redis, keys: KeySchema) -> None:
    batch = []
    async for key in client.scan_iter(match=keys.everything(), count=1000):
        batch.append(key)
        if len(batch) >= 1000:
            await client.unlink(*batch)
            batch = []
    if batch:
        await client.unlink(*batch)


async def bench_import(settings: Settings, customers: int, jobs: str = "1") -> int:
    """Import a synthetic book through the real importer; print rate and memory. With
    ``jobs`` such as "1,2": the rate with the preparation in that many processes, each
    into a fresh store, in one run."""
    lines = list(book(customers))
    size = sum(len(line) + 1 for line in lines)
    print(
        f"synthetic book: {customers:,} customers, {size / customers:,.0f} bytes/line NDJSON "
        f"({size / 1e6:,.1f} MB); {os.cpu_count()} CPUs"
    )
    _print_floor(lines[:20_000], settings.default_region)
    if jobs != "1":
        for count in [import_jobs.job_count(int(n)) for n in jobs.split(",")]:
            await _import_in_jobs(settings, lines, count)
        return 0
    async with _bench_store(settings) as (client, keys):
        importer = build_stores(client, settings, keys).importer
        before = int((await client.info("memory"))["used_memory"])
        store0 = await _store_cpu(client)
        cpu0, wall0 = time.process_time(), time.perf_counter()
        summary = await importer.customers(_records(lines))
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
        store_cpu = await _store_cpu(client) - store0
        after = int((await client.info("memory"))["used_memory"])
        print(f"accepted {summary.accepted:,}, rejected {summary.rejected:,}")
        print(
            f"import: {summary.accepted / wall:,.0f} customers/s "
            f"({wall:.2f} s wall, {cpu:.2f} s CPU in this process)"
        )
        # Both sides run at once, each on a core of its own: the slower one sets the pace.
        print(
            f"CPU per customer: importer {cpu / customers * 1e6:,.0f} us, "
            f"store {store_cpu / customers * 1e6:,.0f} us (the server's whole CPU "
            "meanwhile: its own clients' too, if it is shared)"
        )
        print(
            f"redis memory: {(after - before) / customers:,.0f} bytes/customer "
            f"(used_memory {before:,} -> {after:,})"
        )
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(f"importer max RSS: {rss / 1024:,.0f} MiB (includes the pre-generated book)")
        again0 = time.perf_counter()
        second = await importer.customers(_records(lines))
        again = time.perf_counter() - again0
        print(
            f"re-import of the same book (all updates): {second.accepted / again:,.0f} "
            f"customers/s, created {second.created or 0}"
        )
    return 0


async def _import_in_jobs(settings: Settings, lines: list[bytes], jobs: int) -> None:
    async with _bench_store(settings) as (client, keys):
        importer = build_stores(client, settings, keys).importer
        store0, busy0 = await _store_cpu(client), _machine_busy()
        cpu0, wall0 = time.process_time(), time.perf_counter()
        if jobs == 1:
            summary = await importer.customers(_records(lines))
        else:
            summary = await import_jobs.import_customers(
                importer, _records(lines), jobs=jobs, region=settings.default_region
            )
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
        store_cpu, busy = await _store_cpu(client) - store0, _machine_busy() - busy0
        each = summary.accepted or 1
        # The wall time includes starting the jobs' processes, as a user's import does. The
        # jobs' own CPU is about the machine's less this process's and the store's.
        print(
            f"jobs {jobs}: {summary.accepted / wall:,.0f} customers/s ({wall:.2f} s wall); "
            f"CPU per customer: this process {cpu / each * 1e6:,.0f} us, "
            f"store {store_cpu / each * 1e6:,.0f} us, whole machine {busy / each * 1e6:,.0f} us "
            f"({busy / wall:.1f} of {os.cpu_count()} CPUs busy)"
        )


def _machine_busy() -> float:
    """Seconds of CPU the whole machine has spent (Linux; 0 elsewhere)."""
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    except OSError:
        return 0.0
    ticks = [int(f) for f in fields]
    idle = ticks[3] + ticks[4]  # idle and iowait
    return (sum(ticks[:8]) - idle) / os.sysconf("SC_CLK_TCK")


async def _store_cpu(client: Redis) -> float:
    """Seconds of CPU the store's server has used, its forks included."""
    cpu = await client.info("cpu")
    parts = ("used_cpu_sys", "used_cpu_user", "used_cpu_sys_children", "used_cpu_user_children")
    return float(sum(cpu.get(part, 0.0) for part in parts))


def _print_floor(lines: list[bytes], region: str) -> None:
    """What this machine does with the same lines before any store is involved, so
    that rates from different (and differently loaded) machines can be compared. The
    last figure is the most the importer could reach with a store that cost nothing."""
    context = {REGION: region}
    started = time.process_time()
    for line in lines:
        json.loads(line)
    parse = time.process_time() - started
    started = time.process_time()
    for line in lines:
        Customer.model_validate_json(line, context=context)
    validate = time.process_time() - started
    started = time.process_time()
    for start in range(0, len(lines), PARSE_CHUNK):  # as the importer does
        chunk = lines[start : start + PARSE_CHUNK]
        prepare_many(
            [Customer.model_validate_json(line, context=context) for line in chunk], region
        )
    prepared = time.process_time() - started
    print(
        f"floor on this machine: json.loads alone {len(lines) / parse:,.0f} lines/s; "
        f"validation and normalisation alone {len(lines) / validate:,.0f} customers/s; "
        "preparation alone (validation, matching profile, index entries, serialised "
        f"record; no store) {len(lines) / prepared:,.0f} customers/s"
    )


def percentile(ordered: list[float], q: float) -> float:
    """The value below which a share ``q`` of the sorted values lie."""
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


async def bench_quality(
    settings: Settings,
    customers: int,
    fitted: bool = False,
    seed: int = 11,
    queries: int = 20_000,
) -> int:
    """Resolution quality on a synthetic book with known truth (service/bench/quality.py), per
    class of query (service/bench/quality_queries.py); ``fitted``: with parameters fitted on
    that book by `socialid train` rather than the shipped ones. The book streams into
    the store as it is generated; about ``queries`` are evaluated whatever its size."""
    from service.bench import quality, quality_eval, quality_queries

    per_class = max(queries // len(quality_queries.CLASSES), 10)
    book = quality.BookStream(customers, seed, sample_size=per_class)
    async with _bench_store(settings) as (client, keys):
        stores = build_stores(client, settings, keys)
        started = time.perf_counter()
        summary = await stores.importer.customers(_numbered(book.lines()))
        imported = time.perf_counter() - started
        households = book.samples.get("household", [])
        print(
            f"synthetic book (seed {seed}): {summary.accepted:,} customers accepted, "
            f"{summary.rejected:,} rejected; households, namesakes, towns, AU/US/DE/FR, "
            "Greek and Cyrillic names, particles; 8-digit accounts"
        )
        print(
            f"generation {book.seconds:.1f} s inside an import of {imported:.1f} s "
            f"({summary.accepted / max(imported, 1e-9):,.0f} customers/s); "
            f"households sampled {len(households):,}"
        )
        built = quality_queries.build(book, seed, per_class)
        resolver = stores.resolver
        if fitted:
            from service.resolution.training import print_training, train

            result = await train(
                client,
                keys,
                resolver,
                stores.models,
                region=settings.default_region,
                activate=True,
                seed=1,
            )
            print_training(result, DEFAULT_PARAMS)
        started = time.perf_counter()
        tallies = await quality_eval.evaluate(resolver, built)
        elapsed = time.perf_counter() - started
    for line in quality_eval.report(tallies):
        print(line)
    print(
        f"evaluation: {len(built):,} queries in {elapsed:.1f} s, "
        f"{len(built) / max(elapsed, 1e-9):,.0f} resolutions/s in-process"
    )
    return 0


async def _numbered(lines: Iterator[bytes]) -> AsyncIterator[tuple[int, Record]]:
    for number, line in enumerate(lines, start=1):
        yield number, line


@asynccontextmanager
async def _bench_store(
    settings: Settings,
) -> AsyncIterator[tuple[Redis, KeySchema]]:
    """The configured Redis, or a private embedded one, under a throw-away key prefix."""
    server: EmbeddedRedis | None = None
    tmp = tempfile.TemporaryDirectory(prefix="socialid-bench-")
    url = settings.redis_url
    if url is None:
        server = EmbeddedRedis.configured(Path(tmp.name), settings)
        await asyncio.to_thread(server.start)
        url = server.url
        print(f"store: embedded valkey-server, allocator {server.allocator}")
    else:
        print("store: the server at SOCIALID_REDIS_URL")
    client = redis_client(url, settings.model_copy(update={"redis_timeout": 30.0}))
    keys = KeySchema(f"bench{uuid.uuid4().hex[:8]}")
    try:
        yield client, keys
    finally:
        await _delete_prefix(client, keys)
        await client.aclose()
        if server is not None:
            await asyncio.to_thread(server.stop)
        tmp.cleanup()
