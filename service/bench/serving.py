"""What the HTTP benchmarks run against: a real ``socialid serve`` in N processes, and the
ceiling beside it, a bare aiohttp app in as many processes answering the same requests,
loaded by the same client. The ceiling is what this machine allows at all: the service's
rate is only meaningful beside it, measured in the same minutes."""

from __future__ import annotations

import asyncio
import json
import os
import re
import secrets
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp

from service.http.app import free_port

_PROCESS = re.compile(r'^socialid_process_info\{(?=[^}]*pid="(\d+)")(?=[^}]*process="(\d+)")', re.M)


def serve_env(port: int, token: str, processes: int, env: dict[str, str]) -> dict[str, str]:
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("SOCIALID_")},
        "SOCIALID_PORT": str(port),
        "SOCIALID_ADMIN_TOKEN": token,
        "SOCIALID_PROCESSES": str(processes),
        # A benchmark measures capacity, not policy: one key sends it all. The limiter's
        # check still runs on every request, and is measured with it.
        "SOCIALID_RATE_LIMIT_PER_SECOND": "1000000",
        "SOCIALID_RATE_LIMIT_BURST": "1000000",
        **env,
    }


async def start_serve(env: dict[str, str]) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "service", "serve", env=env, stderr=asyncio.subprocess.DEVNULL
    )


@asynccontextmanager
async def served(env: dict[str, str], processes: int = 1) -> AsyncIterator[aiohttp.ClientSession]:
    """A real ``socialid serve`` in other processes, configured by ``env`` (its store),
    and a client session to it that carries the admin token."""
    port, token = free_port(), secrets.token_urlsafe(24)
    proc = await start_serve(serve_env(port, token, processes, env))
    headers = {"Authorization": f"Bearer {token}"}
    try:
        async with aiohttp.ClientSession(f"http://127.0.0.1:{port}", headers=headers) as http:
            await wait_ready(http, proc, processes)
            yield http
    finally:
        proc.terminate()
        await proc.wait()


async def wait_ready(
    http: aiohttp.ClientSession, proc: asyncio.subprocess.Process, processes: int = 1
) -> None:
    """Until every one of the ``processes`` answers (each scrape on a new connection,
    which the kernel gives to any of them)."""
    seen: set[str] = set()
    for _ in range(600):
        if proc.returncode is not None:
            raise RuntimeError("the service exited during start-up")
        try:
            async with http.get("/metrics", headers={"Connection": "close"}) as resp:
                if resp.status == 200:
                    seen.update(number for _, number in _PROCESS.findall(await resp.text()))
            if len(seen) >= processes:
                async with http.get("/health/ready") as resp:
                    if resp.status == 200:
                        return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.05)
    raise RuntimeError("the service did not become ready")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used (Linux /proc; 0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def service_cpu_seconds(pid: int) -> float:
    """CPU of a serve process and its serving children: the embedded store (a child too)
    is not the service's own work, and is left out as it is with one process."""
    parents: dict[int, int] = {}
    names: dict[int, str] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        name, rest = text.split(" (", 1)[1].rsplit(")", 1)
        parents[int(stat.parent.name)] = int(rest.split()[1])
        names[int(stat.parent.name)] = name
    tree = {pid}
    for child, parent in parents.items():
        if parent == pid and not names[child].startswith("valkey"):
            tree.add(child)
    return sum(cpu_seconds(p) for p in tree)


def machine_ticks() -> tuple[int, int]:
    """All CPU ticks of the machine so far, and the idle ones (Linux /proc; 0 elsewhere)."""
    try:
        first = Path("/proc/stat").read_text().split("\n", 1)[0].split()
    except OSError:
        return 0, 0
    ticks = [int(v) for v in first[1:9]]  # guest time is counted in user time already
    return sum(ticks), ticks[3] + ticks[4]


def busy_since(before: tuple[int, int]) -> float:
    """The share of the machine's cores busy since ``before`` (everyone's work, ours and
    any other's: on a shared machine, what says whether a core was left to use)."""
    total, idle = machine_ticks()
    spent = total - before[0]
    return (spent - (idle - before[1])) / spent if spent else 0.0


# The cheapest aiohttp answer to the same posts, in as many processes as the service.
_BARE_APP = """
import json, sys
from aiohttp import web
port, path, raw = int(sys.argv[1]), sys.argv[2], sys.argv[3]
# "@file": an answer too large for an argument.
answer = json.load(open(raw[1:])) if raw.startswith("@") else json.loads(raw)
reuse_port = sys.argv[4] == "shared"
async def handle(request):
    await request.read()
    return web.json_response(answer)
app = web.Application()
app.router.add_post(path, handle)
def ready(_message):
    print("ready", flush=True)
web.run_app(app, host="127.0.0.1", port=port, print=ready, access_log=None, reuse_port=reuse_port)
"""


@asynccontextmanager
async def bare_app(
    processes: int, path: str, answer: object
) -> AsyncIterator[tuple[str, list[int]]]:
    """A bare aiohttp app in ``processes`` processes on one port (SO_REUSEPORT, as serve
    does), answering ``answer`` (or the JSON in the file a ``Path`` names) to every POST
    on ``path``: its URL and its pids."""
    port = free_port()
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            _BARE_APP,
            str(port),
            path,
            f"@{answer}" if isinstance(answer, Path) else json.dumps(answer),
            "shared" if processes > 1 else "alone",
            stdout=asyncio.subprocess.PIPE,
        )
        for _ in range(processes)
    ]
    try:
        for proc in procs:
            assert proc.stdout is not None
            if not await asyncio.wait_for(proc.stdout.readline(), timeout=30):
                raise RuntimeError("the bare aiohttp app did not start")
        yield f"http://127.0.0.1:{port}", [proc.pid for proc in procs]
    finally:
        for proc in procs:
            proc.terminate()
            await proc.wait()
