"""``socialid bench import``: the real importer, figures printed, nothing left behind.

Users point the benchmark at their own server (``SOCIALID_REDIS_URL``): it must write
under a key prefix of its own and delete every key it wrote.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
import redis.asyncio as aioredis

from service.bench.commands import bench_import
from service.settings import Settings


async def _bench_keys(redis: aioredis.Redis) -> set[str]:
    return {k async for k in redis.scan_iter(match="bench*", count=1000)}


async def test_bench_import_imports_through_the_importer_and_cleans_up(
    make_settings: Callable[..., Settings],
    redis: aioredis.Redis,
    capsys: pytest.CaptureFixture[str],
) -> None:
    before = await _bench_keys(redis)
    assert await bench_import(make_settings(), 300) == 0
    out = capsys.readouterr().out
    assert "accepted 300, rejected 0" in out
    # The second pass updates what the first created.
    assert re.search(
        r"re-import of the same book \(all updates\): [\d,]+ customers/s, created 0$", out, re.M
    )
    floor = re.search(r"preparation alone \([^)]*no store\) ([\d,]+) customers/s", out)
    assert floor is not None
    assert int(floor.group(1).replace(",", "")) > 0
    assert re.search(r"redis memory: [\d,]+ bytes/customer", out)
    assert await _bench_keys(redis) == before
