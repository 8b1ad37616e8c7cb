"""deploy/compose.yaml and deploy/prometheus.yml: valid for Compose, and running what a
user expects (socialid, a worker, an append-only Redis, Prometheus on /metrics)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.deployfiles import DEPLOY, run, yaml_file
from tests.helpers import AppClient

COMPOSE = DEPLOY / "compose.yaml"
# Variables compose.yaml requires (`${NAME:?...}`) set for `config` to resolve them.
REQUIRED_ENV = {"SOCIALID_ADMIN_TOKEN": "compose-config-check"}


def _compose_command() -> list[str] | None:
    docker = shutil.which("docker")
    if docker and run(docker, "compose", "version").returncode == 0:
        return [docker, "compose"]
    legacy = shutil.which("docker-compose")
    return [legacy] if legacy else None


def _config(path: Path) -> tuple[int, str]:
    command = _compose_command()
    assert command is not None
    done = run(*command, "-f", str(path), "config", "-q", env=REQUIRED_ENV)
    return done.returncode, done.stdout + done.stderr


def test_compose_file_passes_compose_and_compose_can_fail(tmp_path: Path) -> None:
    """With Docker Compose (or Debian's docker-compose) here, it checks the file against
    the Compose schema; CI installs one (.ci/run), so there this check always runs.
    Without one, the structural tests below still read the file."""
    if _compose_command() is None:
        if os.environ.get("CI"):
            pytest.fail("no docker compose / docker-compose: .ci/run installs docker-compose")
        pytest.skip("no docker compose or docker-compose here (CI has one)")
    code, out = _config(COMPOSE)
    assert code == 0, out
    broken = tmp_path / "compose.yaml"
    text = COMPOSE.read_text(encoding="utf-8")
    broken.write_text(text.replace("stop_grace_period:", "stop_grace_periods:", 1), "utf-8")
    code, out = _config(broken)
    assert code != 0, out
    assert "stop_grace_periods" in out, out


def _services() -> dict[str, Any]:
    services: dict[str, Any] = yaml_file(COMPOSE)["services"]
    return services


def test_compose_runs_the_service_a_worker_redis_and_prometheus() -> None:
    services = _services()
    assert {"socialid", "worker", "redis", "prometheus"} <= services.keys()
    assert services["worker"]["command"] == ["socialid", "worker"]
    # No command: the image's CMD, `socialid serve`.
    assert "command" not in services["socialid"]
    for name in ("socialid", "worker"):
        assert services[name]["environment"]["SOCIALID_REDIS_URL"] == "redis://redis:6379/0"
        assert services[name]["depends_on"]["redis"] == {"condition": "service_healthy"}


def test_compose_redis_is_append_only_on_a_volume() -> None:
    compose = yaml_file(COMPOSE)
    redis = compose["services"]["redis"]
    command = redis["command"]
    assert command[command.index("--appendonly") + 1] == "yes"
    assert command[command.index("--appendfsync") + 1] == "everysec"
    volume, _, mount = redis["volumes"][0].partition(":")
    assert mount == "/data"
    assert volume in compose["volumes"]


async def test_prometheus_scrapes_where_the_app_serves_metrics(client: AppClient) -> None:
    prometheus = _services()["prometheus"]
    mounted = {v.split(":")[1]: v.split(":")[0] for v in prometheus["volumes"]}
    config_path = DEPLOY / mounted["/etc/prometheus/prometheus.yml"]
    assert "--config.file=/etc/prometheus/prometheus.yml" in prometheus["command"]
    jobs = {job["job_name"]: job for job in yaml_file(config_path)["scrape_configs"]}
    (target,) = jobs["socialid"]["static_configs"][0]["targets"]
    host, _, port = target.partition(":")
    published = _services()[host]["ports"][0]
    assert published.split(":")[-1] == port
    resp = await client.get(jobs["socialid"]["metrics_path"])
    assert resp.status == 200
    assert resp.headers["Content-Type"].startswith("text/plain")
    # The worker's own port (tests/test_worker_metrics.py scrapes a real one).
    (target,) = jobs["socialid-worker"]["static_configs"][0]["targets"]
    host, _, port = target.partition(":")
    assert _services()[host]["environment"]["SOCIALID_WORKER_METRICS_PORT"] == port
