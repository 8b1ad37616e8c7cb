"""Customer documents and the index entries that lead to them, in Redis.

Every write goes through one Lua script that checks the document has not changed since
it was read (its etag), refuses to take over an identity linked to someone else, and
moves index entries with the document; so the index never points at a stale record.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any, Literal, NamedTuple

import redis.asyncio as aioredis
from pydantic import BaseModel, Field

from service.book.audit import DAY_MS, PER_CUSTOMER, fresh_subjects, now
from service.book.blocking import COUNTED_KINDS, index_kind, placement
from service.book.indexing import (
    index_record,
    owned_identities,
    owned_identities_of_raw,
    recorded_entries,
    set_entries,
)
from service.errors import DomainError
from service.schemas import Customer, StoreIntegrityError, lenient_customer, read_stored
from service.store.keynames import KeySchema
from service.store.lua import load_script
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


class Erasure(BaseModel):
    customer_id: str
    customers: int
    events: int
    identity_links: int
    index_entries: int
    messages: int = Field(default=0, description="Inbound messages resolved to them.")
    conversations: int = Field(default=0, description="Conversations that were theirs.")
    listed_in: int = Field(
        default=0,
        description="Other senders' messages that listed them as a candidate: taken out of "
        "the candidates, and what names them in the text redacted.",
    )
    conversations_redacted: int = Field(
        default=0,
        description="Other conversations of those messages whose log named them: redacted.",
    )
    audit_subject: str = Field(
        default="",
        description="The pseudonym their audit entries and this erasure's are recorded "
        "under; nothing that remains ties it to them.",
    )


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


def prepare_many(customers: list[Customer], region: str) -> list[Prepared]:
    """What writing each customer needs that does not depend on what is stored, a step
    at a time: each step's code stays in the processor's caches from one customer to
    the next. The importer validates a chunk of records, then prepares them: a sixth less
    time than taking each customer through every step in turn."""
    docs = [serialise(c) for c in customers]
    indexes = [index_record(c, region) for c in customers]
    return [
        Prepared(c.id, doc, index) for c, doc, index in zip(customers, docs, indexes, strict=True)
    ]


# -- the scripts' calls: the one place that knows their KEYS and ARGV in order ------------


def put_customers_call(
    keys: KeySchema,
    puts: Sequence[Prepared],
    expected: Sequence[str],
    *,
    with_etags: bool,
    actor: str,
    at: str,
    audit_retention_ms: int,
) -> tuple[list[str], list[str | int]]:
    """KEYS and ARGV of put_customers.lua. ``expected``: each put's condition, as
    ``_expected`` makes it ("" for none)."""
    doc_head, doc_tail = keys.around_id(keys.customer)
    index_head, index_tail = keys.around_id(keys.customer_index)
    audit_head, audit_tail = keys.around_id(keys.customer_audit)
    subject_head, subject_tail = keys.around_id(keys.audit_subject)
    script_keys = [keys.customer_count()]
    args: list[str | int] = [
        keys.identity_prefix(),
        keys.identity_link_prefix(),
        *placement(keys),
        "1" if with_etags else "0",
        keys.audit(),
        audit_head,
        audit_tail,
        subject_head,
        subject_tail,
        audit_retention_ms,
        PER_CUSTOMER,
        actor,
        at,
    ]
    subjects = fresh_subjects(len(puts))
    for (cid, doc, index_list), etag, subject in zip(puts, expected, subjects, strict=True):
        script_keys += (f"{doc_head}{cid}{doc_tail}", f"{index_head}{cid}{index_tail}")
        args += (cid, doc, index_list, etag, subject)
    return script_keys, args


# What stopped a write, as the exception a caller raises (put) or reports (put_many).
Refused = PreconditionFailed | IdentityConflict


def put_customers_reply(keys: KeySchema, reply: list[Any]) -> list[PutResult | Refused]:
    """Each put's result, in order."""
    return [_put_outcome(keys, one) for one in reply]


def _put_outcome(keys: KeySchema, reply: list[Any] | int) -> PutResult | Refused:
    if type(reply) is int:  # no etag asked for
        return _CREATED if reply else _UPDATED
    assert isinstance(reply, list)
    status = text(reply[0])
    if status == "precondition":
        return PreconditionFailed()
    if status == "conflict":
        return IdentityConflict(keys.identity_channel(text(reply[1])), text(reply[2]))
    return PutResult(status == "created", text(reply[1]))


def erase_customer_call(
    keys: KeySchema,
    customer_id: str,
    *,
    expected_etag: str,
    owned: Sequence[str],
    linked_by_api: Sequence[str],
    entries: Sequence[str],
) -> tuple[list[str], list[str | int]]:
    """KEYS and ARGV of erase_customer.lua. ``owned``: the identities the record links
    (``identity_suffix`` forms); ``linked_by_api``: the members of the customer's API
    identities set; ``entries``: the blocking entries to remove them from."""
    script_keys = [
        *keys.customer_keys(customer_id),
        keys.customer_identities(customer_id),
        keys.customer_count(),
        *(keys.identity_prefix() + suffix for suffix in owned),
        *(k for member in linked_by_api for k in keys.identity_keys(member)),
    ]
    args: list[str | int] = [
        customer_id,
        expected_etag,
        len(owned),
        len(linked_by_api),
        *placement(keys),
        *entries,
    ]
    return script_keys, args


