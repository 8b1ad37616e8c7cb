"""Small helpers shared by the tests."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from typing import Any

import redis.asyncio as aioredis
from aiohttp import ClientResponse, web
from aiohttp.test_utils import TestClient

from service.settings import Settings
from service.wiring import build_stores, build_worker

# SOCIALID_TEST_CLUSTER=1: the tests marked ``cluster`` run on a local Redis Cluster.
CLUSTER = os.environ.get("SOCIALID_TEST_CLUSTER") == "1"


def command_env(redis_url: str, key_prefix: str) -> dict[str, str]:
    """The environment of a ``socialid`` command run by a test, on that test's store."""
    return {
        **os.environ,
        "SOCIALID_REDIS_URL": redis_url,
        "SOCIALID_KEY_PREFIX": key_prefix,
        "SOCIALID_REDIS_CLUSTER": "true" if CLUSTER else "false",
        # As the tests' own settings on a cluster (conftest.make_settings).
        **({"SOCIALID_REDIS_TIMEOUT": "5"} if CLUSTER else {}),
    }


ADMIN_TOKEN = "test-admin-token-0123456789"
AppClient = TestClient[web.Request, web.Application]
MakeClient = Callable[..., Awaitable[AppClient]]
PROBLEM = "application/problem+json"


def admin() -> dict[str, str]:
    return bearer(ADMIN_TOKEN)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def drain(redis: aioredis.Redis, settings: Settings) -> None:
    """Run an ingestion worker until no stored delivery is left."""
    worker = build_worker(redis, settings, build_stores(redis, settings), names=None, metrics=None)
    await worker.setup()
    while await worker.run_once():
        pass


async def accepted(resp: ClientResponse) -> str:
    """The id of the one message a webhook delivery stored."""
    assert resp.status == 200, await resp.text()
    [message_id] = (await resp.json())["accepted"]
    return str(message_id)


async def processed(client: AppClient, message_id: str) -> Any:
    """The message once the serving app's own worker processed it."""
    for _ in range(200):
        resp = await client.get(f"/v1/messages/{message_id}", headers=admin())
        if resp.status == 200:
            return await resp.json()
        await asyncio.sleep(0.025)
    raise AssertionError(f"{message_id} was not processed within 5 s")
