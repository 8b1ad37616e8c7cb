"""Customer documents and the index entries that lead to them, in Redis.

Every write goes through one Lua script that checks the document has not changed since
it was read (its etag), refuses to take over an identity linked to someone else, and
moves index entries with the document; so the index never points at a stale record.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from itertools import chain
from typing import Any

import redis.asyncio as aioredis
from pydantic import BaseModel, Field

from service.indexing import (
    index_record,
    owned_keys,
    owned_keys_of_raw,
    recorded_entries,
    set_entries,
)
from service.keyschema import COUNTED_KINDS, KeySchema
from service.models import Customer, StoreIntegrityError, lenient_customer, read_stored
from service.redistypes import text, text_or_none, texts
from service.scripts import ERASE_CUSTOMER, PUT_CUSTOMERS

_RETRIES = 8


class IdentityConflict(Exception):
    """An identity in the document is already linked to another customer."""

    def __init__(self, channel: str, other_customer: str) -> None:
        super().__init__(f"its {channel} identity is linked to another customer")
        self.channel = channel
        self.other_customer = other_customer


class PreconditionFailed(Exception):
    """If-Match did not match the stored document."""


class Contended(Exception):
    """The document kept changing under us; the caller may retry later."""


@dataclass(frozen=True, slots=True)
class PutResult:
    created: bool
    etag: str
    linked: tuple[str, ...] = ()
    unlinked: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Prepared:
    """What writing a customer needs that does not depend on what is stored: the bulk of
    the work (profile, index entries, serialised record), done before the write. The
    importer prepares a batch while the one before it is being written."""

    customer: Customer
    doc: str
    owned: list[str]
    entries: list[str]
    index: str


@dataclass(frozen=True, slots=True)
class _Call:
    """One customer's share of a PUT_CUSTOMERS script call."""

    keys: list[str]
    args: list[Any]
    linked: tuple[str, ...]
    unlinked: tuple[str, ...]


class Erasure(BaseModel):
    customer_id: str
    customers: int
    events: int
    identity_links: int
    index_entries: int
    messages: int = Field(default=0, description="Inbound messages resolved to them.")
    conversations: int = Field(default=0, description="Conversations that were theirs.")


def etag_of(raw: str | bytes) -> str:
    data = raw.encode() if isinstance(raw, str) else raw
    return hashlib.sha1(data, usedforsecurity=False).hexdigest()


def serialise(customer: Customer) -> str:
    return customer.model_dump_json(exclude_defaults=True)


