"""The real command: `socialid serve` under SIGTERM, `socialid demo`, bad configuration."""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from service.http.app import free_port
from service.store.embedded import EmbeddedRedis, pid_alive
from tests.helpers import ADMIN_TOKEN
from tests.served import Service, call, clean_env

pytestmark = pytest.mark.slow


def test_sigterm_then_restart_keeps_data_written_through_the_api(tmp_path: Path) -> None:
    data_dir = tmp_path / "store"
    service = Service(data_dir)
    customer = {"given_name": "Dana", "family_name": "King", "emails": ["dana@example.com"]}
    assert call("PUT", service.base + "/v1/customers/C-42", customer)[0] == 201
    event = {"id": "e1", "type": "note", "at": "2026-11-01T10:00:00Z", "summary": "called"}
    assert call("POST", service.base + "/v1/customers/C-42/events", event)[0] == 201

    code, stderr = service.terminate()
    assert code == 0, stderr
    lines = [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]
    events = [line["event"] for line in lines]
    assert "store_stopped" in events
    assert "stopped" in events
    # The embedded server went down with the service: nothing answers on its socket.
    embedded_pid = next(line["pid"] for line in lines if line["event"] == "store")
    assert not pid_alive(embedded_pid)

    again = Service(data_dir)
    try:
        status, body = call("GET", again.base + "/v1/customers/C-42")
        assert status == 200
        assert body["family_name"] == "King"
        status, history = call("GET", again.base + "/v1/customers/C-42/history")
        assert [e["summary"] for e in history["events"]] == ["called"]
    finally:
        assert again.terminate()[0] == 0
    assert not EmbeddedRedis(data_dir).ping()


def test_a_killed_service_leaves_no_store_process_behind(tmp_path: Path) -> None:
    service = Service(tmp_path / "store")
    assert service.proc.stderr is not None
    store_pid = None
    while store_pid is None:
        line = service.proc.stderr.readline()
        assert line, "the service ended before reporting its store"
        if line.startswith("{") and json.loads(line).get("event") == "store":
            store_pid = json.loads(line)["pid"]
    assert pid_alive(store_pid)
    service.proc.kill()  # SIGKILL: no clean-up code runs in the service
    service.proc.communicate(timeout=10)
    deadline = time.monotonic() + 10
    while pid_alive(store_pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not pid_alive(store_pid), "the embedded server outlived its service"
    # And the data dir can be used again straight away.
    again = Service(tmp_path / "store")
    assert again.terminate()[0] == 0


def test_demo_resolves_every_sample_message(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "service", "demo"],
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    messages = json.loads(
        Path(__file__).parents[1].joinpath("service/sample/messages.json").read_text()
    )
    resolved = [line for line in result.stdout.splitlines() if line.startswith("  resolved: ")]
    assert len(resolved) == len(messages)
    # Every message came in through its channel's real webhook and the worker.
    for path in ("twitter", "facebook", "forum", "email/raw"):
        assert f"POST /webhooks/{path} -> msg_" in result.stdout, path
    assert "Dana King (C-1001)" in result.stdout
    # Named only in her text, quoting the family account her father holds.
    assert "Amara Lee (C-1005), matched on given name (exact, written in the text)" in (
        result.stdout
    )
    assert "open case CASE-881" in result.stdout
    # The family plan: the daughter's tweet, and the family's credit on her card.
    tweet = result.stdout.split("> twitter amara_lee04:")[1].split("\n\n")[0]
    assert "Amara Lee (C-1005), identity already linked" in tweet
    assert "household H-2087, member, held by Marcus Lee" in tweet
    assert "[unapplied_credit] On the family account (55-2087-31, held by Marcus Lee)" in tweet
    # The sample book is built so that every flag fires at least once.
    for code in (
        "open_complaint",
        "promise_due",
        "promise_overdue",
        "unapplied_credit",
        "recent_commitment_increase",
        "repeat_contact",
        "billing_dispute",
    ):
        assert f"[{code}]" in result.stdout, code
    assert f"{len(messages)} of {len(messages)} messages resolved" in result.stdout
    # Tom's third contact about his outage is tied to the case and raises its priority.
    tom = result.stdout.split("> twitter tombecker_:")[1].split("\n\n")[0]
    assert "likely about case CASE-915: No broadband since the storm" in tom
    assert "3rd contact about open outage case CASE-915" in tom
    assert "conversation priority: high, raised by socialid" in tom
    # A campaign tool's retention check blocks Amara, who just renewed, and not Olu.
    checked = result.stdout.split("POST /v1/outreach/check")[1]
    assert "C-1005: blocked [recent_commitment_increase] Renewal on" in checked
    assert "C-1006: allowed" in checked
    # The demo keeps its store in a temporary directory, not in the working directory.
    assert not (tmp_path / ".socialid").exists()


def test_bad_configuration_stops_start_up_with_one_line(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "service", "serve"],
        env=clean_env(SOCIALID_PORT="eighty", SOCIALID_DATA_DIR=str(tmp_path)),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "SOCIALID_PORT" in result.stderr


def test_version() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "service", "version"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert result.stdout.startswith("socialid ")


def test_serve_on_a_taken_port_exits_at_once_naming_the_port(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "service", "serve"],
            env=clean_env(
                SOCIALID_DATA_DIR=str(tmp_path),
                SOCIALID_PORT=str(port),
                SOCIALID_ADMIN_TOKEN=ADMIN_TOKEN,
                SOCIALID_LOG_FORMAT="json",
            ),
            capture_output=True,
            text=True,
            timeout=60,  # a guard against the old hang, not a measurement
            check=False,
        )
    assert result.returncode != 0
    [line] = [json.loads(x) for x in result.stderr.splitlines() if "port_unavailable" in x]
    assert (line["port"], line["level"]) == (port, "error")
    # Nothing was started for a server that could never answer.
    assert not any(tmp_path.iterdir())


