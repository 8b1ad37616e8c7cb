"""``socialid reindex``: write every customer's matching index again from their record.

Run it after a change to how records are indexed (the blocking values, the packed
matching profile): until then each customer is found by the entries and scored from the
profile written with their record. It works from the records alone, without a
re-import, and the service may keep running meanwhile.
"""

from __future__ import annotations

import argparse
import time

from service.settings import Settings
from service.store.client import cli_redis
from service.store.redistypes import text
from service.wiring import build_stores

BATCH = 500


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sub.add_parser("reindex", help="write every customer's matching index again")


async def run_reindex(settings: Settings) -> int:
    async with cli_redis(settings) as client:
        stores = build_stores(client, settings)
        keys = stores.keys
        head, tail = keys.around_id(keys.customer)
        started = time.perf_counter()
        rewritten = left = 0
        batch: list[str] = []
        async for key in client.scan_iter(match=keys.customer("*"), count=1000):
            name = text(key)
            batch.append(name[len(head) : len(name) - len(tail)])
            if len(batch) >= BATCH:
                done, skipped = await stores.customers.reindex_many(batch)
                rewritten, left, batch = rewritten + done, left + skipped, []
        if batch:
            done, skipped = await stores.customers.reindex_many(batch)
            rewritten, left = rewritten + done, left + skipped
    seconds = time.perf_counter() - started
    print(f"reindexed {rewritten:,} customers in {seconds:,.1f} s")
    if left:
        print(
            f"left as they were: {left:,} (changed meanwhile, so indexed by that write; "
            "or a record that no longer validates)"
        )
    return 0
