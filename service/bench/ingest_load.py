"""``socialid bench ingest``: signed webhook deliveries from this process to a real
``socialid serve`` in another, then the time from acknowledgement to resolved message
with a ``socialid worker`` process draining the stream."""

from __future__ import annotations

import asyncio
import gc
import json
import secrets
import sys
import tempfile
import time
from collections.abc import Awaitable
from datetime import datetime
from pathlib import Path

import aiohttp
from redis.asyncio import Redis

from adapters.signatures import sha256_base64
from service.bench.commands import percentile
from service.bench.lookup_load import print_gains
from service.bench.serving import (
    bare_app,
    busy_since,
    cpu_seconds,
    machine_ticks,
    serve_env,
    service_cpu_seconds,
    start_serve,
    wait_ready,
)
from service.bench.synthetic import book
from service.http.app import free_port
from service.settings import Settings
from service.store.client import redis_client
from service.store.embedded import running_server_url
from service.store.keynames import KeySchema
from service.store.localcluster import LocalCluster
from service.store.reads import get_many

SECRET = "bench-consumer-secret"  # noqa: S105 - signs synthetic deliveries only


def _tweet(n: int, sender: str, text: str) -> tuple[bytes, dict[str, str]]:
    payload = {
        "for_user_id": "900001",
        "tweet_create_events": [
            {
                "id_str": str(10**15 + n),
                "text": text,
                "timestamp_ms": str(int(time.time() * 1000)),
                "user": {"id_str": sender, "screen_name": f"user{sender}", "name": "Bench Sender"},
            }
        ],
    }
    body = json.dumps(payload).encode()
    headers = {
        "Content-Type": "application/json",
        "x-twitter-webhooks-signature": sha256_base64(SECRET, body),
    }
    return body, headers


def _deliveries(start: int, count: int, linked: list[str]) -> list[tuple[bytes, dict[str, str]]]:
    """Half from senders with a linked identity (one key read), half from unknown
    senders who quote an account number (the whole model runs)."""
    out = []
    for n in range(start, start + count):
        if n % 2 and linked:
            out.append(_tweet(n, linked[n % len(linked)], "@acme my router is down again"))
        else:
            out.append(_tweet(n, f"u{n}", f"@acme account 10-{n % 10000:04d}-42 bill wrong"))
    return out


async def _post(
    http: aiohttp.ClientSession, body: bytes, headers: dict[str, str]
) -> tuple[list[str], float]:
    async with http.post("/webhooks/twitter", data=body, headers=headers) as resp:
        if resp.status != 200:
            raise RuntimeError(f"delivery answered {resp.status}: {await resp.text()}")
        accepted: list[str] = (await resp.json())["accepted"]
    return accepted, time.time()


async def _burst(
    http: aiohttp.ClientSession, items: list[tuple[bytes, dict[str, str]]], concurrency: int
) -> float:
    async def worker(offset: int) -> None:
        for body, headers in items[offset::concurrency]:
            await _post(http, body, headers)

    started = time.perf_counter()
    await asyncio.gather(*(worker(i) for i in range(concurrency)))
    return len(items) / (time.perf_counter() - started)


async def _paced(
    http: aiohttp.ClientSession, items: list[tuple[bytes, dict[str, str]]], rate: int
) -> tuple[dict[str, float], float]:
    """Send at ``rate`` per second; the acknowledgement time of each message id."""
    acked: dict[str, float] = {}
    pending: set[asyncio.Task[None]] = set()
    started = time.perf_counter()

    async def one(body: bytes, headers: dict[str, str]) -> None:
        ids, at = await _post(http, body, headers)
        for message_id in ids:
            acked[message_id] = at

    for i, (body, headers) in enumerate(items):
        delay = started + i / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        task = asyncio.create_task(one(body, headers))
        pending.add(task)
        task.add_done_callback(pending.discard)
    await asyncio.gather(*pending)
    return acked, len(items) / (time.perf_counter() - started)


_ACCEPTED = {"accepted": [], "duplicates": 0}  # what the ceiling answers every post


async def _ceiling(
    items: list[tuple[bytes, dict[str, str]]], concurrency: int, processes: int
) -> tuple[float, float, float, float]:
    """The same posts to a bare aiohttp app in ``processes`` processes: per second, and
    per CPU-second of those processes, and the client's and the machine's load."""
    bare = bare_app(processes, "/webhooks/twitter", _ACCEPTED)
    async with bare as (url, pids), aiohttp.ClientSession(url) as http:
        cpu = sum(cpu_seconds(pid) for pid in pids)
        rate, client, machine = await _loaded(_burst(http, items, concurrency))
        used = sum(cpu_seconds(pid) for pid in pids) - cpu
    return rate, len(items) / max(used, 1e-9), client, machine