class CustomerStore:
    def __init__(self, redis: aioredis.Redis, keys: KeySchema, region: str = "GB") -> None:
        self._redis = redis
        self._keys = keys
        self._region = region
        self._put_script = redis.register_script(PUT_CUSTOMERS)
        self._erase_script = redis.register_script(ERASE_CUSTOMER)

    async def get(self, customer_id: str) -> Customer | None:
        found = await self.get_with_etag(customer_id)
        return found[0] if found else None

    async def get_with_etag(self, customer_id: str) -> tuple[Customer, str] | None:
        raw = await self._redis.get(self._keys.customer(customer_id))
        return (read_stored(raw), etag_of(raw)) if raw is not None else None

    def prepare(self, customer: Customer) -> Prepared:
        entries, index = index_record(self._keys, customer, self._region)
        return Prepared(
            customer, serialise(customer), owned_keys(self._keys, customer), entries, index
        )

    def _put_call(self, put: Prepared, old_raw: str | None, old_index: str | None) -> _Call:
        customer, new_owned, new_entries = put.customer, put.owned, put.entries
        if old_raw is None and not old_index:
            # A new customer (most of a first import): nothing to compare with.
            old_owned: list[str] = []
            stale_owned: list[str] = []
            added, removed = new_entries, []
        else:
            # The old record's links need only its identities, not a full validation.
            old_owned = owned_keys_of_raw(self._keys, old_raw) if old_raw is not None else []
            # The entries written last time, as recorded; for a record written before
            # the list existed, what the record implies.
            if old_index:
                old_entries = recorded_entries(old_index)
            else:
                old = read_stored(old_raw) if old_raw is not None else None
                old_entries = set_entries(self._keys, old, self._region)
            stale_owned = sorted(set(old_owned) - set(new_owned))
            added = sorted(set(new_entries) - set(old_entries))
            removed = sorted(set(old_entries) - set(new_entries))
        entry_keys, entry_args = self._entries(added + removed)
        keys = [
            self._keys.customer(customer.id),
            self._keys.customer_index(customer.id),
            *new_owned,
            *(k for key in stale_owned for k in (key, self._keys.identity_link_of(key))),
            *entry_keys,
        ]
        args: list[Any] = [
            customer.id,
            put.doc,
            put.index,
            etag_of(old_raw) if old_raw is not None else "-",
            len(new_owned),
            len(stale_owned),
            len(added),
            len(removed),
            *entry_args,
        ]
        channel = self._keys.identity_channel
        return _Call(
            keys,
            args,
            linked=tuple(sorted(channel(k) for k in set(new_owned) - set(old_owned))),
            unlinked=tuple(sorted(channel(k) for k in stale_owned)),
        )

    async def _apply(self, calls: list[_Call]) -> list[Any]:
        """Run the put script once for the calls; one reply each, in order."""
        replies: list[Any] = await self._put_script(
            # chain() flattens in C: a batch of 500 carries some 20,000 keys and arguments.
            keys=[self._keys.customer_count(), *chain.from_iterable(c.keys for c in calls)],
            args=list(chain.from_iterable(c.args for c in calls)),
        )
        return replies

    def _entries(self, entries: list[str]) -> tuple[list[str], list[str]]:
        """Script KEYS (bucket, spill set) and ARGV (field, mode) for index entries."""
        keys: list[str] = []
        args: list[str] = []
        for entry in entries:
            bucket, field, spill = self._keys.index_location(entry)
            keys += (bucket, spill)
            args += (field, "c" if self._keys.index_kind(entry) in COUNTED_KINDS else "l")
        return keys, args

    def _outcome(self, reply: list[Any], call: _Call) -> PutResult | None:
        status = text(reply[0])
        if status == "precondition":
            return None
        if status == "conflict":
            key = text(reply[1])
            raise IdentityConflict(self._keys.identity_channel(key), text(reply[2]))
        return PutResult(
            created=status == "created",
            etag=text(reply[1]),
            linked=call.linked,
            unlinked=call.unlinked,
        )

    async def put(self, customer: Customer, if_match: str | None = None) -> PutResult:
        """Create or replace. ``if_match``: the etag the caller last saw ("*" any)."""
        return await self._put(self.prepare(customer), if_match)

    async def _put(self, put: Prepared, if_match: str | None = None) -> PutResult:
        customer = put.customer
        for _ in range(_RETRIES):
            old_raw, old_index = (
                text_or_none(v)
                for v in await self._redis.mget(
                    [self._keys.customer(customer.id), self._keys.customer_index(customer.id)]
                )
            )
            if if_match is not None and (
                old_raw is None or (if_match != "*" and etag_of(old_raw) != if_match)
            ):
                raise PreconditionFailed
            call = self._put_call(put, old_raw, old_index)
            [reply] = await self._apply([call])
            result = self._outcome(reply, call)
            if result is not None:
                return result
            if if_match is not None and if_match != "*":
                raise PreconditionFailed
        raise Contended

    async def put_many(self, puts: list[Prepared]) -> list[PutResult | Exception]:
        """Upsert a batch of prepared customers in two round trips (read, then one script
        call for all); a document that changed in between is retried on its own."""
        stored = await self._redis.mget(
            [
                k
                for p in puts
                for k in (
                    self._keys.customer(p.customer.id),
                    self._keys.customer_index(p.customer.id),
                )
            ]
        )
        calls = [
            self._put_call(put, text_or_none(old_raw), text_or_none(old_index))
            for put, old_raw, old_index in zip(puts, stored[0::2], stored[1::2], strict=True)
        ]
        replies = await self._apply(calls)
        results: list[PutResult | Exception] = []
        for put, call, reply in zip(puts, calls, replies, strict=True):
            try:
                result = self._outcome(reply, call)
                results.append(result if result is not None else await self._put(put))
            except (IdentityConflict, Contended) as exc:
                results.append(exc)
        return results

    async def reindex_many(self, customer_ids: list[str]) -> tuple[int, int]:
        """Write the index of each customer again from their stored record, as this
        release computes it (after an upgrade that changed the blocking values or the
        packed profile). A record that changed since it was read here, or that no longer
        validates, is left as it is: the former was indexed by its own write. Answers
        how many were rewritten and how many left."""
        stored = await self._redis.mget(
            [
                k
                for cid in customer_ids
                for k in (self._keys.customer(cid), self._keys.customer_index(cid))
            ]
        )
        calls: list[_Call] = []
        left = 0
        for raw, index in zip(stored[0::2], stored[1::2], strict=True):
            doc = text_or_none(raw)
            if doc is None:
                continue  # erased in between
            try:
                calls.append(
                    self._put_call(self.prepare(read_stored(doc)), doc, text_or_none(index))
                )
            except StoreIntegrityError:
                left += 1
        if not calls:
            return 0, left
        replies = await self._apply(calls)
        rewritten = 0
        for call, reply in zip(calls, replies, strict=True):
            try:
                done = self._outcome(reply, call) is not None
            except IdentityConflict:
                done = False
            rewritten += done
            left += not done
        return rewritten, left

    async def erase(self, customer_id: str) -> Erasure | None:
        """Remove the customer, their history and every index entry leading to them."""
        for _ in range(_RETRIES):
            raw, index = (
                text_or_none(v)
                for v in await self._redis.mget(
                    [self._keys.customer(customer_id), self._keys.customer_index(customer_id)]
                )
            )
            if raw is None:
                return None
            try:
                customer: Customer | None = read_stored(raw)
            except StoreIntegrityError:
                # Erasure must work on a record that no longer validates: read what can be.
                customer = lenient_customer(raw)
            owned = (
                owned_keys(self._keys, customer)
                if customer is not None
                else owned_keys_of_raw(self._keys, raw)
            )
            recorded = recorded_entries(index) if index else []
            implied = set_entries(self._keys, customer, self._region)
            # What was recorded and what the record implies today, so that nothing
            # leading to the person survives a change of code or settings. Counters hold
            # no ids: only those recorded as counting this customer are decremented.
            entries = sorted(
                set(recorded)
                | {e for e in implied if self._keys.index_kind(e) not in COUNTED_KINDS}
            )
            entry_keys, entry_args = self._entries(entries)
            linked_by_api = sorted(
                texts(await self._redis.smembers(self._keys.customer_identities(customer_id)))
            )
            keys = [
                *self._keys.customer_keys(customer_id),
                self._keys.customer_identities(customer_id),
                self._keys.customer_count(),
                *owned,
                *(k for member in linked_by_api for k in self._keys.identity_keys(member)),
                *entry_keys,
            ]
            reply = await self._erase_script(
                keys=keys,
                args=[customer_id, etag_of(raw), len(owned), len(linked_by_api), *entry_args],
            )
            status = text(reply[0])
            if status == "missing":
                return None
            if status == "erased":
                return Erasure(
                    customer_id=customer_id,
                    customers=int(reply[1]),
                    events=int(reply[2]),
                    identity_links=int(reply[3]),
                    index_entries=int(reply[4]),
                )
        raise Contended

    async def raw(self, customer_id: str) -> dict[str, Any] | None:
        """The stored document as it is, validated or not (data-subject export)."""
        raw = await self._redis.get(self._keys.customer(customer_id))
        if raw is None:
            return None
        doc: dict[str, Any] = json.loads(raw)
        return doc

    async def resolve_identity(self, channel: str, external_id: str) -> str | None:
        return text_or_none(await self._redis.get(self._keys.identity(channel, external_id)))
