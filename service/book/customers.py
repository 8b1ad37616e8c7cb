"""Customer documents and the index entries that lead to them, in Redis.

Every write goes through one Lua script that checks the document has not changed since
it was read (its etag), refuses to take over an identity linked to someone else, and
moves index entries with the document; so the index never points at a stale record.
"""

from __future__ import annotations

import hashlib
import json
from itertools import repeat
from typing import Any, NamedTuple

import redis.asyncio as aioredis
from pydantic import BaseModel, Field

from service.book.audit import MAX_ENTRIES, PER_CUSTOMER, now
from service.book.blocking import COUNTED_KINDS, index_kind, placement
from service.book.customerscripts import ERASE_CUSTOMER, PUT_CUSTOMERS
from service.book.indexing import (
    index_record,
    owned_identities,
    owned_identities_of_raw,
    previous_index,
    recorded_entries,
    records_owned,
    set_entries,
)
from service.errors import DomainError
from service.schemas import Customer, StoreIntegrityError, lenient_customer, read_stored
from service.store.keynames import KeySchema
from service.store.redistypes import text, text_or_none, texts

_RETRIES = 8


class IdentityConflict(DomainError):
    """An identity in the document is already linked to another customer."""

    status, slug = 409, "identity-conflict"

    def __init__(self, channel: str, other_customer: str) -> None:
        super().__init__(
            f"The {channel} identity in this document is linked to another customer; "
            "unlink it there first."
        )
        self.channel = channel
        self.other_customer = other_customer


class PreconditionFailed(DomainError):
    """If-Match did not match the stored document."""

    status, slug = 412, "precondition-failed"
    default_detail = "The customer changed since you read it (If-Match)."


class Contended(DomainError):
    """The document kept changing under us; the caller may retry later."""

    status, slug = 409, "contended"
    default_detail = "The record is being changed by someone else; retry."


class PutResult(NamedTuple):
    created: bool
    etag: str  # "" from put_many and reindex_many, which need none


# Shared: every result of a write without etags is one of these (named tuples are
# immutable).
_CREATED, _UPDATED = PutResult(True, ""), PutResult(False, "")


class Prepared(NamedTuple):
    """What writing a customer needs that does not depend on what is stored: the bulk of
    the work (profile, index entries, serialised record), done before the write. The
    importer prepares a batch while the one before it is being written. It holds no
    model: a batch of validated records kept alive until written would cost more to
    allocate than to serialise. A named tuple, as is PutResult: one of each is made
    per customer imported."""

    customer_id: str
    doc: str
    index_list: str


# What a write of one customer is conditional on: the etag expected ("" any, "-" must not
# exist, "*" must exist) and the index list to move from ("": the stored one).
_Condition = tuple[str, str]
_UNCONDITIONAL: _Condition = ("", "")


class Erasure(BaseModel):
    customer_id: str
    customers: int
    events: int
    identity_links: int
    index_entries: int
    messages: int = Field(default=0, description="Inbound messages resolved to them.")
    conversations: int = Field(default=0, description="Conversations that were theirs.")


def _expected(if_match: str | None) -> str:
    """The put script's condition for an If-Match value: none, any ("*"), or an etag. A
    value the script would read as another condition ("" any, "-" absent) can match no
    stored record, so it becomes one that cannot."""
    if if_match is None:
        return ""
    return "!" if if_match in ("", "-") else if_match


def etag_of(raw: str | bytes) -> str:
    data = raw.encode() if isinstance(raw, str) else raw
    return hashlib.sha1(data, usedforsecurity=False).hexdigest()


def serialise(customer: Customer) -> str:
    return customer.model_dump_json(exclude_defaults=True)


