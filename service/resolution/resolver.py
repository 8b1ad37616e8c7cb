"""Resolution: from a query (a sender, a rep's search) to an account holder.

Linked identity first (one key read); then blocking (one script call fetches the
candidates' packed profiles), comparison and scoring with the Fellegi-Sunter model, and the
decision rule that only links on a strong identifier.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

import redis.asyncio as aioredis
from pydantic import BaseModel, Field

from matchers.compare import comparer
from matchers.decide import Standing, Thresholds, decide, unlinked_because
from matchers.givennames import known_given_names
from matchers.model import DEFAULT_PARAMS, Evidence, ModelParams, Score, match_weight, score
from matchers.profile import Profile, unpack
from service.book.blocking import index_rank
from service.book.customers import CustomerStore
from service.book.indexing import blocking_keys, name_counters
from service.ops.logs import get_logger
from service.resolution.candidate_fetch import CandidateFetch
from service.resolution.links import IdentityLinks
from service.resolution.modelstore import ModelStore, UnknownVersion
from service.resolution.query import ResolveQuery, query_profile
from service.schemas import StoreIntegrityError
from service.store.keynames import KeySchema

log = get_logger("socialid.resolve")


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
        self._candidates = CandidateFetch(redis, keys)
        # Read now rather than in the first query that doubts a given name's spelling.
        known_given_names()

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
            scored = score(outcomes, params, tf=tf, name_source=profile.name_source)
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
        found = await self._candidates.fetch(
            blocking,
            [entry for _, entry in counters],
            entry_cap=self._key_cap,
            total_cap=self._candidate_cap,
        )
        await self._use_model(found.model_version)
        total = max(found.customer_count, 1)
        # The share of the book with the query's own surname and given name.
        tf = {
            name_field: count / total
            for (name_field, _), count in zip(counters, found.name_counts, strict=True)
            if count
        }
        return Fetched(
            [(cid, _unpacked(line)) for cid, line in found.candidates],
            tf or None,
            len(found.skipped),
            not found.identifier_cut,
            total,
        )

    async def _use_model(self, version: str) -> None:
        if version != self._version:
            try:
                self.params = await self._models.load(version)
            except UnknownVersion:
                log.error("model_version_missing", version=version)
                self.params = DEFAULT_PARAMS
            self._version = version
            log.info("model_loaded", version=self.params.version)


def _unpacked(line: str) -> Profile:
    profile = unpack(line)
    if profile is None:
        raise StoreIntegrityError("a stored matching profile cannot be read")
    return profile
