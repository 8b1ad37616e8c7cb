"""``socialid bench``: benchmarks that print figures (never timed tests)."""

from __future__ import annotations

import asyncio
import resource
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

from service.app import redis_client
from service.customers import CustomerStore
from service.embedded import EmbeddedRedis
from service.history import HistoryStore
from service.importer import Importer, Record
from service.keyschema import KeySchema
from service.settings import Settings
from service.synthetic import book


async def _records(lines: list[bytes]) -> AsyncIterator[tuple[int, Record]]:
    for number, line in enumerate(lines, start=1):
        yield number, line


async def _delete_prefix(client: object, keys: KeySchema) -> None:
    from redis.asyncio import Redis

    assert isinstance(client, Redis)
    batch = []
    async for key in client.scan_iter(match=keys.everything(), count=1000):
        batch.append(key)
        if len(batch) >= 1000:
            await client.unlink(*batch)
            batch = []
    if batch:
        await client.unlink(*batch)


async def bench_import(settings: Settings, customers: int) -> int:
    """Import a synthetic book through the real importer; print rate and memory."""
    lines = list(book(customers))
    size = sum(len(line) + 1 for line in lines)
    print(f"synthetic book: {customers:,} customers, {size / customers:,.0f} bytes/line NDJSON")
    server: EmbeddedRedis | None = None
    tmp = tempfile.TemporaryDirectory(prefix="socialid-bench-")
    url = settings.redis_url
    if url is None:
        server = EmbeddedRedis(Path(tmp.name), appendfsync=settings.embedded_appendfsync)
        await asyncio.to_thread(server.start)
        url = server.url
    client = redis_client(url, settings.model_copy(update={"redis_timeout": 30.0}))
    keys = KeySchema(f"bench{uuid.uuid4().hex[:8]}")
    try:
        importer = Importer(
            CustomerStore(client, keys),
            HistoryStore(client, keys),
            default_region=settings.default_region,
            batch_size=settings.import_batch_size,
        )
        before = int((await client.info("memory"))["used_memory"])
        cpu0, wall0 = time.process_time(), time.perf_counter()
        summary = await importer.customers(_records(lines))
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
        after = int((await client.info("memory"))["used_memory"])
        print(f"accepted {summary.accepted:,}, rejected {summary.rejected:,}")
        print(
            f"import: {summary.accepted / wall:,.0f} customers/s "
            f"({wall:.2f} s wall, {cpu:.2f} s CPU in this process)"
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
    finally:
        await _delete_prefix(client, keys)
        await client.aclose()
        if server is not None:
            await asyncio.to_thread(server.stop)
        tmp.cleanup()
    return 0