def prepare_many(keys: KeySchema, customers: list[Customer], region: str) -> list[Prepared]:
    """What writing each customer needs that does not depend on what is stored, a step
    at a time: each step's code stays in the processor's caches from one customer to
    the next. The importer validates a chunk of records, then prepares them: a sixth less
    time than taking each customer through every step in turn."""
    docs = [serialise(c) for c in customers]
    indexes = [index_record(keys, c, region) for c in customers]
    return [
        Prepared(c.id, doc, index) for c, doc, index in zip(customers, docs, indexes, strict=True)
    ]


class CustomerStore:
    def __init__(self, redis: aioredis.Redis, keys: KeySchema, region: str = "GB") -> None:
        self._redis = redis
        self._keys = keys
        self._region = region
        self._doc_key = keys.around_id(keys.customer)
        self._index_key = keys.around_id(keys.customer_index)
        self._header = [
            keys.identity_prefix(),
            keys.identity_link_prefix(),
            *placement(keys),
        ]
        self._audit_header: list[str | int] = [
            keys.audit(),
            *keys.around_id(keys.customer_audit),
            MAX_ENTRIES,
            PER_CUSTOMER,
        ]
        self._put_script = redis.register_script(PUT_CUSTOMERS)
        self._erase_script = redis.register_script(ERASE_CUSTOMER)

    async def get(self, customer_id: str) -> Customer | None:
        found = await self.get_with_etag(customer_id)
        return found[0] if found else None

    async def get_with_etag(self, customer_id: str) -> tuple[Customer, str] | None:
        raw = await self._redis.get(self._keys.customer(customer_id))
        return (read_stored(raw), etag_of(raw)) if raw is not None else None

    def prepare(self, customer: Customer) -> Prepared:
        [prepared] = prepare_many(self._keys, [customer], self._region)
        return prepared

    def prepare_many(self, customers: list[Customer]) -> list[Prepared]:
        return prepare_many(self._keys, customers, self._region)

    def _previous(self, old_raw: str | None, old_index: str | None) -> str:
        """The index list a write moves from, for a record whose stored list does not
        say which identities it owns: from the record, and the entries written last
        time as recorded or, before the list existed, as the record implies them."""
        if old_raw is None or records_owned(old_index):
            return ""
        if old_index:
            entries = recorded_entries(old_index)
        else:
            entries = set_entries(self._keys, read_stored(old_raw), self._region)
        return previous_index(entries, owned_identities_of_raw(old_raw))

    async def _apply(
        self,
        puts: list[Prepared],
        conditions: list[_Condition] | None = None,
        *,
        actor: str,
        etags: bool = True,
    ) -> list[Any]:
        """Run the put script once for the puts (each unconditional unless ``conditions``
        says otherwise); one reply each, in order. The identity links it makes and
        removes are audited in the same call, as the ``actor``'s."""
        doc, ix = self._doc_key, self._index_key
        keys = [self._keys.customer_count()]
        args: list[str | int] = [
            *self._header,
            "1" if etags else "0",
            *self._audit_header,
            actor,
            now(),
        ]
        for (cid, document, index_list), (expected, previous) in zip(
            puts, conditions or repeat(_UNCONDITIONAL, len(puts)), strict=True
        ):
            keys += (f"{doc[0]}{cid}{doc[1]}", f"{ix[0]}{cid}{ix[1]}")
            args += (cid, document, index_list, expected, previous)
        replies: list[Any] = await self._put_script(keys=keys, args=args)
        return replies

    def _outcome(self, reply: list[Any] | int) -> PutResult | str:
        """The result, or what stopped the write: "precondition" or "stale"."""
        if type(reply) is int:  # no etag asked for
            return _CREATED if reply else _UPDATED
        assert isinstance(reply, list)
        status = text(reply[0])
        if status in ("precondition", "stale"):
            return status
        if status == "conflict":
            key = text(reply[1])
            raise IdentityConflict(self._keys.identity_channel(key), text(reply[2]))
        return PutResult(status == "created", text(reply[1]))

    async def put(
        self, customer: Customer, if_match: str | None = None, *, actor: str
    ) -> PutResult:
        """Create or replace. ``if_match``: the etag the caller last saw ("*" any)."""
        put = self.prepare(customer)
        [reply] = await self._apply([put], [(_expected(if_match), "")], actor=actor)
        outcome = self._outcome(reply)
        if outcome == "precondition":
            raise PreconditionFailed
        if outcome == "stale":
            return await self._put_read_first(put, if_match, actor)
        assert isinstance(outcome, PutResult)
        return outcome

    async def _put_read_first(self, put: Prepared, if_match: str | None, actor: str) -> PutResult:
        """The write of a record whose stored index list is an older release's: read it
        and say what to move from, on condition that it has not changed meanwhile."""
        customer_id = put.customer_id
        for _ in range(_RETRIES):
            old_raw, old_index = (
                text_or_none(v)
                for v in await self._redis.mget(
                    [self._keys.customer(customer_id), self._keys.customer_index(customer_id)]
                )
            )
            if if_match is not None and (
                old_raw is None or (if_match != "*" and etag_of(old_raw) != if_match)
            ):
                raise PreconditionFailed
            expected = etag_of(old_raw) if old_raw is not None else "-"
            previous = self._previous(old_raw, old_index)
            [reply] = await self._apply([put], [(expected, previous)], actor=actor)
            outcome = self._outcome(reply)
            if isinstance(outcome, PutResult):
                return outcome
        raise Contended

    async def put_many(self, puts: list[Prepared], *, actor: str) -> list[PutResult | Exception]:
        """Upsert a batch of prepared customers in one script call; a record whose
        stored index list is an older release's is written on its own. The results
        carry no etag (a bulk import reports none)."""
        replies = await self._apply(puts, actor=actor, etags=False)
        results: list[PutResult | Exception] = []
        for put, reply in zip(puts, replies, strict=True):
            try:
                outcome = self._outcome(reply)
                if not isinstance(outcome, PutResult):
                    outcome = await self._put_read_first(put, None, actor)
                results.append(outcome)
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
        puts: list[Prepared] = []
        conditions: list[_Condition] = []
        left = 0
        for raw, index in zip(stored[0::2], stored[1::2], strict=True):
            doc = text_or_none(raw)
            if doc is None:
                continue  # erased in between
            try:
                put = self.prepare(read_stored(doc))
                condition = (etag_of(doc), self._previous(doc, text_or_none(index)))
            except StoreIntegrityError:
                left += 1
                continue
            puts.append(put)
            conditions.append(condition)
        if not puts:
            return 0, left
        rewritten = 0
        for reply in await self._apply(puts, conditions, actor="reindex", etags=False):
            try:
                done = isinstance(self._outcome(reply), PutResult)
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
            identities = (
                owned_identities(customer) if customer is not None else owned_identities_of_raw(raw)
            )
            owned = [self._keys.identity_prefix() + suffix for suffix in identities]
            recorded = recorded_entries(index) if index else []
            implied = set_entries(self._keys, customer, self._region)
            # What was recorded and what the record implies today, so that nothing
            # leading to the person survives a change of code or settings. Counters hold
            # no ids: only those recorded as counting this customer are decremented.
            entries = sorted(
                set(recorded) | {e for e in implied if index_kind(e) not in COUNTED_KINDS}
            )
            linked_by_api = sorted(
                texts(await self._redis.smembers(self._keys.customer_identities(customer_id)))
            )
            keys = [
                *self._keys.customer_keys(customer_id),
                self._keys.customer_identities(customer_id),
                self._keys.customer_count(),
                *owned,
                *(k for member in linked_by_api for k in self._keys.identity_keys(member)),
            ]
            reply = await self._erase_script(
                keys=keys,
                args=[
                    customer_id,
                    etag_of(raw),
                    len(owned),
                    len(linked_by_api),
                    *placement(self._keys),
                    *entries,
                ],
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
