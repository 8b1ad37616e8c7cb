"""Writing customers: a put is a sequence of steps, each in one home (docs/cluster.md).

1. The identities the new record owns are claimed (``claim_identity.lua``, in each
   identity's home): one another customer holds refuses the put, and nothing of it is written.
2. The record and its index list are written in the customer's home, which keeps the
   list they replace as pending work (``put_record.lua``).
3. The blocking buckets move from the old entries to the new (``index_apply.lua``, per
   bucket, in the batch's order), identities the record dropped are released, and the
   links made and removed are audited.
4. The pending work is cleared (``put_done.lua``).

A put that stops after step 2 leaves its pending work in the customer's home; the next
put of that customer does it again (every change to a bucket is idempotent), as do a
reindex and an import's resume. Until then the customer may be missing from a bucket (a
suggestion not made) or listed in one they left (read as nothing: candidates are scored
from their own home's profile).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import redis.asyncio as aioredis
from redis.asyncio.cluster import RedisCluster
from redis.crc import key_slot

from service.book.audit import Action, AuditLog
from service.book.blocking import COUNTED_KINDS, index_kind, index_location
from service.book.indexing import OWNED_MARK
from service.book.writes import (
    IdentityConflict,
    PreconditionFailed,
    Prepared,
    PutResult,
    Refused,
)
from service.store.keynames import KeySchema
from service.store.lua import Arg, load_script, run_pipelined
from service.store.redistypes import text, text_or_none

_PENDING_MARK = "="


class BucketChanges:
    """Changes to blocking buckets, in order, as ``index_apply.lua`` calls: one for all of
    them on one server, one per slot on a cluster."""

    def __init__(self, keys: KeySchema, cluster: bool) -> None:
        self._keys = keys
        self._cluster = cluster
        self._calls: dict[int, tuple[list[str], list[Arg]]] = {}

    def add(self, change: str, entry: str, value: str | int) -> None:
        """``change`` "+" or "-" (``value`` an id) or "#" (``value`` an amount)."""
        bucket, field, spill = index_location(self._keys, entry)
        slot = key_slot(bucket.encode()) if self._cluster else 0
        call = self._calls.get(slot)
        if call is None:
            call = self._calls[slot] = ([], [])
        call[0].extend((bucket, spill))
        call[1].extend((change, field, value))

    def calls(self) -> list[tuple[list[str], list[Arg]]]:
        return list(self._calls.values())


def split_list(index: str) -> tuple[list[str], list[str]]:
    """The entries and the owned identities of an index list (below its profile line)."""
    if not index:
        return [], []
    lines = index.split("\n")[1:]
    if OWNED_MARK in lines:
        at = lines.index(OWNED_MARK)
        return lines[:at], lines[at + 1 :]
    return lines, []


def pending_lists(pending: str) -> list[str]:
    """The index lists a customer's pending work names, oldest first."""
    lists: list[list[str]] = []
    for line in pending.split("\n"):
        if line == _PENDING_MARK:
            lists.append([])
        elif lists and line:
            lists[-1].append(line)
    return ["\n".join(lines) for lines in lists]


class _Moves:
    """The bucket changes and releases of a batch's puts, in order, grouped by home."""

    def __init__(self, keys: KeySchema, cluster: bool) -> None:
        self._keys = keys
        self.buckets = BucketChanges(keys, cluster)
        self.counts: dict[str, int] = defaultdict(int)
        self.releases: list[tuple[str, str]] = []
        self._seen: dict[str, int] = {}  # customer -> pending lists handled in the batch

    def _listed(self, change: str, entry: str, customer_id: str) -> None:
        self.buckets.add(change, entry, customer_id)

    def put(self, customer_id: str, new: str, old: str, pending: str) -> None:
        new_entries, new_owned = split_list(new)
        old_entries, old_owned = split_list(old)
        earlier = [split_list(listed) for listed in pending_lists(pending)]
        # Every list named as pending (the one just replaced among them), so that what
        # a put that stopped half-way left behind goes too.
        gone = {e for entries, _ in earlier for e in entries} | set(old_entries)
        kept = set(new_entries)
        for entry in sorted(gone - kept):
            if index_kind(entry) not in COUNTED_KINDS:
                self._listed("-", entry, customer_id)
        # Work a put before this one left unfinished: the lists it names before the
        # one this put replaced (all of them when this put replaced nothing new).
        # A put of this customer earlier in the batch finishes the lists it was given.
        handled = self._seen.get(customer_id, 0)
        self._seen[customer_id] = len(earlier)
        unfinished = earlier[handled : -1 if old != new else None]
        # Adds are idempotent: all of them again when earlier work may be unfinished.
        have = set() if unfinished else set(old_entries)
        for entry in new_entries:
            if entry not in have and index_kind(entry) not in COUNTED_KINDS:
                self._listed("+", entry, customer_id)
        # Counters are not idempotent: they move from the last list they counted (the
        # oldest unfinished one, which a put that stopped before its buckets left).
        counted = set(unfinished[0][0]) if unfinished else set(old_entries)
        for entry in counted - kept:
            if index_kind(entry) in COUNTED_KINDS:
                self._count(entry, -1)
        for entry in kept - counted:
            if index_kind(entry) in COUNTED_KINDS:
                self._count(entry, 1)
        owned = set(new_owned)
        for suffix in sorted(({s for _, o in earlier for s in o} | set(old_owned)) - owned):
            self.releases.append((suffix, customer_id))

    def _count(self, entry: str, change: int) -> None:
        self.counts[entry] += change

    def calls(self) -> list[tuple[str, list[str], list[Arg]]]:
        """(script, KEYS, ARGV) per bucket with changes, then per release."""
        for entry, change in self.counts.items():
            if change:
                self.buckets.add("#", entry, change)
        out: list[tuple[str, list[str], list[Arg]]] = [
            ("index", keys, args) for keys, args in self.buckets.calls()
        ]
        for suffix, customer_id in self.releases:
            out.append(
                (
                    "release",
                    [self._keys.identity_of(suffix), self._keys.identity_link_of(suffix)],
                    [customer_id],
                )
            )
        return out


