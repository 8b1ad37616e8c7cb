"""Resolution: from a query (a sender, a rep's search) to an account holder.

Linked identity first (one key read); then blocking (one script call fetches the
candidates' records), comparison and scoring with the Fellegi-Sunter model, and the
decision rule that only links on a strong identifier.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass, replace
from typing import Literal

import redis.asyncio as aioredis
from pydantic import BaseModel, Field

from matchers.compare import comparer
from matchers.decide import Standing, Thresholds, decide, unlinked_because
from matchers.givennames import known_given_names
from matchers.model import DEFAULT_PARAMS, Evidence, ModelParams, Score, match_weight, score
from matchers.profile import PACK_FORMAT, Profile, unpack
from service.book.blocking import IDENTIFIER_VOTE, index_location, index_rank, index_vote
from service.book.customers import CustomerStore
from service.book.indexing import blocking_keys, name_counters, profile_of
from service.book.scripts import CANDIDATES
from service.ops.logs import get_logger
from service.resolution.links import IdentityLinks
from service.resolution.modelstore import ModelStore, UnknownVersion
from service.resolution.query import ResolveQuery, query_profile
from service.schemas import (
    StoreIntegrityError,
    read_stored,
)
from service.store.autopipeline import ScriptBatcher
from service.store.keynames import KeySchema
from service.store.redistypes import text

log = get_logger("socialid.resolve")


class ProfileCache:
    """Matching profiles of stored records, keyed by a digest of the record as stored:
    a changed record has another digest, so a stale profile is never used. Parsing and
    profiling a candidate costs far more than comparing it, and the same records come
    back as candidates query after query."""

    def __init__(self, region: str, size: int) -> None:
        self._region = region
        self._size = size
        self._entries: OrderedDict[bytes, Profile] = OrderedDict()

    def get(self, raw: bytes | str) -> Profile:
        data = raw.encode() if isinstance(raw, str) else raw
        digest = hashlib.blake2b(data, digest_size=16).digest()
        found = self._entries.get(digest)
        if found is not None:
            self._entries.move_to_end(digest)
            return found
        profile = profile_of(read_stored(data), self._region)
        self._entries[digest] = profile
        if len(self._entries) > self._size:
            self._entries.popitem(last=False)
        return profile


class Candidate(BaseModel):
    customer_id: str
    match_probability: float = Field(description="Is this the same person? What links.")
    share: float = Field(
        description="This candidate's share of the probability among every candidate found "
        "and 'not a customer': what ranks the suggestions a rep sees."
    )
    match_weight: float
    evidence: list[Evidence]


class Resolution(BaseModel):
    status: Literal["matched", "ambiguous", "no_match"]
    method: Literal["linked_identity", "model", "none"]
    customer_id: str | None = None
    match_probability: float | None = None
    candidates: list[Candidate] = Field(default_factory=list)
    unlinked_because: str | None = Field(
        default=None, description="Why the best candidate was not linked (a rep's cue)."
    )
    skipped_keys: int = Field(default=0, description="Blocking keys too common to use.")
    model_version: str | None = Field(
        default=None, description="The model parameters that scored the candidates."
    )

    @classmethod
    def linked(cls, customer_id: str) -> Resolution:
        """A sender whose identity is linked: known, not inferred."""
        return cls(
            status="matched",
            method="linked_identity",
            customer_id=customer_id,
            match_probability=1.0,
        )


@dataclass(frozen=True, slots=True)
class KnownSender:
    """What the store says about a sender's identity, read by a caller that batched the
    reads with its own (the ingestion worker): its link and the customers ruled out."""

    owner: str | None
    ruled_out: frozenset[str]


@dataclass(frozen=True, slots=True)
class Fetched:
    candidates: list[tuple[str, Profile]]
    tf: dict[str, float] | None  # field -> the share of the book with the query's value
    skipped: int  # blocking entries too common to use
    complete: bool  # False when the total cap cut candidates off
    book_size: int  # customers in the book (the prior of each is one in this)


class Resolver:
    def __init__(
        self,
        redis: aioredis.Redis,
        keys: KeySchema,
        customers: CustomerStore,
        links: IdentityLinks,
        *,
        region: str,
        thresholds: Thresholds,
        account_pattern: str,
        check_digit: str | None,
        key_cap: int,
        candidate_cap: int,
        models: ModelStore,
        profile_cache_size: int = 100_000,
    ) -> None:
        self._redis = redis
        self._keys = keys
        self._customers = customers
        self._links = links
        self._region = region
        self._thresholds = thresholds
        self._account_pattern = account_pattern
        self._check_digit = check_digit
        self._key_cap = key_cap
        self._candidate_cap = candidate_cap
        self._models = models
        # The active fitted version ("" the shipped defaults), checked on every fetch.
        self.params: ModelParams = DEFAULT_PARAMS
        self._version = ""
        # Concurrent resolutions (a worker's batch, simultaneous lookups) fetch their
        # candidates in one round trip.
        self._candidates = ScriptBatcher(redis, CANDIDATES)
        self._profiles = ProfileCache(region, profile_cache_size)
        # Read now rather than in the first query that doubts a given name's spelling.
        known_given_names()
        # Documents live at prefix + id + suffix; the script builds the names.
        self._doc_prefix, self._doc_suffix = keys.around_id(keys.customer)
        self._ix_suffix = keys.around_id(keys.customer_index)[1]

    def profile(self, query: ResolveQuery) -> Profile:
        return query_profile(
            query,
            region=self._region,
            account_pattern=self._account_pattern,
            check_digit=self._check_digit,
        )

    async def resolve(
        self,
        query: ResolveQuery,
        thresholds: Thresholds | None = None,
        *,
        known: KnownSender | None = None,
    ) -> Resolution:
        ruled_out: frozenset[str] = frozenset()
        if query.channel is not None and query.external_id:
            if known is None:
                owner = await self._customers.resolve_identity(query.channel, query.external_id)
            else:
                owner = known.owner
            if owner is not None:
                return Resolution.linked(owner)
            ruled_out = (
                known.ruled_out
                if known is not None
                else await self._links.rejected(query.channel, query.external_id)
            )
        profile = self.profile(query)
        rule = thresholds or self._thresholds
        # decide() looks at the runner-up and shows at most max_candidates.
        ranked, skipped, complete = await self.rank(profile, keep=max(rule.max_candidates, 2))
        status, shown = decide(ranked, rule, complete=complete)
        why = unlinked_because(ranked, rule, complete=complete) if status == "ambiguous" else None
        if ruled_out:
            # A customer a rep ruled out for this sender is never suggested again. The
            # decision still counts them: ruling out one twin says nothing in favour of
            # the other, so a margin they spoiled stays spoiled.
            if status == "matched" and shown[0][0] in ruled_out:
                status, why = "ambiguous", "a rep ruled the best candidate out for this sender"
            shown = [(cid, s) for cid, s in shown if cid not in ruled_out]
            if status == "ambiguous" and not shown:
                status = "no_match"
        candidates = [
            Candidate(
                customer_id=cid,
                match_probability=round(s.match_probability, 6),
                share=round(s.share, 6),
                match_weight=s.match_weight,
                evidence=s.evidence,
            )
            for cid, s in shown
        ]
        return Resolution(
            status=status,
            method="model" if ranked else "none",
            customer_id=candidates[0].customer_id if status == "matched" else None,
            match_probability=candidates[0].match_probability if status == "matched" else None,
            candidates=candidates,
            unlinked_because=why if status == "ambiguous" else None,
            skipped_keys=skipped,
            model_version=self.params.version,
        )

    async def rank(
        self, profile: Profile, *, keep: int
    ) -> tuple[list[tuple[str, Score]], int, bool]:
        """The best ``keep`` candidates with their evidence, best first; how many
        blocking keys were too common to use; and whether every candidate was scored
        (False when the total cap cut some off). The others are weighed but never shown,
        so their evidence is not built."""
        found = await self.with_households(profile, await self.fetch(profile))
        tf, params = found.tf, self.params
        table, against = params.table, comparer(profile)
        weighed = []
        for cid, candidate in found.candidates:
            outcomes = against(candidate)
            weight = match_weight(outcomes, table, tf=tf)
            weighed.append((round(weight, 3), cid, outcomes))
        # Stable: equal weights keep the blocking order (identifiers' candidates first).
        weighed.sort(key=lambda item: -item[0])
        standing = Standing.among(
            (w for w, _, _ in weighed), params.table.prior_weight, found.book_size
        )
        best = []
        for weight, cid, outcomes in weighed[:keep]:
            scored = score(
                outcomes, params, tf=tf, name_source=profile.name_source,
            )  # fmt: skip
            best.append((cid, scored.model_copy(update={"share": standing.share(weight)})))
        return best, found.skipped, found.complete

    async def with_households(self, query: Profile, found: Fetched) -> Fetched:
        """A family account is every member's: when the query gives an account number a
        household holds, each member of that household is a candidate holding it. So a
        member who quotes it under her own name is found as herself, and a message that
        names nobody offers the whole family, never the holder alone."""
        asked = query.accounts | {v for k, v in query.mentioned if k == "account_number"}
        held: dict[str, set[str]] = {}
        for _, candidate in found.candidates:
            if candidate.household and candidate.accounts & asked:
                held.setdefault(candidate.household, set()).update(candidate.accounts)
        if not held:
            return found
        candidates = dict(found.candidates)
        for household in held:
            members = await self.fetch(Profile(household=household))
            for cid, member in members.candidates:
                candidates.setdefault(cid, member)
        shared = []
        for cid, member in candidates.items():
            accounts = held.get(member.household or "")
            if accounts:
                member = member._replace(accounts=member.accounts | accounts)
            shared.append((cid, member))
        return replace(found, candidates=shared)

    async def fetch(self, profile: Profile) -> Fetched:
        """The candidates the blocking index gives for a profile, with their profiles."""
        # Strongest entries first, so that a cap drops name candidates, never an
        # identifier's.
        blocking = sorted(blocking_keys(profile, query=True), key=index_rank)
        if not blocking:
            return Fetched([], None, 0, True, 1)
        counters = name_counters(profile)
        keys: list[str] = []
        fields: list[str | int] = []
        for entry in blocking:
            bucket, field, spill = index_location(self._keys, entry)
            keys += (bucket, spill)
            fields += (field, index_vote(entry))
        for _, entry in counters:
            bucket, field, _ = index_location(self._keys, entry)
            keys.append(bucket)
            fields.append(field)
        reply = await self._candidates(
            keys=[*keys, self._keys.model_active(), self._keys.customer_count()],
            args=[
                self._doc_prefix, self._doc_suffix, self._ix_suffix, PACK_FORMAT,
                self._key_cap, self._candidate_cap, len(counters), IDENTIFIER_VOTE, *fields,
            ],
        )  # fmt: skip
        total, complete = max(int(reply[0]), 1), int(reply[1]) == 0
        await self._use_model(text(reply[2]))
        first_skipped = 3 + len(counters)
        # The share of the book with the query's own surname and given name.
        tf = {
            name_field: int(count) / total
            for (name_field, _), count in zip(counters, reply[3:first_skipped], strict=True)
            if int(count)
        }
        separator = next(i for i in range(first_skipped, len(reply)) if text(reply[i]) == "")
        rest = reply[separator + 1 :]
        candidates = [
            (text(cid), self._candidate(text(kind), raw))
            for cid, kind, raw in zip(rest[0::3], rest[1::3], rest[2::3], strict=True)
        ]
        return Fetched(candidates, tf or None, separator - first_skipped, complete, total)

    def _candidate(self, kind: str, raw: bytes | str) -> Profile:
        """A candidate's profile: unpacked as stored beside the record, or (a record
        written before profiles were packed, or under another packing) built from it."""
        if kind != "p":
            return self._profiles.get(raw)
        packed = unpack(raw)
        if packed is None:  # the script checked the tag: the line itself is damaged
            raise StoreIntegrityError("a stored matching profile cannot be read")
        return packed

    async def _use_model(self, version: str) -> None:
        if version != self._version:
            try:
                self.params = await self._models.load(version)
            except UnknownVersion:
                log.error("model_version_missing", version=version)
                self.params = DEFAULT_PARAMS
            self._version = version
            log.info("model_loaded", version=self.params.version)