def test_an_import_cut_off_by_sigterm_answers_what_it_committed(tmp_path: Path) -> None:
    service = Service(tmp_path / "store")

    async def cut_off() -> tuple[int, dict[str, Any]]:
        sent = asyncio.Event()

        async def body() -> AsyncIterator[bytes]:
            for n in range(1, 301):
                yield json.dumps({"id": f"C-{n}", "name": f"Customer {n}"}).encode() + b"\n"
            sent.set()
            await asyncio.sleep(3600)  # the client has more to send, and is slow about it

        async def terminate_once_sent() -> None:
            await sent.wait()
            await asyncio.sleep(0.5)  # the lines reach the server and are written
            service.proc.send_signal(signal.SIGTERM)

        headers = {
            "Authorization": f"Bearer {ADMIN_TOKEN}",
            "Content-Type": "application/x-ndjson",
        }
        async with aiohttp.ClientSession() as http:
            killer = asyncio.create_task(terminate_once_sent())
            async with http.post(
                service.base + "/v1/import/customers", data=body(), headers=headers
            ) as resp:
                answer = await resp.json(content_type=None)
            await killer
            return resp.status, answer

    status, answer = asyncio.run(cut_off())
    stderr = service.proc.communicate(timeout=30)[1]
    assert service.proc.wait(timeout=30) == 0, stderr
    assert status == 503
    assert answer["type"].endswith("/import-interrupted")
    assert answer["resume_from_line"] == answer["summary"]["committed_through_line"] + 1
    assert answer["summary"]["accepted"] == answer["summary"]["committed_through_line"] == 300

    again = Service(tmp_path / "store")
    try:
        assert call("GET", again.base + "/v1/customers/C-300")[0] == 200
    finally:
        assert again.terminate()[0] == 0


def test_serve_beyond_loopback_without_any_credential_refuses_to_start(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "service", "serve"],
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
    assert result.returncode == 2
    assert "SOCIALID_HOST=0.0.0.0 is reachable from other machines" in result.stderr
    assert "SOCIALID_ADMIN_TOKEN" in result.stderr
