"""A Redis connection for one-shot CLI commands (keys, later import and train)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import redis.asyncio as aioredis

from service.http.app import redis_client
from service.settings import Settings
from service.store.embedded import EmbeddedRedis, running_server_url


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