class Putter:
    def __init__(self, redis: aioredis.Redis, keys: KeySchema, audit: AuditLog) -> None:
        self._redis = redis
        self._keys = keys
        self._audit = audit
        self._record = load_script(redis, "service.book", "put_record.lua")
        self._done = load_script(redis, "service.book", "put_done.lua")
        self._claim_script = load_script(redis, "service.book", "claim_identity.lua")
        self._scripts = {
            "index": load_script(redis, "service.book", "index_apply.lua"),
            "release": load_script(redis, "service.book", "release_identity.lua"),
        }

    async def put(
        self, puts: Sequence[Prepared], expected: Sequence[str], *, actor: str
    ) -> list[PutResult | Refused]:
        """Each put in order (a batch may name a customer twice: the last one wins).
        ``expected``: each put's condition ("" none, "-" absent, "*" present, an etag)."""
        keys = self._keys
        outcomes: list[PutResult | Refused | None] = [None] * len(puts)
        claimed = await self._claim(puts, outcomes)
        live = [i for i, outcome in enumerate(outcomes) if outcome is None]
        replies = await run_pipelined(
            self._redis,
            [
                (
                    self._record,
                    [
                        keys.customer(puts[i].customer_id),
                        keys.customer_index(puts[i].customer_id),
                        keys.customer_pending(puts[i].customer_id),
                    ],
                    [expected[i], puts[i].doc, puts[i].index_list],
                )
                for i in live
            ],
        )
        moves = _Moves(keys, isinstance(self._redis, RedisCluster))
        done: list[tuple[str, str]] = []
        audits: list[Action] = []
        created = 0
        for i, reply in zip(live, replies, strict=True):
            put, status = puts[i], text(reply[0])
            if status == "precondition":
                outcomes[i] = PreconditionFailed()
                for suffix in claimed[i]:
                    moves.releases.append((suffix, put.customer_id))
                continue
            old, pending = text(reply[2]), text(reply[3])
            outcomes[i] = PutResult(status == "created", text(reply[1]))
            created += status == "created"
            if pending:
                moves.put(put.customer_id, put.index_list, old, pending)
                done.append((put.customer_id, pending))
            audits += _link_audits(put.customer_id, put.index_list, old, actor)
        self._release_refused(claimed, outcomes, puts, moves)
        await run_pipelined(
            self._redis, [(self._scripts[name], k, a) for name, k, a in moves.calls()]
        )
        if audits:
            await self._audit.record_many(audits)
        await run_pipelined(
            self._redis,
            [(self._done, [keys.customer_pending(cid)], [pending]) for cid, pending in done],
        )
        if created:
            await self._redis.incrby(keys.customer_count(), created)
        return [outcome for outcome in outcomes if outcome is not None]

    async def _claim(
        self, puts: Sequence[Prepared], outcomes: list[PutResult | Refused | None]
    ) -> dict[int, list[str]]:
        """Claim every identity the puts' records own; a put whose identity another
        customer holds is refused. Answers the identities each put claimed anew."""
        wanted = [(i, s) for i, put in enumerate(puts) for s in split_list(put.index_list)[1]]
        claimed: dict[int, list[str]] = defaultdict(list)
        if not wanted:
            return claimed
        owners = await run_pipelined(
            self._redis,
            [
                (self._claim_script, [self._keys.identity_of(suffix)], [puts[i].customer_id])
                for i, suffix in wanted
            ],
        )
        for (i, suffix), owner in zip(wanted, owners, strict=True):
            holder = text_or_none(owner)
            if holder is None:
                claimed[i].append(suffix)
            elif holder != puts[i].customer_id and outcomes[i] is None:
                outcomes[i] = IdentityConflict(suffix.split(":", 1)[0], holder)
        return claimed

    @staticmethod
    def _release_refused(
        claimed: dict[int, list[str]],
        outcomes: list[PutResult | Refused | None],
        puts: Sequence[Prepared],
        moves: _Moves,
    ) -> None:
        for i, suffixes in claimed.items():
            if isinstance(outcomes[i], IdentityConflict):
                moves.releases += [(s, puts[i].customer_id) for s in suffixes]


def _link_audits(customer_id: str, new: str, old: str, actor: str) -> list[Action]:
    """The identity links a put made and removed, as audit entries (channels only: an
    entry must not itself lead to a person once they are erased)."""
    now_owned, was_owned = set(split_list(new)[1]), set(split_list(old)[1])
    out = []
    for action, suffixes in (
        ("identity_linked", now_owned - was_owned),
        ("identity_unlinked", was_owned - now_owned),
    ):
        if suffixes:
            channels = sorted(s.split(":", 1)[0] for s in suffixes)
            out.append(Action(action, customer_id, actor, {"channels": channels}))
    return out
