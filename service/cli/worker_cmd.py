"""``socialid worker``: the ingestion worker and the events dispatcher as a process of
their own (serve runs them too; set SOCIALID_WORKER=false there when workers run apart)."""

from __future__ import annotations

import argparse
import asyncio
import signal

from service.ingest.worker import running
from service.ops.heap import freeze_startup_heap
from service.ops.logs import get_logger
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
    async with cli_redis(settings) as client:
        stores = build_stores(client, settings)
        async with graph_names(client, settings, stores.keys) as names:
            worker = build_worker(client, settings, stores, names=names, metrics=None)
            async with (
                running(worker, grace=settings.shutdown_timeout),
                events_out(client, settings, stores, None),
            ):
                await stop.wait()
    return 0
