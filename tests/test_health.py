"""Ops endpoints: liveness, readiness that follows the store, and metrics."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from service.events.dispatcher import GROUP as DISPATCHERS
from service.ingest.worker import GROUP
from service.settings import Settings
from service.store.embedded import EmbeddedRedis
from service.store.keynames import KeySchema
from service.wiring import build_stores, build_worker, events_out
from tests.helpers import AppClient, MakeClient, admin


async def test_live_answers_without_auth(client: AppClient) -> None:
    resp = await client.get("/health/live")
    assert resp.status == 200
    assert (await resp.json())["status"] == "live"


async def test_ready_reports_redis(client: AppClient) -> None:
    resp = await client.get("/health/ready")
    assert resp.status == 200
    body = await resp.json()
    assert body["status"] == "ready"
    assert body["redis"]["ok"] is True
    assert body["redis"]["latency_ms"] >= 0


async def _poll_ready(client: AppClient, want: int, within: float) -> float:
    """Seconds until /health/ready answers ``want``; fails past ``within``."""
    started = time.monotonic()
    while True:
        resp = await client.get("/health/ready")
        if resp.status == want:
            return time.monotonic() - started
        assert time.monotonic() - started < within, f"still {resp.status}, wanted {want}"
        await asyncio.sleep(0.05)


@pytest.fixture
async def private_server(tmp_path: Path) -> AsyncIterator[EmbeddedRedis]:
    """A server of this test's own, so that stopping it disturbs no other test."""
    server = EmbeddedRedis(tmp_path / "private")
    await asyncio.to_thread(server.start)
    try:
        yield server
    finally:
        await asyncio.to_thread(server.stop)


async def test_ready_follows_the_server_going_away_and_coming_back(
    make_client: MakeClient, private_server: EmbeddedRedis
) -> None:
    client = await make_client(redis_url=private_server.url)
    assert (await client.get("/health/ready")).status == 200

    await asyncio.to_thread(private_server.stop)
    await _poll_ready(client, 503, within=2.0)
    body = await (await client.get("/health/ready")).json()
    assert body["status"] == "unavailable"
    assert body["redis"]["ok"] is False

    # Same data dir, same socket: the service reconnects without a restart.
    await asyncio.to_thread(private_server.start)
    await _poll_ready(client, 200, within=2.0)


async def test_ready_is_bounded_when_the_server_hangs(
    make_client: MakeClient, private_server: EmbeddedRedis
) -> None:
    control = aioredis.Redis.from_url(private_server.url)
    try:
        client = await make_client(redis_url=private_server.url, redis_timeout=0.3)
        assert (await client.get("/health/ready")).status == 200
        # Every client is paused, this one too: the pause ends by itself.
        await control.client_pause(1500, all=True)
        resp = await client.get("/health/ready")
        assert resp.status == 503
        assert (await resp.json())["redis"]["reason"] == "timeout"
        await _poll_ready(client, 200, within=3.0)
    finally:
        await control.aclose()


async def test_api_answers_503_problem_while_the_store_is_down(
    make_client: MakeClient, private_server: EmbeddedRedis
) -> None:
    client = await make_client(redis_url=private_server.url)
    await asyncio.to_thread(private_server.stop)
    resp = await client.get("/v1/customers/C-1", headers=admin())
    assert resp.status == 503
    assert resp.content_type == "application/problem+json"
    assert resp.headers["Retry-After"] == "1"
    metrics = await (await client.get("/metrics")).text()
    assert 'socialid_redis_errors_total{where="request"} 1.0' in metrics


async def test_metrics_count_requests_by_route_and_status(client: AppClient) -> None:
    await client.get("/v1/customers/C-404", headers=admin())
    await client.get("/v1/customers/C-405", headers=admin())
    await client.get("/no/such/path")
    resp = await client.get("/metrics")
    assert resp.status == 200
    assert resp.content_type == "text/plain"
    text = await resp.text()
    assert (
        'socialid_http_requests_total{method="GET",route="/v1/customers/{customer_id}",'
        'status="404"} 2.0' in text
    )
    assert 'route="unmatched"' in text
    assert "socialid_http_request_duration_seconds_bucket" in text
    assert "socialid_build_info{" in text


async def _groups(redis: aioredis.Redis, stream: str) -> list[bytes]:
    if not await redis.exists(stream):
        return []
    return [g["name"] for g in await redis.xinfo_groups(stream)]


async def test_background_loops_started_while_the_store_is_down_wait_for_it(
    make_settings: Callable[..., Settings], private_server: EmbeddedRedis
) -> None:
    """The ingestion worker and the events dispatcher of a service that starts before
    its store (or loses it at start) keep trying, and set up once the store is back."""
    settings = make_settings(redis_url=private_server.url)
    keys = KeySchema(settings.key_prefix)
    await asyncio.to_thread(private_server.stop)
    redis = aioredis.Redis.from_url(private_server.url, socket_timeout=1.0)
    try:
        stores = build_stores(redis, settings)
        worker = build_worker(redis, settings, stores, names=None, metrics=None)
        async with events_out(redis, settings, stores, None):
            stop = asyncio.Event()
            task = asyncio.create_task(worker.run(stop))
            await asyncio.sleep(0.3)
            assert not task.done(), "the worker gave up while the store was away"

            await asyncio.to_thread(private_server.start)
            want = {keys.ingest_stream(): GROUP, keys.event_outbox(): DISPATCHERS}
            for _ in range(60):
                found = {s: await _groups(redis, s) for s in want}
                if all(found.values()):
                    break
                await asyncio.sleep(0.1)
            assert found == {s: [g.encode()] for s, g in want.items()}
            stop.set()
            await asyncio.wait_for(task, timeout=5)
    finally:
        await redis.aclose()
