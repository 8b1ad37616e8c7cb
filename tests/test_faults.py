"""Nothing acknowledged is lost, and nothing is stored twice, when the service is killed
or its store restarts in the middle of a burst of deliveries.

A provider resends what was not acknowledged (Twitter, Meta and Discourse all retry):
the test does the same, then counts the processed messages.
"""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import aiohttp
import pytest

from service.store.embedded import EmbeddedRedis
from tests import channels as ch
from tests.helpers import ADMIN_TOKEN
from tests.served import Service

pytestmark = pytest.mark.slow

BURST = 400
SETTINGS = {
    "SOCIALID_TWITTER_CONSUMER_SECRET": ch.TWITTER_SECRET,
    "SOCIALID_LOG_LEVEL": "WARNING",
    "SOCIALID_REDIS_TIMEOUT": "0.5",
    # A killed worker's deliveries are claimed by the next after this long (30 s by default).
    "SOCIALID_WORKER_CLAIM_AFTER": "2",
}
HEADERS = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def _tweet(n: int) -> bytes:
    return ch.body(ch.tweet(f"{1_900_000_000_000_000_000 + n}", f"{700_000 + n}", f"outage {n}"))


async def _send(http: aiohttp.ClientSession, base: str, n: int) -> str | None:
    """The message id when the delivery was acknowledged (200), else None."""
    raw = _tweet(n)
    try:
        async with http.post(
            base + "/webhooks/twitter", data=raw, headers=ch.twitter_headers(raw)
        ) as resp:
            if resp.status != 200:
                return None
            accepted: list[str] = (await resp.json())["accepted"]
            return accepted[0] if accepted else "duplicate"
    except (aiohttp.ClientError, TimeoutError):
        return None


async def _burst(
    base: str, numbers: list[int], fault_after: int | None, fault: object
) -> dict[int, str]:
    """Send the deliveries 16 at a time; call ``fault`` once ``fault_after`` were
    acknowledged. The acknowledged ones, by number."""
    acked: dict[int, str] = {}
    queue = list(numbers)
    timeout = aiohttp.ClientTimeout(total=5)
    async with aiohttp.ClientSession(timeout=timeout) as http:

        async def worker() -> None:
            while queue:
                n = queue.pop(0)
                got = await _send(http, base, n)
                if got is not None:
                    acked[n] = got
                if fault_after is not None and len(acked) == fault_after and callable(fault):
                    fault()

        await asyncio.gather(*(worker() for _ in range(16)))
    return acked


async def _processed(base: str, expected: int) -> list[str]:
    """Every processed message's id, once ``expected`` are there (or after 60 s)."""
    async with aiohttp.ClientSession(headers=HEADERS) as http:
        for _ in range(600):
            ids: list[str] = []
            cursor = None
            while True:
                params = {"limit": "500", **({"cursor": cursor} if cursor else {})}
                async with http.get(base + "/v1/messages", params=params) as resp:
                    page = await resp.json()
                ids += [m["id"] for m in page["messages"]]
                cursor = page.get("next_cursor")
                if not cursor:
                    break
            if len(ids) >= expected:
                return ids
            await asyncio.sleep(0.1)
    return ids


def test_kill_9_mid_burst_loses_no_acknowledged_delivery(tmp_path: Path) -> None:
    data = tmp_path / "store"
    service = Service(data, log=tmp_path / "service.log", env=SETTINGS)
    killed = False

    def kill() -> None:
        nonlocal killed
        if not killed:
            killed = True
            service.proc.send_signal(signal.SIGKILL)

    numbers = list(range(BURST))
    before = asyncio.run(_burst(service.base, numbers, BURST // 3, kill))
    service.proc.communicate(timeout=30)
    assert killed
    assert BURST // 3 <= len(before) < BURST  # some were refused while it died

    again = Service(data, port=service.port, log=tmp_path / "service.log", env=SETTINGS)
    try:
        # The provider resends everything it holds no 200 for; some of those were stored
        # before the kill (the answer was lost): they must come back as duplicates.
        resent = asyncio.run(
            _burst(again.base, [n for n in numbers if n not in before], None, None)
        )
        assert len(before) + len(resent) == BURST
        ids = asyncio.run(_processed(again.base, BURST))
        assert len(ids) == len(set(ids)) == BURST  # none lost, none twice
        assert set(before.values()) <= set(ids)
    finally:
        again.terminate()


def test_a_store_restart_mid_burst_loses_nothing_and_recovers_by_itself(tmp_path: Path) -> None:
    # The store as a server of its own (as in production): killed, then started again on
    # its append-only file while the service keeps running.
    store = EmbeddedRedis(tmp_path / "redis")
    store.start()
    env = {**SETTINGS, "SOCIALID_REDIS_URL": store.url}
    service = Service(tmp_path / "service", log=tmp_path / "service.log", env=env)
    stopped = False

    def stop_store() -> None:
        nonlocal stopped
        if not stopped and store.pid is not None:
            stopped = True
            os.kill(store.pid, signal.SIGKILL)

    try:
        numbers = list(range(BURST))
        before = asyncio.run(_burst(service.base, numbers, BURST // 3, stop_store))
        assert stopped
        assert len(before) < BURST  # refused (503) while the store was away
        store.stop()  # reap the killed server and free its data dir
        store.start()
        resent = asyncio.run(
            _burst(service.base, [n for n in numbers if n not in before], None, None)
        )
        assert len(before) + len(resent) == BURST
        ids = asyncio.run(_processed(service.base, BURST))
        assert len(ids) == len(set(ids)) == BURST
    finally:
        service.terminate()
        store.stop()
