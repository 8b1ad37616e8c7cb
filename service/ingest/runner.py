"""One place builds a worker from the settings: for ``serve`` and ``socialid worker``."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial

import aiohttp
import redis.asyncio as aioredis

from matchers.extract import extract
from service.ingest.graph_names import GraphNames
from service.ingest.worker import Worker
from service.ops.metrics import Metrics
from service.settings import Settings
from service.store.keynames import KeySchema
from service.wiring import Stores


@asynccontextmanager
async def graph_names(
    client: aioredis.Redis, settings: Settings, keys: KeySchema
) -> AsyncIterator[GraphNames | None]:
    """A Graph API client when a page token is set, else None (senders stay unnamed)."""
    token = settings.facebook_page_token
    if token is None:
        yield None
        return
    timeout = aiohttp.ClientTimeout(total=settings.graph_timeout)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        yield GraphNames(
            client,
            keys,
            session,
            base_url=settings.facebook_graph_url,
            token=token.get_secret_value(),
        )


def build_worker(
    client: aioredis.Redis,
    settings: Settings,
    stores: Stores,
    *,
    names: GraphNames | None,
    metrics: Metrics | None,
) -> Worker:
    return Worker(
        client,
        stores.keys,
        deliveries=stores.deliveries,
        messages=stores.messages,
        resolver=stores.resolver,
        extract=partial(
            extract,
            region=settings.default_region,
            account_pattern=settings.account_pattern,
            check_digit=settings.account_check_digit,
        ),
        names=names,
        metrics=metrics,
        batch=settings.worker_batch,
        claim_after=settings.worker_claim_after,
        max_attempts=settings.worker_max_attempts,
        block_ms=max(10, int(settings.redis_timeout * 500)),
    )


@asynccontextmanager
async def running(worker: Worker, grace: float) -> AsyncIterator[None]:
    """The worker as a background task, stopped (and given ``grace`` seconds to finish
    the batch in hand) when the block ends."""
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    try:
        yield
    finally:
        stop.set()
        if worker.waiting:
            # Idle in a blocking read: stop now rather than when the read times out.
            task.cancel()
        # On timeout wait_for cancels it; its unacknowledged batch is claimed again later.
        with contextlib.suppress(TimeoutError, asyncio.CancelledError):
            await asyncio.wait_for(task, timeout=grace)
