"""A Fellegi-Sunter model: how much each comparison level says for or against a match.

For every field and level, m is the probability of that level among true matches and u
among non-matches; the level's match weight is log2(m/u). A candidate's weight is the
prior's weight plus the weights of its levels, and its match probability follows from
that. Parameters are data (pydantic), shipped as defaults here and re-fitted by training.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from pydantic import BaseModel, Field, PrivateAttr

from matchers.compare import NULL, Outcome


class LevelParams(BaseModel, frozen=True):
    m: float = Field(gt=0, le=1)
    u: float = Field(gt=0, le=1)

    @property
    def weight(self) -> float:
        return math.log2(self.m / self.u)


def _p(m: float, u: float) -> LevelParams:
    return LevelParams(m=m, u=u)


class ModelParams(BaseModel, frozen=True):
    version: str = "defaults-2"
    prior: float = Field(default=1e-6, gt=0, lt=1, description="P(match) of a random pair")
    levels: dict[str, dict[str, LevelParams]]
    # Floor for term-frequency-adjusted u, so that one customer with a unique surname
    # cannot outweigh everything else.
    tf_floor: float = Field(default=1e-6, gt=0)

    _table: WeightTable | None = PrivateAttr(default=None)

    @property
    def table(self) -> WeightTable:
        """The weights as a plain lookup table, built once per parameter set."""
        if self._table is None:
            self._table = WeightTable(
                levels={
                    (f, label): (p.weight, p.m, p.u)
                    for f, levels in self.levels.items()
                    for label, p in levels.items()
                },
                prior_weight=math.log2(self.prior / (1 - self.prior)),
                tf_floor=self.tf_floor,
            )
        return self._table


@dataclass(frozen=True, slots=True)
class WeightTable:
    """(field, level) -> (weight, m, u): a candidate's score is a sum of these, and a
    query may score hundreds of candidates."""

    levels: dict[tuple[str, str], tuple[float, float, float]]
    prior_weight: float
    tf_floor: float

    def weight(self, outcome: Outcome, tf: Mapping[str, float] | None = None) -> float | None:
        """The level's match weight (None: a level without parameters). ``tf`` (field ->
        the share of the book with the query's value) replaces u for an exact agreement
        on a name: "Smith" says less than "Okonkwo", "John" less than "Lyndon"."""
        found = self.levels.get((outcome.field, outcome.level))
        if found is None:
            return None
        weight, m, _ = found
        if tf and outcome.level == "exact" and outcome.field in tf:
            adjusted = math.log2(m / max(tf[outcome.field], self.tf_floor))
            # A given name's default u (one in fifty) is already a common name's: a rare
            # one counts for more, but a small book of Johns must not count "John" against.
            weight = max(weight, adjusted) if outcome.field == "given_name" else adjusted
        return weight


# Starting values in the spirit of published record-linkage defaults; `socialid train`
# re-estimates them from the customer book (u from random pairs, m by EM).
DEFAULT_PARAMS = ModelParams(
    levels={
        "given_name": {
            "exact": _p(0.80, 0.02),
            "swapped with the family name": _p(0.01, 1e-4),
            "another romanisation": _p(0.02, 5e-4),
            "nickname": _p(0.06, 0.004),
            "typo": _p(0.04, 0.001),
            "jaro-winkler >= 0.92": _p(0.05, 0.01),
            "initial": _p(0.04, 0.05),
            "else": _p(0.05, 0.916),
        },
        "family_name": {
            "exact": _p(0.85, 0.005),
            "swapped with the given name": _p(0.01, 5e-4),
            "another romanisation": _p(0.02, 2e-4),
            "jaro-winkler >= 0.92": _p(0.05, 0.003),
            "one edit": _p(0.03, 0.002),
            "shared part": _p(0.04, 0.002),
            "initial": _p(0.02, 0.06),
            "else": _p(0.01, 0.928),
        },
        "email": {
            "same mailbox": _p(0.70, 1e-9),
            "same local part": _p(0.05, 1e-6),
            "else": _p(0.25, 0.999999),
        },
        "phone": {
            "exact": _p(0.70, 1e-8),
            "last 8 digits": _p(0.05, 1e-7),
            "else": _p(0.25, 0.9999999),
        },
        "date_of_birth": {
            "exact": _p(0.92, 3e-4),
            "day and month swapped": _p(0.02, 1e-5),
            "one part off": _p(0.04, 0.004),
            "else": _p(0.02, 0.9957),
        },
        "postcode": {
            "exact": _p(0.75, 5e-4),
            "same district": _p(0.10, 0.02),
            "else": _p(0.15, 0.9795),
        },
        # Only where no postcode is shared: a town holds many people, and its spelling
        # varies (Newcastle upon Tyne, Newcastle).
        "town": {"exact": _p(0.80, 0.02), "similar": _p(0.08, 0.004), "else": _p(0.12, 0.976)},
        "street": {
            "exact": _p(0.70, 1e-5),
            "same number, similar street": _p(0.12, 1e-6),
            "same street, another number": _p(0.06, 2e-4),
            "else": _p(0.12, 0.9998),
        },
        "account_number": {"exact": _p(0.95, 1e-9), "else": _p(0.05, 0.999999999)},
        "handle": {
            "same handle": _p(0.40, 1e-6),
            "spells the name": _p(0.30, 5e-4),
            "contains the given name": _p(0.25, 0.02),
            "else": _p(0.45, 0.9795),
        },
        "mentioned": {
            "account number in text": _p(0.95, 1e-9),
            "e-mail in text": _p(0.90, 1e-9),
            "phone in text": _p(0.90, 1e-8),
            "else": _p(0.10, 0.99),
        },
    }
)


class Evidence(BaseModel, frozen=True):
    field: str
    level: str
    weight: float
    source: str | None = Field(
        default=None,
        description="Where the query's value came from when not a field of its own: "
        "'text' for a name the writer gave in the message.",
    )


class Score(BaseModel, frozen=True):
    match_weight: float
    match_probability: float
    evidence: list[Evidence]
    # This candidate's share of the posterior among every candidate found and "not a
    # customer" (``matchers.decide.Standing``): what ranks a suggestion, not what links it.
    share: float = 0.0


_NAME_FIELDS = frozenset({"given_name", "family_name"})


def probability(weight: float) -> float:
    if weight > 60:
        return 1.0
    odds: float = 2.0**weight
    return odds / (1.0 + odds)


def match_weight(
    outcomes: list[Outcome], table: WeightTable, *, tf: Mapping[str, float] | None = None
) -> float:
    """The candidate's total weight, without the evidence: enough to rank candidates,
    most of which are never shown."""
    total = table.prior_weight
    for outcome in outcomes:
        if outcome.level != NULL:
            weight = table.weight(outcome, tf)
            if weight is not None:
                total += weight
    return total


def score(
    outcomes: list[Outcome],
    params: ModelParams = DEFAULT_PARAMS,
    *,
    tf: Mapping[str, float] | None = None,
    name_source: str | None = None,
) -> Score:
    """Sum the weights of the levels reached, keeping each as evidence. ``name_source``:
    where the query's name came from, shown on the name fields' evidence."""
    table = params.table
    total = table.prior_weight
    evidence = []
    for outcome in outcomes:
        if outcome.level == NULL:
            continue
        weight = table.weight(outcome, tf)
        if weight is None:
            continue
        total += weight
        source = name_source if outcome.field in _NAME_FIELDS else None
        evidence.append(
            Evidence(
                field=outcome.field, level=outcome.level, weight=round(weight, 3), source=source
            )
        )
    return Score(
        match_weight=round(total, 3),
        match_probability=probability(total),
        evidence=evidence,
    )
