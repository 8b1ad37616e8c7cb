"""``socialid worker``: the ingestion worker and the events dispatcher as a process of
their own (serve runs them too; set SOCIALID_WORKER=false there when workers run apart).
With ``SOCIALID_WORKER_METRICS_PORT`` it answers ``GET /metrics`` on that port: what it
processed is counted in this process, which the API's ``/metrics`` cannot see."""

from __future__ import annotations

import argparse
import asyncio
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiohttp import web

from service.ingest.worker import running
from service.ops.heap import freeze_startup_heap
from service.ops.logs import get_logger
from service.ops.metrics import Metrics
from service.settings import Settings
from service.store.client import cli_redis
from service.wiring import build_stores, build_worker, events_out, graph_names

log = get_logger("socialid.worker")


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sub.add_parser("worker", help="process stored webhook deliveries until stopped")


async def run_worker(settings: Settings) -> int:
    freeze_startup_heap()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    metrics = Metrics() if settings.worker_metrics_port is not None else None
    async with cli_redis(settings) as client, _metrics_served(settings, metrics):
        stores = build_stores(client, settings)
        async with graph_names(client, settings, stores.keys) as names:
            worker = build_worker(client, settings, stores, names=names, metrics=metrics)
            async with (
                running(worker, grace=settings.shutdown_timeout),
                events_out(client, settings, stores, metrics),
            ):
                await stop.wait()
    return 0


@asynccontextmanager
async def _metrics_served(settings: Settings, metrics: Metrics | None) -> AsyncIterator[None]:
    if metrics is None or settings.worker_metrics_port is None:
        yield
        return

    async def scrape(_: web.Request) -> web.Response:
        resp = web.Response(body=metrics.render())
        resp.headers["Content-Type"] = metrics.content_type
        return resp

    app = web.Application()
    app.router.add_get("/metrics", scrape)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, settings.host, settings.worker_metrics_port).start()
    log.info("metrics_listening", host=settings.host, port=settings.worker_metrics_port)
    try:
        yield
    finally:
        await runner.cleanup()
