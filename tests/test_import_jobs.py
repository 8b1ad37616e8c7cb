"""``socialid import customers --jobs N``: the same outcome as one job, from the CLI."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis

from service.bench.synthetic import book
from service.store.keynames import KeySchema
from service.store.reads import get_many
from tests.helpers import command_env
from tests.test_import import snapshot

pytestmark = pytest.mark.cluster


def _env(redis_url: str, key_prefix: str) -> dict[str, str]:
    return command_env(redis_url, key_prefix)


def _import(redis_url: str, key_prefix: str, path: Path, *args: str) -> tuple[int, str]:
    result = subprocess.run(
        [sys.executable, "-m", "service", "import", "customers", str(path), *args],
        env=_env(redis_url, key_prefix),
        capture_output=True,
        timeout=300,
        check=False,
    )
    return result.returncode, result.stdout.decode()


def _start_import(redis_url: str, key_prefix: str, path: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "service", "import", "customers", str(path), "--jobs", "2"],
        env=_env(redis_url, key_prefix),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,  # Ctrl-C reaches the whole group, the jobs included
    )


def _timeless(out: str) -> str:
    return re.sub(r" in [0-9.]+s \([0-9,]+/s\)", "", out)


def _book_file(path: Path, customers: int, extra: dict[int, bytes] | None = None) -> Path:
    """The synthetic book, with ``extra`` lines put in before the given line numbers."""
    lines = list(book(customers))
    for number, line in sorted((extra or {}).items()):
        lines.insert(number - 1, line)
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


async def _record(redis: aioredis.Redis, keys: KeySchema, customer_id: str) -> Any:
    raw = await redis.get(keys.customer(customer_id))
    assert raw is not None
    return json.loads(raw)


async def _state(redis: aioredis.Redis, keys: KeySchema) -> dict[str, Any]:
    """What an import leaves under the prefix, named without it. The audit pseudonyms are
    random for each new customer, so the trail is compared by what it says, in order."""
    everything = await snapshot(redis, keys)
    trail = everything.pop(keys.audit(), [])
    state = {
        key.removeprefix(keys.prefix): value
        for key, value in everything.items()
        if not key.endswith((":subj", ":aud"))
    }
    state["audit"] = [(e["action"], e.get("detail")) for e in trail]
    return state


async def test_two_jobs_store_what_one_job_stores(
    redis: aioredis.Redis, redis_url: str, keys: KeySchema, tmp_path: Path
) -> None:
    moved = {"channel": "twitter", "external_id": "moved-1"}
    path = _book_file(
        tmp_path / "book.ndjson",
        1200,
        {
            # An identity claimed (line 500) before the customer holding it releases it
            # (line 1100): the claim waits for the end of the file, and then succeeds.
            40: json.dumps({"id": "M-1", "identities": [moved]}).encode(),
            500: json.dumps({"id": "M-2", "identities": [moved]}).encode(),
            1100: json.dumps({"id": "M-1", "given_name": "Released"}).encode(),
            1150: b'{"id": "B-1", "nickname": "x"}',
        },
    )
    one, two = keys, KeySchema(keys.prefix + "j2")
    try:
        assert _import(redis_url, one.prefix, path, "--jobs", "1")[0] == 1
        assert _import(redis_url, two.prefix, path, "--jobs", "2")[0] == 1
        first, second = await _state(redis, one), await _state(redis, two)
        assert sum(key.endswith(":doc") for key in first) == 1202
        assert sum(key.endswith(":idn") for key in first) > 100  # identity links too
        assert second == first
        assert json.loads(first[":{c:M-2}:doc"])["identities"][0]["external_id"] == "moved-1"
    finally:
        leftovers = [k async for k in redis.scan_iter(match=two.everything(), count=500)]
        if leftovers:
            await redis.unlink(*leftovers)


async def test_the_last_line_of_an_id_wins_however_far_apart(
    redis: aioredis.Redis, redis_url: str, keys: KeySchema, tmp_path: Path
) -> None:
    # Lines 2 and 1400 are in different chunks, prepared by different processes; the
    # later chunk may be ready first.
    path = _book_file(
        tmp_path / "book.ndjson",
        1500,
        {
            2: b'{"id": "D-1", "given_name": "First", "phones": ["07700 900123"]}',
            1400: b'{"id": "D-1", "given_name": "Last", "emails": ["last@example.com"]}',
            1402: b'{"id": "D-2", "given_name": "Early"}',
            1504: b'{"id": "D-2", "given_name": "Late"}',  # the file's last line
        },
    )
    code, out = _import(redis_url, keys.prefix, path, "--jobs", "2")
    assert code == 0, out
    assert "1504 lines, 1504 accepted, 0 rejected" in out
    d1 = await _record(redis, keys, "D-1")
    assert (d1["given_name"], d1["emails"], d1.get("phones")) == (
        "Last",
        ["last@example.com"],
        None,
    )
    assert (await _record(redis, keys, "D-2"))["given_name"] == "Late"


async def test_bad_lines_are_reported_as_one_job_reports_them(
    redis: aioredis.Redis, redis_url: str, keys: KeySchema, tmp_path: Path
) -> None:
    bad = {
        3: b"{not json",
        260: b'{"id": "B-1", "nickname": "x"}',
        261: b"",  # blank: neither counted nor rejected
        600: b'{"given_name": "no id"}',
        601: b'{"id": "B-2", "date_of_birth": "1990-13-45"}',  # kept as given: accepted
        777: json.dumps({"id": "B-3", "name": "x" * (2 * 1024 * 1024)}).encode(),
    }
    path = _book_file(tmp_path / "book.ndjson", 800, bad)
    code, out = _import(redis_url, keys.prefix, path, "--jobs", "2")
    assert code == 1
    summary, *reported = out.splitlines()
    assert summary.startswith("customers: 806 lines, 801 accepted, 4 rejected")
    assert [line.split(":")[0] for line in reported] == [
        "  line 3",
        "  line 260",
        "  line 600",
        "  line 777",
    ]
    assert await redis.get(keys.customer("B-2")) is not None
    # One job, on the same file (all updates now): the same report, word for word.
    code_one, out_one = _import(redis_url, keys.prefix, path, "--jobs", "1")
    assert (code_one, _timeless(out_one)) == (code, _timeless(out))


async def test_a_broken_byte_stops_two_jobs_where_it_stops_one(
    redis: aioredis.Redis, redis_url: str, keys: KeySchema, tmp_path: Path
) -> None:
    rows = "".join(f"C-{i},Dana\n" for i in range(1, 600))
    path = tmp_path / "book.csv"
    path.write_bytes(f"id,given_name\n{rows}".encode() + b"C-600,\xff\nC-601,Eve\n")
    code, out = _import(redis_url, keys.prefix, path, "--jobs", "2")
    assert code == 2
    assert "599 accepted" in out
    assert "stopped early at line 601: not UTF-8" in out
    assert await redis.get(keys.customer("C-599")) is not None
    assert await redis.get(keys.customer("C-601")) is None
    code_one, out_one = _import(redis_url, keys.prefix, path, "--jobs", "1")
    assert (code_one, _timeless(out_one)) == (code, _timeless(out))


async def test_an_interrupted_import_with_two_jobs_resumes_to_everything(
    redis: aioredis.Redis, redis_url: str, keys: KeySchema, tmp_path: Path
) -> None:
    customers = 12_000
    path = _book_file(tmp_path / "book.ndjson", customers)
    ids = [json.loads(line)["id"] for line in book(customers)]

    async def stored() -> set[str]:
        docs = await get_many(redis, [keys.customer(cid) for cid in ids])
        return {cid for cid, doc in zip(ids, docs, strict=True) if doc is not None}

    proc = _start_import(redis_url, keys.prefix, path)
    deadline = time.monotonic() + 120
    while int(await redis.get(keys.customer_count()) or 0) < 1000:  # a cheap read
        assert time.monotonic() < deadline
        assert proc.poll() is None
        await asyncio.sleep(0.02)
    # One Ctrl-C stops it (it used to be lost now and then when it landed while a write
    # was running, and the import ran on to the end, exit 0).
    os.killpg(proc.pid, signal.SIGINT)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 130
    resume = int(out.decode().rsplit("--from-line ", 1)[1])
    done = await stored()
    assert len(done) < customers  # stopped part-way
    assert set(ids[: resume - 1]) <= done  # every line before the resume point is written
    code, resumed = _import(redis_url, keys.prefix, path, "--jobs", "2", "--from-line", str(resume))
    assert code == 0, resumed
    assert f"{customers - resume + 1} accepted" in resumed
    assert await stored() == set(ids)


def test_jobs_is_a_count_of_processes_and_zero_is_one_per_cpu(
    redis_url: str, key_prefix: str, tmp_path: Path
) -> None:
    path = _book_file(tmp_path / "book.ndjson", 300)
    refused = subprocess.run(
        [sys.executable, "-m", "service", "import", "customers", str(path), "--jobs", "-1"],
        env=_env(redis_url, key_prefix),
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert refused.returncode == 2
    assert "not a number of processes: '-1'" in refused.stderr.decode()
    code, out = _import(redis_url, key_prefix, path, "--jobs", "0")
    assert code == 0
    assert "300 lines, 300 accepted" in out