async def _loaded(burst: Awaitable[float]) -> tuple[float, float, float]:
    """The burst's rate; the share of a core this client (the load) used meanwhile (near
    100%: the client sets the pace), and of the machine's cores (near 100%: none left)."""
    cpu, wall, ticks = time.process_time(), time.perf_counter(), machine_ticks()
    rate = await burst
    return rate, (time.process_time() - cpu) / (time.perf_counter() - wall), busy_since(ticks)


async def bench_ingest(
    settings: Settings,
    customers: int,
    burst: int,
    rate: int,
    seconds: float,
    concurrency: int,
    processes: list[int],
    store: str = "single",
) -> int:
    """A burst into serve (worker off) at each count of processes, beside the ceiling at
    that count; then, with the last count, the backlog drained by a ``socialid worker``
    and ``seconds`` at a sustained ``rate``. ``store``: the embedded server, or a local
    three-master cluster with append-only files like it (docs/cluster.md)."""
    docs = [json.loads(line) for line in book(customers)]
    linked = [
        i["external_id"] for d in docs for i in d.get("identities", []) if i["channel"] == "twitter"
    ]
    token = secrets.token_urlsafe(24)
    rounds: list[tuple[int, float, float]] = []
    with tempfile.TemporaryDirectory(prefix="socialid-bench-") as tmp:
        settings_env = {
            "SOCIALID_DATA_DIR": tmp,
            "SOCIALID_TWITTER_CONSUMER_SECRET": SECRET,  # logs at INFO, as deployed
            "SOCIALID_WORKER": "false",
        }
        cluster: LocalCluster | None = None
        if store == "cluster":
            cluster = LocalCluster(Path(tmp) / "cluster", appendonly=True)
            await asyncio.to_thread(cluster.start)
            settings_env |= {"SOCIALID_REDIS_URL": cluster.url, "SOCIALID_REDIS_CLUSTER": "true"}
            settings = settings.model_copy(update={"redis_cluster": True})
        serve: asyncio.subprocess.Process | None = None
        try:
            for round_, count in enumerate(processes):
                if serve is not None:
                    serve.terminate()
                    await serve.wait()
                env = serve_env(free_port(), token, count, settings_env)
                serve = await start_serve(env)
                connector = aiohttp.TCPConnector(limit=concurrency * 2)
                async with aiohttp.ClientSession(
                    f"http://127.0.0.1:{env['SOCIALID_PORT']}",
                    headers={"Authorization": f"Bearer {token}"},
                    connector=connector,
                ) as http:
                    await wait_ready(http, serve, count)
                    if round_ == 0:
                        await _import(http, docs)
                        print(f"{customers:,} customers, {len(linked):,} with a linked X identity")
                    items = _deliveries(round_ * burst, burst, linked)
                    accepted = await _accept(http, serve.pid, items, concurrency, count)
                    rounds.append((count, *accepted))
                    if round_ == len(processes) - 1:
                        print_gains("deliveries/s", rounds)
                        paced = _deliveries(len(processes) * burst, int(rate * seconds), linked)
                        backlog = len(processes) * burst
                        await _drain_and_sustain(
                            settings, http, env, _nodes(Path(tmp), cluster), backlog, paced, rate
                        )
        finally:
            if serve is not None and serve.returncode is None:
                serve.terminate()
                await serve.wait()
            if cluster is not None:
                await asyncio.to_thread(cluster.stop)
    return 0


def _nodes(data_dir: Path, cluster: LocalCluster | None) -> dict[str, str]:
    """The store's servers by what they hold: the embedded one, or each cluster node
    (the desk's and ingestion's named)."""
    if cluster is None:
        return {"store": _store_url(data_dir)}
    keys = KeySchema()
    homes = {
        cluster.node_of(keys.conversation("x")): "desk",
        cluster.node_of(keys.ingest_stream()): "ingest",
    }
    names: dict[int, list[str]] = {}
    for home_port, home in homes.items():
        names.setdefault(home_port, []).append(home)
    return {
        f"node {i + 1}" + (f" ({', '.join(names[port])})" if port in names else ""): (
            f"redis://127.0.0.1:{port}"
        )
        for i, port in enumerate(cluster.ports)
    }


async def _import(http: aiohttp.ClientSession, docs: list[dict[str, object]]) -> None:
    body = b"\n".join(json.dumps(d).encode() for d in docs)
    ndjson = {"Content-Type": "application/x-ndjson"}
    async with http.post("/v1/import/customers", data=body, headers=ndjson) as resp:
        resp.raise_for_status()


