"""`socialid worker` as its own process answers GET /metrics with what it processed: with
the API's worker off (as deploy/kubernetes runs it), the API's /metrics cannot see that."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time

import aiohttp
import pytest

from service.http.app import free_port
from tests import channels as ch
from tests.helpers import AppClient, MakeClient

pytestmark = pytest.mark.cluster

pytestmark = pytest.mark.slow


def _processed(text: str) -> float:
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("socialid_ingest_messages_processed_total{")
    )


async def test_a_worker_of_its_own_counts_what_it_processed_on_its_metrics_port(
    make_client: MakeClient, store_env: dict[str, str]
) -> None:
    client: AppClient = await make_client(**ch.CHANNEL_SETTINGS)  # the API's worker is off
    raw = ch.body(ch.tweet("7001", "u-metrics", "my broadband is down"))
    resp = await client.post("/webhooks/twitter", data=raw, headers=ch.twitter_headers(raw))
    assert resp.status == 200
    port = free_port()
    env = {**store_env, "SOCIALID_WORKER_METRICS_PORT": str(port), "SOCIALID_LOG_FORMAT": "json"}
    worker = subprocess.Popen(  # noqa: ASYNC220 - a process of its own, stopped below
        [sys.executable, "-m", "service", "worker"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        counted = 0.0
        deadline = time.monotonic() + 30
        async with aiohttp.ClientSession() as http:
            while counted < 1 and time.monotonic() < deadline:
                try:
                    async with http.get(f"http://127.0.0.1:{port}/metrics") as scraped:
                        assert scraped.status == 200
                        counted = _processed(await scraped.text())
                except aiohttp.ClientConnectionError:
                    pass  # not listening yet
                await asyncio.sleep(0.1)
        assert counted == 1
        api = await (await client.get("/metrics")).text()
        assert _processed(api) == 0  # the API process processed nothing itself
    finally:
        worker.send_signal(signal.SIGTERM)
        _, err = await asyncio.to_thread(worker.communicate, timeout=30)
    assert worker.returncode == 0, err.decode()[-2000:]
