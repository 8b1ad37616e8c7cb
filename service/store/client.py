"""Redis clients: the pooled one every process uses, and one for one-shot CLI commands."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, cast

import redis.asyncio as aioredis
from redis.asyncio.cluster import RedisCluster
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff

from service.settings import Settings
from service.store.embedded import EmbeddedRedis, running_server_url
from service.store.redispacking import use_hiredis_packing


def redis_client(url: str, settings: Settings) -> aioredis.Redis:
    """A pooled client that fails fast, so readiness and errors surface within a second.

    With ``SOCIALID_REDIS_CLUSTER`` it is redis-py's cluster client, which finds the
    other nodes from the one named and sends each command to the node of its keys.

    The pool blocks for a free connection (up to the same timeout) instead of failing:
    a burst of webhooks must queue for the store, not be answered 503.
    """
    options = _options(settings)
    if settings.redis_cluster:
        # The cluster client has the single server's command methods (the same mixins)
        # but is not its subclass: the rest of the code is typed against one client type,
        # and what differs (transactions, scripts across slots) the cluster tests cover.
        return cast(aioredis.Redis, RedisCluster.from_url(url, **options))
    pool = aioredis.BlockingConnectionPool.from_url(url, timeout=settings.redis_timeout, **options)
    use_hiredis_packing(pool)
    return aioredis.Redis.from_pool(pool)  # closing the client closes the pool


def _options(settings: Settings) -> dict[str, Any]:
    return {
        "decode_responses": True,
        "socket_timeout": settings.redis_timeout,
        "socket_connect_timeout": settings.redis_timeout,
        "health_check_interval": 15,
        "retry": Retry(ExponentialBackoff(cap=0.2, base=0.01), retries=1),
        "max_connections": 64,
    }


@asynccontextmanager
async def cli_redis(settings: Settings) -> AsyncIterator[aioredis.Redis]:
    """The configured server; else the embedded one a running service holds on the
    data dir; else a short-lived embedded server of our own on that data dir."""
    server: EmbeddedRedis | None = None
    url = settings.redis_url or running_server_url(settings.data_dir)
    if url is None:
        server = EmbeddedRedis.configured(settings.data_dir, settings)
        await asyncio.to_thread(server.start)
        url = server.url
    client = redis_client(url, settings)
    try:
        yield client
    finally:
        await client.aclose()
        if server is not None:
            await asyncio.to_thread(server.stop)