async def _accept(
    http: aiohttp.ClientSession,
    serve: int,
    items: list[tuple[bytes, dict[str, str]]],
    concurrency: int,
    processes: int,
) -> tuple[float, float]:
    ceiling, ceiling_cpu, ceiling_client, ceiling_machine = await _ceiling(
        items, concurrency, processes
    )
    cpu = service_cpu_seconds(serve)
    accept_rate, client, machine = await _loaded(_burst(http, items, concurrency))
    per_cpu = len(items) / max(service_cpu_seconds(serve) - cpu, 1e-9)
    print(
        f"{processes} serve process(es): {len(items):,} signed deliveries, {concurrency} "
        f"concurrent, accepted at {accept_rate:,.0f}/s (worker off), {per_cpu:,.0f} per "
        f"CPU-second of serve, client busy {client:.0%}, machine {machine:.0%}; ceiling "
        f"(bare aiohttp, {processes} process(es)): {ceiling:,.0f}/s, {ceiling_cpu:,.0f} per "
        f"CPU-second, client busy {ceiling_client:.0%}, machine {ceiling_machine:.0%}"
    )
    return accept_rate, ceiling


async def _drain_and_sustain(
    settings: Settings,
    http: aiohttp.ClientSession,
    env: dict[str, str],
    nodes: dict[str, str],
    backlog: int,
    paced: list[tuple[bytes, dict[str, str]]],
    rate: int,
) -> None:
    quiet = asyncio.subprocess.DEVNULL
    before_cpu = await _store_cpu(nodes)
    worker = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "service", "worker", env=env, stderr=quiet
    )
    client = redis_client(next(iter(nodes.values())), settings)
    keys = KeySchema()
    try:
        drained = time.perf_counter()
        while await client.xlen(keys.ingest_stream()):  # noqa: ASYNC110 - polls another process
            await asyncio.sleep(0.05)
        drain_rate = backlog / (time.perf_counter() - drained)
        per_cpu = backlog / max(cpu_seconds(worker.pid), 1e-9)
        store_cpu = await _store_cpu(nodes)
        print(
            f"worker: the {backlog:,} backlog processed at {drain_rate:,.0f} messages/s; "
            f"{per_cpu:,.0f} per CPU-second of the worker process (start-up included); "
            "store CPU per message: "
            + ", ".join(
                f"{name} {(store_cpu[name] - before_cpu[name]) / backlog * 1e6:,.0f} us"
                for name in nodes
            )
        )
        # The pre-built deliveries stay out of this client's garbage collection:
        # a collection pass over them would stall the sending, then burst it.
        gc.freeze()
        before = await _persistence(client)
        acked, sent_rate = await _paced(http, paced, rate)
        after = await _persistence(client)
        delays = await _delays(client, keys, acked)
    finally:
        await client.aclose()
        worker.terminate()
        await worker.wait()
    seconds = len(paced) / rate
    print(
        f"sustained {sent_rate:,.0f} deliveries/s for {seconds:.0f} s: acknowledgement to "
        f"resolved message p50 {percentile(delays, 0.5) * 1000:.1f} ms, "
        f"p99 {percentile(delays, 0.99) * 1000:.1f} ms, max {delays[-1] * 1000:.1f} ms"
    )
    # A rewrite of the append-only file forks the store, and the child takes a core for
    # a moment: on a small machine that is what the tail of the delays is made of.
    if len(nodes) > 1:
        return  # a cluster's rewrites are per node: INFO of one says little
    rewrites = after["aof_rewrites"] - before["aof_rewrites"]
    fork = f" (the last fork took {after['latest_fork_usec'] / 1000:.1f} ms)" if rewrites else ""
    print(
        f"store: {rewrites} rewrite(s) of its append-only file during those {seconds:.0f} s{fork}"
    )


async def _persistence(client: Redis) -> dict[str, int]:
    info = {**await client.info("persistence"), **await client.info("stats")}
    names = ("aof_rewrites", "latest_fork_usec")
    return {name: int(info.get(name, 0)) for name in names}


async def _store_cpu(nodes: dict[str, str]) -> dict[str, float]:
    """CPU seconds (user and system) each server has used since it started."""
    used = {}
    for name, url in nodes.items():
        node = Redis.from_url(url)
        try:
            info = await node.info("cpu")
        finally:
            await node.aclose()
        used[name] = float(info["used_cpu_user"]) + float(info["used_cpu_sys"])
    return used


def _store_url(data_dir: Path) -> str:
    url = running_server_url(data_dir)
    if url is None:
        raise RuntimeError("the service's embedded store is not answering")
    return url


async def _delays(client: Redis, keys: KeySchema, acked: dict[str, float]) -> list[float]:
    ids = list(acked)
    deadline = time.monotonic() + 60
    done: dict[str, float] = {}
    while len(done) < len(ids) and time.monotonic() < deadline:
        missing = [i for i in ids if i not in done]
        raws = await get_many(client, [keys.message(i) for i in missing])
        for message_id, raw in zip(missing, raws, strict=True):
            if raw is not None:
                processed = datetime.fromisoformat(json.loads(raw)["processed_at"])
                done[message_id] = processed.timestamp()
        await asyncio.sleep(0.1)
    if len(done) < len(ids):
        raise RuntimeError(f"{len(ids) - len(done)} messages were not processed in 60 s")
    return sorted(max(0.0, done[i] - acked[i]) for i in ids)
