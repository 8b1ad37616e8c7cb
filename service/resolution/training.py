"""``socialid train``: re-fit the model's m and u on the customer book.

A sample of the book gives random pairs (for u) and, through the same blocking index
that queries use, blocked pairs (for m by EM; see ``matchers.train``). The fitted
parameters are stored as a new version; they take effect only when activated, so that
a fit can be inspected (and compared with the shipped values) first.
"""

from __future__ import annotations

import random
import secrets
from datetime import UTC, datetime

import redis.asyncio as aioredis
from pydantic import BaseModel

from matchers.compare import Outcome, compare
from matchers.model import ModelParams
from matchers.train import FitReport, fit, patterns
from service.book.indexing import profile_of
from service.resolution.modelstore import ModelStore
from service.resolution.resolver import Resolver
from service.schemas import read_stored
from service.store.keynames import KeySchema
from service.store.reads import get_many
from service.store.redistypes import text


class Training(BaseModel):
    params: ModelParams
    report: FitReport
    sampled_customers: int
    activated: bool


async def sample_customers(
    redis: aioredis.Redis, keys: KeySchema, size: int, rng: random.Random
) -> list[str]:
    """A uniform sample of stored documents (reservoir over one SCAN of the book)."""
    pattern = keys.customer("*")
    sample: list[str] = []
    seen = 0
    async for key in redis.scan_iter(match=pattern, count=1000):
        seen += 1
        if len(sample) < size:
            sample.append(text(key))
        else:
            j = rng.randrange(seen)
            if j < size:
                sample[j] = text(key)
    docs = await get_many(redis, sample)
    return [text(d) for d in docs if d is not None]


async def train(
    redis: aioredis.Redis,
    keys: KeySchema,
    resolver: Resolver,
    models: ModelStore,
    *,
    region: str,
    sample_size: int = 5_000,
    random_pairs: int = 100_000,
    activate: bool = False,
    seed: int | None = None,
) -> Training:
    rng = random.Random(seed)  # noqa: S311 - sampling, not secrets
    docs = await sample_customers(redis, keys, sample_size, rng)
    profiles = [profile_of(read_stored(d), region) for d in docs]
    ids = [read_stored(d).id for d in docs]

    def random_pair() -> list[Outcome]:
        a, b = rng.sample(range(len(profiles)), 2)
        return compare(profiles[a], profiles[b])

    randoms = patterns(random_pair() for _ in range(random_pairs if len(profiles) > 1 else 0))
    blocked_pairs = []
    for cid, profile in zip(ids, profiles, strict=True):
        found = await resolver.fetch(profile)
        blocked_pairs += [compare(profile, other) for oid, other in found.candidates if oid != cid]
    start = await models.load(await models.active_version())
    # Unique even for two fits in one second: a version, once stored, never changes.
    version = f"fit-{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}-{secrets.token_hex(2)}"
    params, report = fit(randoms, patterns(blocked_pairs), start, version)
    await models.save(params)
    if activate:
        await models.activate(version)
    return Training(params=params, report=report, sampled_customers=len(docs), activated=activate)


def print_training(result: Training, shipped: ModelParams) -> None:
    report = result.report
    print(
        f"sampled {result.sampled_customers:,} customers: {report.random_pairs:,} random "
        f"pairs, {report.blocked_pairs:,} blocked pairs"
    )
    for session in report.sessions:
        verdict = "used" if session.used else f"not used: {session.why_not}"
        print(
            f"EM on pairs agreeing on {session.blocked_on}: {session.pairs:,} pairs, "
            f"{session.iterations} iterations, matches {session.match_share:.2%}; {verdict}"
        )
    print(f"{'field / level':<40} {'weight was':>10} {'now':>8} {'m':>9} {'u':>10}")
    for field, levels in result.params.levels.items():
        for level, now in levels.items():
            was = shipped.levels.get(field, {}).get(level)
            before = f"{was.weight:10.2f}" if was else f"{'-':>10}"
            mark = "  (kept)" if f"{field}/{level}" in report.kept else ""
            print(
                f"{field + ' / ' + level:<40} {before} {now.weight:8.2f} {now.m:9.4f} "
                f"{now.u:10.2e}{mark}"
            )
    version = result.params.version
    state = "active" if result.activated else f"stored; use: socialid model activate {version}"
    print(f"version {version}: {state}")
