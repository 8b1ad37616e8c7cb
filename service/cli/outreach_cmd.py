"""``socialid outreach check --kind KIND FILE``: a campaign's list of customer ids split
into the ones that may be contacted and the ones that may not, with the reasons.

FILE is a CSV with a ``customer_id`` column (or one id per line, no header). Beside it,
or in ``--out-dir``, go ``<name>.allowed.csv`` (the ids) and ``<name>.blocked.csv``
(each id with its reasons' codes, words and events), in the order of FILE.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import time
from collections import Counter
from pathlib import Path
from typing import get_args

from pydantic import TypeAdapter, ValidationError

from service.schemas import CustomerId
from service.schemas.outreach import MAX_IDS, OutreachKind, OutreachVerdict
from service.settings import Settings
from service.store.client import cli_redis
from service.wiring import build_stores

_ID: TypeAdapter[str] = TypeAdapter(CustomerId)


class BadIdFile(ValueError):
    pass


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    outreach = sub.add_parser("outreach", help="may a campaign contact these customers?")
    osub = outreach.add_subparsers(dest="outreach_command", required=True)
    check = osub.add_parser("check", help="split a CSV of customer ids into allowed and blocked")
    check.add_argument("--kind", required=True, choices=get_args(OutreachKind))
    check.add_argument("file", type=Path, help="CSV with a customer_id column, or one id a line")
    check.add_argument("--out-dir", type=Path, help="where the two files go (default: FILE's)")


def read_ids(path: Path) -> list[str]:
    with path.open(newline="", encoding="utf-8-sig") as f:
        rows = [(n, row) for n, row in enumerate(csv.reader(f), start=1) if "".join(row).strip()]
    if rows and "customer_id" in rows[0][1]:
        column = rows[0][1].index("customer_id")
        rows = rows[1:]
    else:
        column = 0  # no header: one id a line
    ids = []
    for number, row in rows:
        try:
            ids.append(_ID.validate_python(row[column].strip()))
        except (IndexError, ValidationError):
            raise BadIdFile(f"{path}: line {number} holds no customer id") from None
    return ids


async def check_all(
    settings: Settings, kind: OutreachKind, ids: list[str]
) -> list[OutreachVerdict]:
    verdicts: list[OutreachVerdict] = []
    async with cli_redis(settings) as client:
        checker = build_stores(client, settings).outreach
        for at in range(0, len(ids), MAX_IDS):
            verdicts += (await checker.check(kind, ids[at : at + MAX_IDS])).results
    return verdicts


def run_check(settings: Settings, args: argparse.Namespace) -> int:
    source: Path = args.file
    out_dir: Path = args.out_dir or source.parent
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = source.name.removesuffix(".csv")
    allowed_path, blocked_path = out_dir / f"{stem}.allowed.csv", out_dir / f"{stem}.blocked.csv"
    ids = read_ids(source)
    started = time.perf_counter()
    verdicts = asyncio.run(check_all(settings, args.kind, ids))
    seconds = time.perf_counter() - started
    counts: Counter[str] = Counter()
    with (
        allowed_path.open("w", newline="") as allowed_file,
        blocked_path.open("w", newline="") as blocked_file,
    ):
        allow, block = csv.writer(allowed_file), csv.writer(blocked_file)
        allow.writerow(["customer_id"])
        block.writerow(["customer_id", "codes", "reasons", "event_ids"])
        for r in verdicts:
            if r.decision == "allowed":
                allow.writerow([r.customer_id])
                continue
            counts.update(x.code for x in r.reasons)
            block.writerow(
                [
                    r.customer_id,
                    " ".join(x.code for x in r.reasons),
                    " | ".join(x.reason for x in r.reasons),
                    " ".join(e for x in r.reasons for e in x.event_ids),
                ]
            )
    blocked = sum(1 for r in verdicts if r.decision == "blocked")
    rate = len(ids) / seconds if seconds else 0.0
    print(
        f"{args.kind}: checked {len(ids):,} in {seconds:,.2f} s ({rate:,.0f}/s): "
        f"{len(ids) - blocked:,} allowed -> {allowed_path}, {blocked:,} blocked -> {blocked_path}"
    )
    for code, n in counts.most_common():
        print(f"  {code}: {n:,}")
    return 0
