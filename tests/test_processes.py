"""`socialid serve --processes N`: N serving processes on one port and one store, under a
parent that restarts a child that dies and stops them all on SIGTERM."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from service.cli.main import build_parser
from service.cli.serve_cmd import configured
from service.cli.supervisor import MAX_DEATHS
from service.http.app import free_port
from service.settings import load_settings
from service.store.embedded import EmbeddedRedis, pid_alive
from tests.served import Service, clean_env
from tests.test_faults import BURST, SETTINGS, _burst, _processed

pytestmark = pytest.mark.slow

_PROCESS = re.compile(r'^socialid_process_info\{(?=[^}]*pid="(\d+)")(?=[^}]*process="(\d+)")', re.M)


def _answering(base: str, requests: int = 40) -> dict[str, int]:
    """The processes that answered ``requests`` scrapes, each on a new connection: their
    pid by process number."""
    seen: dict[str, int] = {}
    for _ in range(requests):
        with urllib.request.urlopen(base + "/metrics", timeout=5) as resp:  # noqa: S310
            text = resp.read().decode()
        [(pid, number)] = _PROCESS.findall(text)
        seen[number] = int(pid)
        # Every series is that process's own: a counter never takes turns between them.
        samples = [x for x in text.splitlines() if x.startswith("socialid_")]
        assert all(f'process="{number}"' in x for x in samples)
    return seen


def _lines(log: Path) -> list[dict[str, object]]:
    return [json.loads(x) for x in log.read_text().splitlines() if x.startswith("{")]


def test_two_processes_share_the_port_and_a_killed_one_loses_no_acknowledged_delivery(
    tmp_path: Path,
) -> None:
    log = tmp_path / "service.log"
    env = {**SETTINGS, "SOCIALID_LOG_LEVEL": "INFO"}  # the supervisor's lines are read
    service = Service(tmp_path / "store", log=log, env=env, args=("--processes", "2"))
    try:
        first = _answering(service.base)
        assert set(first) == {"1", "2"}
        assert first["1"] != first["2"]

        killed = False

        def kill_one() -> None:
            nonlocal killed
            if not killed:
                killed = True
                os.kill(first["1"], signal.SIGKILL)

        numbers = list(range(BURST))
        before = asyncio.run(_burst(service.base, numbers, BURST // 3, kill_one))
        assert killed
        # The provider resends what got no 200; the parent brought process 1 back.
        resent = asyncio.run(
            _burst(service.base, [n for n in numbers if n not in before], None, None)
        )
        assert len(before) + len(resent) == BURST
        ids = asyncio.run(_processed(service.base, BURST))
        assert len(ids) == len(set(ids)) == BURST  # none lost, none twice
        assert set(before.values()) <= set(ids)

        again = _answering(service.base)
        assert set(again) == {"1", "2"}
        assert again["1"] != first["1"]  # a new process in the place of the killed one
        assert again["2"] == first["2"]  # and the other one untouched
    finally:
        code, _ = service.terminate()
    assert code == 0
    lines = _lines(log)
    [died] = [x for x in lines if x["event"] == "process_died"]
    assert (died["process"], died["pid"], died["signal"]) == (1, first["1"], "SIGKILL")
    assert [x["exit_code"] for x in lines if x["event"] == "stopped"] == [0]
    # Every serving process and the store are gone with the parent.
    assert not any(pid_alive(pid) for pid in {*first.values(), *again.values()})
    assert not EmbeddedRedis(tmp_path / "store").ping()


def test_processes_that_cannot_start_stop_the_service_with_the_reason(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "service", "serve", "--processes", "2"],
        env=clean_env(
            SOCIALID_DATA_DIR=str(tmp_path),
            SOCIALID_HOST="0.0.0.0",  # noqa: S104 - the misconfiguration under test
            SOCIALID_PORT=str(free_port()),
            SOCIALID_LOG_FORMAT="json",
        ),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2  # as one process would: not restarted again and again
    assert "SOCIALID_HOST=0.0.0.0 is reachable from other machines" in result.stderr


# The real supervisor, forking real processes that die as soon as they start.
_CRASHING = """
import sys
from service.cli.supervisor import supervise
from service.ops.logs import configure_logging
from service.settings import load_settings

def crash(settings, sock, number):
    raise RuntimeError("a bug at start-up")

configure_logging("INFO", "json")
sys.exit(supervise(load_settings(), crash))
"""


def test_processes_that_keep_dying_end_the_service_non_zero() -> None:
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-c", _CRASHING],
        env=clean_env(
            SOCIALID_PROCESSES="2",
            SOCIALID_REDIS_URL="redis://127.0.0.1:1",  # never reached: no child gets that far
            SOCIALID_PORT=str(free_port()),
        ),
        capture_output=True,
        text=True,
        timeout=120,  # a guard against a restart loop that never ends
        check=False,
    )
    assert result.returncode == 1
    events = [json.loads(x) for x in result.stderr.splitlines() if x.startswith("{")]
    restarts = [e for e in events if e["event"] == "process_died"]
    assert len(restarts) >= MAX_DEATHS - 1  # restarted first, as a one-off death would be
    assert any(e["event"] == "process_keeps_dying" for e in events)
    assert [e["exit_code"] for e in events if e["event"] == "stopped"] == [1]
    assert time.monotonic() - started < 60


def test_the_flags_of_serve_win_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOCIALID_PROCESSES", "3")
    settings = load_settings()
    assert (settings.processes, settings.worker) == (3, True)
    args = build_parser().parse_args(["serve", "--processes", "2", "--no-worker"])
    assert (configured(settings, args).processes, configured(settings, args).worker) == (2, False)
    alone = configured(settings, build_parser().parse_args(["serve"]))
    assert (alone.processes, alone.worker) == (3, True)


def test_processes_out_of_range_is_one_line_naming_the_flag(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "service", "serve", "--processes", "0"],
        env=clean_env(SOCIALID_DATA_DIR=str(tmp_path)),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.startswith("socialid: invalid configuration: --processes")
    assert not any(tmp_path.iterdir())


def test_the_embedded_store_dying_stops_every_process_non_zero(tmp_path: Path) -> None:
    log = tmp_path / "service.log"
    env = {"SOCIALID_PROCESSES": "2", "SOCIALID_SHUTDOWN_TIMEOUT": "2"}
    service = Service(tmp_path / "store", log=log, env=env)
    serving = _answering(service.base)
    [store] = [x["pid"] for x in _lines(log) if x["event"] == "store" and x["kind"] == "embedded"]
    assert isinstance(store, int)
    os.kill(store, signal.SIGKILL)
    # Loudly, rather than N processes answering 503 with no store to come back.
    service.proc.communicate(timeout=60)
    assert service.proc.returncode == 1
    assert any(x["event"] == "store_died" for x in _lines(log))
    assert not any(pid_alive(pid) for pid in serving.values())
