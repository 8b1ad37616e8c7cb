"""Fixtures: a real Redis for every test, isolated by a key prefix and emptied after.

``SOCIALID_TEST_REDIS_URL`` points at a server to use (CI has one); without it the
session starts a private embedded server, exactly as ``socialid serve`` would.

``SOCIALID_TEST_CLUSTER=1`` runs the tests marked ``cluster`` (and only those) against a
local three-master Redis Cluster started from the same binary, through the cluster
client, as ``SOCIALID_REDIS_CLUSTER`` makes the service do.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, cast

import hypothesis
import pytest
import redis as syncredis
import redis.asyncio as aioredis
import structlog
from aiohttp import web
from aiohttp.test_utils import TestServer
from aiosmtpd.controller import Controller
from redis.asyncio.cluster import RedisCluster

from service.http.app import create_app, free_port
from service.ops.logs import configure_logging
from service.settings import Settings
from service.store.embedded import EmbeddedRedis
from service.store.keynames import KeySchema
from service.store.localcluster import LocalCluster
from tests.helpers import ADMIN_TOKEN, CLUSTER, AppClient, MakeClient, command_env
from tests.logscan import leaks, traceable
from tests.standins import Inbox, StandIn, quiet_smtp_server

_SUITE_LOG = "socialid_suite_log"

# Property tests draw the same cases on every run: a submission must not pass or fail by
# luck (tests/fuzzing.py explores at random when asked for a long run).
hypothesis.settings.register_profile("socialid", derandomize=True)
hypothesis.settings.load_profile("socialid")


@pytest.fixture(scope="session")
def suite_log(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every line the service logs while the suite runs, through the real processor chain
    (redaction included): checked for leaks when the session ends."""
    path = tmp_path_factory.mktemp("logs") / "suite.jsonl"
    setattr(request.config, _SUITE_LOG, path)
    return path


@pytest.fixture(autouse=True)
def _log_to_suite_log(request: pytest.FixtureRequest, suite_log: Path) -> Iterator[None]:
    if "log_lines" in request.fixturenames:  # the test reads its own lines
        yield
        return
    with suite_log.open("a", encoding="utf-8") as stream:
        configure_logging("DEBUG", "json", stream=stream)
        try:
            yield
        finally:
            structlog.reset_defaults()
            root = logging.getLogger()
            for handler in list(root.handlers):
                root.removeHandler(handler)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """The whole run's log lines hold no personal data or credential, and do hold the
    stream ids that trace a delivery."""
    path: Path | None = getattr(session.config, _SUITE_LOG, None)
    if path is None or not path.exists():
        return
    text = path.read_text(encoding="utf-8")
    problems = leaks(text)
    # A run of a few tests may process no delivery at all.
    if session.testscollected >= 300 and not traceable(text):
        problems.append("no stream entry id in any line: deliveries cannot be traced")
    if problems:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(f"suite logs ({path}): " + "; ".join(problems), red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not CLUSTER:
        return
    # Deselected, not skipped: a cluster run is of the tests written to hold there.
    elsewhere = [item for item in items if item.get_closest_marker("cluster") is None]
    if elsewhere:
        config.hook.pytest_deselected(items=elsewhere)
        items[:] = [item for item in items if item.get_closest_marker("cluster") is not None]


def _async_client(url: str) -> aioredis.Redis:
    if CLUSTER:
        return cast(aioredis.Redis, RedisCluster.from_url(url, decode_responses=True))
    return aioredis.Redis.from_url(url, decode_responses=True)


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if CLUSTER:
        with LocalCluster(tmp_path_factory.mktemp("test-cluster")) as cluster:
            yield cluster.url
        return
    configured = os.environ.get("SOCIALID_TEST_REDIS_URL")
    if configured:
        yield configured
        return
    server = EmbeddedRedis(tmp_path_factory.mktemp("test-store"))
    server.start()
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture(scope="session")
def used_prefixes() -> Iterator[set[str]]:
    """Every test's key prefix. On a shared server (``SOCIALID_TEST_REDIS_URL``) what is
    still under them at the end goes: an app that a test shut down after its ``redis``
    fixture emptied the prefix may have written again (a worker stopping recreates its
    stream)."""
    used: set[str] = set()
    yield used
    configured = os.environ.get("SOCIALID_TEST_REDIS_URL")
    if not configured or not used or CLUSTER:
        return
    client = syncredis.Redis.from_url(configured)
    try:
        leftovers = [k for k in client.scan_iter(count=1000) if k.split(b":")[0].decode() in used]
        for start in range(0, len(leftovers), 1000):
            client.unlink(*leftovers[start : start + 1000])
    finally:
        client.close()


@pytest.fixture
def key_prefix(used_prefixes: set[str]) -> str:
    prefix = f"t{uuid.uuid4().hex[:12]}"
    used_prefixes.add(prefix)
    return prefix


@pytest.fixture
def keys(key_prefix: str) -> KeySchema:
    return KeySchema(key_prefix)


@pytest.fixture
async def redis(redis_url: str, keys: KeySchema) -> AsyncIterator[aioredis.Redis]:
    client = _async_client(redis_url)
    try:
        yield client
    finally:
        leftovers = [k async for k in client.scan_iter(match=keys.everything(), count=500)]
        if leftovers:
            await client.unlink(*leftovers)
        await client.aclose()


@pytest.fixture
def store_env(redis_url: str, key_prefix: str) -> dict[str, str]:
    """The environment of a ``socialid`` command run by a test, on this test's store."""
    return command_env(redis_url, key_prefix)


@pytest.fixture
def make_settings(redis_url: str, key_prefix: str, tmp_path: Path) -> Callable[..., Settings]:
    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "redis_url": redis_url,
            "redis_cluster": CLUSTER,
            "key_prefix": key_prefix,
            "data_dir": tmp_path / "data",
            "admin_token": ADMIN_TOKEN,
            "log_format": "json",
        }
        if CLUSTER:
            # Three nodes, the suite and a browser share CI's two cores: a node can be
            # off a core for over a second, which is no fault of the code under test.
            values["redis_timeout"] = 5.0
        values.update(overrides)
        return Settings(**values)

    return make


@pytest.fixture
def make_client(
    aiohttp_client: Callable[[web.Application], Awaitable[AppClient]],
    make_settings: Callable[..., Settings],
    redis: aioredis.Redis,
) -> MakeClient:
    async def make(
        app_hook: Callable[[web.Application], None] | None = None, **overrides: Any
    ) -> AppClient:
        app = create_app(make_settings(**overrides))
        if app_hook is not None:
            app_hook(app)
        return await aiohttp_client(app)

    return make


@pytest.fixture
async def client(make_client: MakeClient) -> AppClient:
    return await make_client()


Serve = Callable[[web.Application], Awaitable[TestServer]]


@pytest.fixture
async def stand_in(aiohttp_server: Serve) -> tuple[StandIn, str]:
    """A provider's send API on loopback (X, Graph API, Discourse), and its base URL."""
    provider = StandIn()
    server = await aiohttp_server(provider.app())
    return provider, f"http://{server.host}:{server.port}"


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, int]]:
    """A real SMTP server on loopback, and its port."""
    quiet_smtp_server()
    handler, port = Inbox(), free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()
