"""A real ``socialid serve`` in a process of its own, for the tests that signal, kill or
restart it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from service.http.app import free_port
from tests.helpers import ADMIN_TOKEN


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOCIALID_")}
    env.update(extra)
    return env


def call(method: str, url: str, body: Any = None) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)  # noqa: S310 - loopback
    req.add_header("Authorization", f"Bearer {ADMIN_TOKEN}")
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:  # noqa: S310 - loopback
            return resp.status, json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as err:
        return err.code, None


class Service:
    def __init__(
        self,
        data_dir: Path,
        *,
        port: int | None = None,
        log: Path | None = None,
        env: dict[str, str] | None = None,
        args: tuple[str, ...] = (),
    ) -> None:
        """``env``: more settings (SOCIALID_...); ``args``: flags of ``serve``; ``port``:
        the same port again; ``log``: a file for its log lines (else a pipe, which a test
        that sends much must read, or the service blocks writing to it)."""
        self.port = port or free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        environ = clean_env(
            SOCIALID_DATA_DIR=str(data_dir),
            SOCIALID_PORT=str(self.port),
            SOCIALID_ADMIN_TOKEN=ADMIN_TOKEN,
            SOCIALID_LOG_FORMAT="json",
            **(env or {}),
        )
        out = None if log is None else log.open("a")
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "service", "serve", *args],
                env=environ,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE if out is None else out,
                text=True,
            )
        finally:
            if out is not None:
                out.close()  # the child holds its own copy
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.proc.communicate()[1]
            try:
                if call("GET", self.base + "/health/ready")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        self.proc.kill()
        raise AssertionError("service did not become ready")

    def terminate(self) -> tuple[int, str]:
        self.proc.send_signal(signal.SIGTERM)
        _, err = self.proc.communicate(timeout=30)
        return self.proc.returncode, err
