"""The candidate fetch: the blocking buckets a query names, then each candidate's profile.

Buckets and customers live in homes of their own (docs/cluster.md), so the fetch is two
pipelined reads: one script call per bucket the query names (``bucket_reads.lua``),
then each candidate's index list, whose first line is their packed profile. On a
cluster each read goes to every node at once; on one server each is one round trip.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any, NamedTuple

import redis.asyncio as aioredis
from redis.exceptions import NoScriptError

from service.book.blocking import IDENTIFIER_VOTE, index_location, index_vote
from service.store.keynames import KeySchema
from service.store.lua import Arg, load_script
from service.store.redistypes import text, text_or_none


class Candidates(NamedTuple):
    customer_count: int
    identifier_cut: bool  # the total cap cut off a candidate an identifier found
    model_version: str  # "" for the shipped defaults
    name_counts: list[int]  # customers with each name counter's value, in the order asked
    skipped: list[str]  # fields of the entries too common to use
    candidates: list[tuple[str, str]]  # (customer id, packed profile), preferred first


class CandidateFetch:
    def __init__(self, redis: aioredis.Redis, keys: KeySchema) -> None:
        self._redis = redis
        self._keys = keys
        self._script = load_script(redis, "service.resolution", "bucket_reads.lua")

    async def fetch(
        self, entries: Sequence[str], counters: Sequence[str], *, entry_cap: int, total_cap: int
    ) -> Candidates:
        """``entries``: the query's blocking entries, in the order their candidates are
        preferred; ``counters``: the name counters whose counts to give."""
        keys = self._keys
        reads: dict[str, tuple[list[str], list[Arg], list[tuple[str, int]]]] = defaultdict(
            lambda: ([], [entry_cap], [])
        )
        for n, entry in enumerate((*entries, *counters)):
            bucket, field, spill = index_location(keys, entry)
            spills, args, places = reads[bucket]
            counter = n >= len(entries)
            spills.append(bucket if counter else spill)
            args += ("count" if counter else "ids", field)
            places.append((entry, n))
        count, version, *replies = await self._read(
            [keys.customer_count(), keys.model_active()],
            [[b, *spills] for b, (spills, _, _) in reads.items()],
            [args for _, args, _ in reads.values()],
        )
        answers: list[Any] = [None] * (len(entries) + len(counters))
        for (_, _, places), reply in zip(reads.values(), replies, strict=True):
            for (_, n), answer in zip(places, reply, strict=True):
                answers[n] = answer
        ids, votes, skipped = _votes(entries, answers[: len(entries)])
        ids, cut = _capped(ids, votes, total_cap)
        found = await self._profiles(ids)
        return Candidates(
            int(text_or_none(count) or 0),
            cut,
            text_or_none(version) or "",
            [int(n) for n in answers[len(entries) :]],
            skipped,
            found,
        )

    async def _read(
        self, gets: Sequence[str], keys: Sequence[list[str]], args: Sequence[list[Arg]]
    ) -> list[Any]:
        """The GETs and the bucket reads in one pipeline (one connection, one round trip
        per node). Read-only: a server that lost the script is given it and asked again."""
        for attempt in (1, 2):
            async with self._redis.pipeline(transaction=False) as pipe:
                for key in gets:
                    pipe.get(key)
                for call_keys, call_args in zip(keys, args, strict=True):
                    pipe.evalsha(self._script.sha, len(call_keys), *call_keys, *call_args)
                try:
                    return list(await pipe.execute())
                except NoScriptError:
                    if attempt == 2:
                        raise
            await self._redis.script_load(self._script.script)
        raise AssertionError("unreachable")

    async def _profiles(self, ids: Sequence[str]) -> list[tuple[str, str]]:
        """Each id's packed profile, the first line of their index list. An id listed
        without one (erased since, or half-way through a put) is not a candidate."""
        if not ids:
            return []
        async with self._redis.pipeline(transaction=False) as pipe:
            for cid in ids:
                pipe.get(self._keys.customer_index(cid))
            lists: list[Any] = await pipe.execute()
        return [
            (cid, text(index).partition("\n")[0])
            for cid, index in zip(ids, lists, strict=True)
            if index is not None
        ]


def _votes(
    entries: Sequence[str], answers: Sequence[Any]
) -> tuple[list[str], dict[str, int], list[str]]:
    """The ids found, in the order first found, their votes, and the fields skipped. An
    entry shared by more customers than the cap is skipped: one common value ("Smith")
    must not make a query score thousands of records."""
    ids: list[str] = []
    votes: dict[str, int] = {}
    skipped: list[str] = []
    for entry, answer in zip(entries, answers, strict=True):
        if isinstance(answer, (str, bytes)):  # "*": too common
            skipped.append(entry.partition(":")[2])
            continue
        vote = index_vote(entry)
        for raw in answer:
            cid = text(raw)
            if cid in votes:
                votes[cid] += vote
            else:
                ids.append(cid)
                votes[cid] = vote
    return ids, votes, skipped


def _capped(ids: list[str], votes: dict[str, int], cap: int) -> tuple[list[str], bool]:
    """Past the total cap, the candidates with the most votes are kept (an identifier's
    entry votes more than a name's; one found by name and by postcode has two votes),
    ties in blocking order: those cut off are the ones that agree on least. Only when one
    found by an identifier is cut could the cut have hidden a match."""
    if len(ids) <= cap:
        return ids, False
    ordered = sorted(ids, key=lambda cid: -votes[cid])  # stable: blocking order in a tie
    return ordered[:cap], votes[ordered[cap]] >= IDENTIFIER_VOTE
