"""Fitting the Fellegi-Sunter parameters without labels (as Splink does).

u, how often a level occurs between two different people, is counted on random pairs of
the book: almost every random pair is a non-match. m, how often it occurs for the same
person, is estimated by expectation-maximisation over blocked pairs (pairs sharing a
blocking value, among which the matches hide), with u held fixed. Levels too rare in
the sample to be estimated keep their shipped values, and the fit says which.

Pure: the pairs' comparison outcomes come in, parameters come out.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable

from pydantic import BaseModel, Field

from matchers.compare import NULL, Outcome
from matchers.model import LevelParams, ModelParams

Pattern = tuple[tuple[str, str], ...]  # (field, level) of each non-null comparison

MIN_COUNT = 5  # fewer sightings than this in a sample estimate nothing
_FLOOR = 1e-12


class Session(BaseModel):
    blocked_on: str
    pairs: int
    iterations: int
    converged: bool
    match_share: float
    used: bool
    why_not: str | None = None


class FitReport(BaseModel):
    random_pairs: int
    blocked_pairs: int
    sessions: list[Session]
    estimated_u: list[str] = Field(default_factory=list)
    estimated_m: list[str] = Field(default_factory=list)
    kept: list[str] = Field(description="Levels too rare to estimate: shipped values kept.")


def patterns(pairs: Iterable[list[Outcome]]) -> Counter[Pattern]:
    """Identical comparison patterns counted once each (EM runs over distinct ones)."""
    return Counter(
        tuple((o.field, o.level) for o in outcomes if o.level != NULL) for outcomes in pairs
    )


def estimate_u(
    random_pairs: Counter[Pattern], start: ModelParams
) -> tuple[dict[str, dict[str, float]], list[str]]:
    """u per field and level from random pairs; levels seen too rarely are not estimated."""
    seen: Counter[tuple[str, str]] = Counter()
    present: Counter[str] = Counter()
    for pattern, count in random_pairs.items():
        for field, level in pattern:
            seen[field, level] += count
            present[field] += count
    u: dict[str, dict[str, float]] = {}
    estimated = []
    for field, levels in start.levels.items():
        for level in levels:
            if seen[field, level] >= MIN_COUNT:
                u.setdefault(field, {})[level] = seen[field, level] / present[field]
                estimated.append(f"{field}/{level}")
    return u, estimated


def _likelihood(pattern: Pattern, probs: dict[str, dict[str, float]]) -> float:
    total = 0.0
    for field, level in pattern:
        total += math.log(max(probs.get(field, {}).get(level, _FLOOR), _FLOOR))
    return total


def expectation_maximisation(
    blocked_pairs: Counter[Pattern],
    m_start: dict[str, dict[str, float]],
    u: dict[str, dict[str, float]],
    *,
    match_share: float = 0.1,
    iterations: int = 50,
    tolerance: float = 1e-5,
) -> tuple[dict[str, dict[str, float]], float, int, bool]:
    """m per field and level, the share of matches among the pairs, the iterations run,
    and whether the estimates settled within ``tolerance``."""
    m = {f: dict(levels) for f, levels in m_start.items()}
    share = match_share
    for iteration in range(1, iterations + 1):
        weighted: dict[tuple[str, str], float] = {}
        field_mass: dict[str, float] = {}
        matches = 0.0
        total = 0.0
        for pattern, count in blocked_pairs.items():
            log_m = math.log(share) + _likelihood(pattern, m)
            log_u = math.log(1 - share) + _likelihood(pattern, u)
            # P(match | pattern), computed in logs: products of tiny u underflow.
            p = 1.0 / (1.0 + math.exp(min(log_u - log_m, 700.0)))
            matches += p * count
            total += count
            for field, level in pattern:
                weighted[field, level] = weighted.get((field, level), 0.0) + p * count
                field_mass[field] = field_mass.get(field, 0.0) + p * count
        new_m = {
            f: {
                level: weighted.get((f, level), 0.0) / field_mass[f]
                if field_mass.get(f, 0.0) > 0
                else value
                for level, value in levels.items()
            }
            for f, levels in m.items()
        }
        new_share = min(max(matches / total, 1e-9), 1 - 1e-9) if total else share
        change = max(
            [abs(new_share - share)] + [abs(new_m[f][lv] - m[f][lv]) for f in m for lv in m[f]]
        )
        m, share = new_m, new_share
        if change < tolerance:
            return m, share, iteration, True
    return m, share, iterations, False


# Splink's training sessions: pairs that agree exactly on one field (as if blocked on
# it), that field left out of the estimate. Pairs reached through any blocking value
# agree on something by construction; fitted all together, EM would call every such
# pair a match.
SESSIONS = (("date_of_birth", "exact"), ("postcode", "exact"), ("family_name", "exact"))
MIN_SESSION_PAIRS = 200
# A session whose fitted share of matches falls outside this range learned nothing: no
# real book has most of the people sharing a birthday being one person, and below it
# too few duplicates were seen to say what a match looks like.
PLAUSIBLE_SHARE = (1e-3, 0.5)


def _session(
    blocked_pairs: Counter[Pattern],
    field: str,
    level: str,
    m_start: dict[str, dict[str, float]],
    u: dict[str, dict[str, float]],
    iterations: int,
) -> tuple[Session, dict[str, dict[str, float]], Counter[tuple[str, str]]]:
    sub: Counter[Pattern] = Counter()
    for pattern, count in blocked_pairs.items():
        if (field, level) in pattern:
            sub[tuple(p for p in pattern if p[0] != field)] += count
    others = {f: levels for f, levels in m_start.items() if f != field}
    m, share, ran, converged = expectation_maximisation(sub, others, u, iterations=iterations)
    pairs = sum(sub.values())
    why_not = None
    if pairs < MIN_SESSION_PAIRS:
        why_not = f"fewer than {MIN_SESSION_PAIRS} pairs"
    elif not converged:
        why_not = "did not converge"
    elif not PLAUSIBLE_SHARE[0] <= share <= PLAUSIBLE_SHARE[1]:
        why_not = "implausible share of matches (too few duplicate records to learn from)"
    support: Counter[tuple[str, str]] = Counter()
    for pattern, count in sub.items():
        for item in pattern:
            support[item] += count
    session = Session(
        blocked_on=f"{field}/{level}",
        pairs=pairs,
        iterations=ran,
        converged=converged,
        match_share=round(share, 6),
        used=why_not is None,
        why_not=why_not,
    )
    return session, m, support


def fit(
    random_pairs: Counter[Pattern],
    blocked_pairs: Counter[Pattern],
    start: ModelParams,
    version: str,
    *,
    iterations: int = 100,
) -> tuple[ModelParams, FitReport]:
    """New parameters from both samples; ``start`` supplies whatever cannot be estimated."""
    u_fit, u_estimated = estimate_u(random_pairs, start)
    u = {
        f: {lv: u_fit.get(f, {}).get(lv, p.u) for lv, p in levels.items()}
        for f, levels in start.levels.items()
    }
    m_start = {f: {lv: p.m for lv, p in levels.items()} for f, levels in start.levels.items()}
    sessions = []
    estimates: dict[tuple[str, str], list[float]] = {}
    for field, level in SESSIONS:
        session, m, support = _session(blocked_pairs, field, level, m_start, u, iterations)
        sessions.append(session)
        if session.used:
            for f, levels in m.items():
                for lv, value in levels.items():
                    if support[f, lv] >= MIN_COUNT:
                        estimates.setdefault((f, lv), []).append(value)
    fitted: dict[str, dict[str, LevelParams]] = {}
    m_estimated, kept = [], []
    for field, field_levels in start.levels.items():
        fitted[field] = {}
        for level, shipped in field_levels.items():
            name = f"{field}/{level}"
            found = estimates.get((field, level))
            new_m = sum(found) / len(found) if found else shipped.m
            if found:
                m_estimated.append(name)
            if name not in u_estimated and not found:
                kept.append(name)
            fitted[field][level] = LevelParams(
                m=min(max(new_m, _FLOOR), 1.0), u=min(max(u[field][level], _FLOOR), 1.0)
            )
    params = ModelParams(version=version, prior=start.prior, levels=fitted, tf_floor=start.tf_floor)
    report = FitReport(
        random_pairs=sum(random_pairs.values()),
        blocked_pairs=sum(blocked_pairs.values()),
        sessions=sessions,
        estimated_u=u_estimated,
        estimated_m=m_estimated,
        kept=kept,
    )
    return params, report