def erase_customer_reply(
    customer_id: str, reply: list[Any]
) -> Erasure | Literal["missing", "precondition"]:
    status = text(reply[0])
    if status == "erased":
        return Erasure(
            customer_id=customer_id,
            customers=int(reply[1]),
            events=int(reply[2]),
            identity_links=int(reply[3]),
            index_entries=int(reply[4]),
            audit_subject=text(reply[5]),
        )
    return "missing" if status == "missing" else "precondition"


class CustomerStore:
    def __init__(
        self,
        redis: aioredis.Redis,
        keys: KeySchema,
        region: str = "GB",
        audit_retention_days: int = 365,
    ) -> None:
        self._audit_retention_ms = audit_retention_days * DAY_MS
        self._redis = redis
        self._keys = keys
        self._region = region
        self._put_script = load_script(redis, "service.book", "put_customers.lua")
        self._erase_script = load_script(redis, "service.book", "erase_customer.lua")

    async def get(self, customer_id: str) -> Customer | None:
        found = await self.get_with_etag(customer_id)
        return found[0] if found else None

    async def get_with_etag(self, customer_id: str) -> tuple[Customer, str] | None:
        raw = await self._redis.get(self._keys.customer(customer_id))
        return (read_stored(raw), etag_of(raw)) if raw is not None else None

    def prepare(self, customer: Customer) -> Prepared:
        [prepared] = prepare_many([customer], self._region)
        return prepared

    def prepare_many(self, customers: list[Customer]) -> list[Prepared]:
        return prepare_many(customers, self._region)

    async def _apply(
        self,
        puts: list[Prepared],
        expected: list[str] | None = None,
        *,
        actor: str,
        etags: bool = True,
    ) -> list[PutResult | Refused]:
        """Run the put script once for the puts (each unconditional unless ``expected``
        says otherwise); one result each, in order. The identity links it makes and
        removes are audited in the same call, as the ``actor``'s."""
        keys, args = put_customers_call(
            self._keys,
            puts,
            expected or [""] * len(puts),
            with_etags=etags,
            actor=actor,
            at=now(),
            audit_retention_ms=self._audit_retention_ms,
        )
        return put_customers_reply(self._keys, await self._put_script(keys=keys, args=args))

    async def put(
        self, customer: Customer, if_match: str | None = None, *, actor: str
    ) -> PutResult:
        """Create or replace. ``if_match``: the etag the caller last saw ("*" any)."""
        [outcome] = await self._apply([self.prepare(customer)], [_expected(if_match)], actor=actor)
        if not isinstance(outcome, PutResult):
            raise outcome
        return outcome

    async def put_many(self, puts: list[Prepared], *, actor: str) -> list[PutResult | Exception]:
        """Upsert a batch of prepared customers in one script call. The results carry no
        etag (a bulk import reports none)."""
        return list(await self._apply(puts, actor=actor, etags=False))

    async def reindex_many(self, customer_ids: list[str]) -> tuple[int, int]:
        """Write the index of each customer again from their stored record, as this
        release computes it (after an upgrade that changed the blocking values or the
        packed profile). A record that changed since it was read here, or that no longer
        validates, is left as it is: the former was indexed by its own write. Answers
        how many were rewritten and how many left."""
        stored = await self._redis.mget([self._keys.customer(cid) for cid in customer_ids])
        puts: list[Prepared] = []
        expected: list[str] = []
        left = 0
        for raw in stored:
            doc = text_or_none(raw)
            if doc is None:
                continue  # erased in between
            try:
                puts.append(self.prepare(read_stored(doc)))
            except StoreIntegrityError:
                left += 1
                continue
            expected.append(etag_of(doc))
        if not puts:
            return 0, left
        outcomes = await self._apply(puts, expected, actor="reindex", etags=False)
        rewritten = sum(isinstance(outcome, PutResult) for outcome in outcomes)
        return rewritten, left + len(outcomes) - rewritten

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
                owned_identities(customer) if customer is not None else owned_identities_of_raw(raw)
            )
            recorded = recorded_entries(index) if index else []
            implied = set_entries(customer, self._region)
            # What was recorded and what the record implies today, so that nothing
            # leading to the person survives a change of code or settings. Counters hold
            # no ids: only those recorded as counting this customer are decremented.
            entries = sorted(
                set(recorded) | {e for e in implied if index_kind(e) not in COUNTED_KINDS}
            )
            linked_by_api = sorted(
                texts(await self._redis.smembers(self._keys.customer_identities(customer_id)))
            )
            keys, args = erase_customer_call(
                self._keys,
                customer_id,
                expected_etag=etag_of(raw),
                owned=owned,
                linked_by_api=linked_by_api,
                entries=entries,
            )
            outcome = erase_customer_reply(
                customer_id, await self._erase_script(keys=keys, args=args)
            )
            if outcome == "missing":
                return None
            if isinstance(outcome, Erasure):
                return outcome
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
