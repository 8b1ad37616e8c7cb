"""Fitting m and u without labels: EM recovers parameters that generated the pairs."""

from __future__ import annotations

import random

from matchers.compare import NULL, Outcome
from matchers.model import LevelParams, ModelParams
from matchers.train import MIN_COUNT, estimate_u, expectation_maximisation, fit, patterns

_TRUE = {
    "given_name": {"exact": (0.85, 0.03), "close": (0.10, 0.07), "else": (0.05, 0.90)},
    "family_name": {"exact": (0.90, 0.01), "close": (0.06, 0.04), "else": (0.04, 0.95)},
    "date_of_birth": {"exact": (0.80, 0.002), "close": (0.15, 0.05), "else": (0.05, 0.948)},
}


def _draw(rng: random.Random, which: int) -> list[Outcome]:
    outcomes = []
    for field, levels in _TRUE.items():
        if rng.random() < 0.1:  # some records lack the field
            outcomes.append(Outcome(field, NULL))
            continue
        names = list(levels)
        weights = [levels[n][which] for n in names]
        outcomes.append(Outcome(field, rng.choices(names, weights)[0]))
    return outcomes


def _start() -> ModelParams:
    # Deliberately poor starting m, shipped u of the same poor quality.
    return ModelParams(
        version="start",
        levels={
            f: {lv: LevelParams(m=1 / 3, u=1 / 3) for lv in levels} for f, levels in _TRUE.items()
        },
    )


def test_em_recovers_m_and_the_match_share() -> None:
    rng = random.Random(7)  # noqa: S311 - test data
    blocked = patterns(_draw(rng, 0 if rng.random() < 0.2 else 1) for _ in range(20_000))
    m_start = {f: {lv: 1 / 3 for lv in levels} for f, levels in _TRUE.items()}
    u = {f: {lv: pu for lv, (_, pu) in levels.items()} for f, levels in _TRUE.items()}
    m, share, _, converged = expectation_maximisation(blocked, m_start, u)
    assert converged
    assert abs(share - 0.2) < 0.02
    for field, levels in _TRUE.items():
        for level, (true_m, _) in levels.items():
            assert abs(m[field][level] - true_m) < 0.03, (field, level, m[field][level])


def test_a_fit_estimates_u_and_the_m_of_plausible_sessions() -> None:
    rng = random.Random(11)  # noqa: S311 - test data
    random_pairs = patterns(_draw(rng, 1) for _ in range(40_000))
    # Few duplicates among many pairs, as in a real book: among pairs sharing a surname
    # the duplicates stay a minority, so that session is believed; among pairs sharing a
    # birthday they are most, which no real book shows, so that one is not.
    blocked = patterns(_draw(rng, 0 if rng.random() < 0.005 else 1) for _ in range(200_000))
    params, report = fit(random_pairs, blocked, _start(), "fitted-1")
    used = {s.blocked_on: s.used for s in report.sessions}
    assert used == {
        "family_name/exact": True,
        "date_of_birth/exact": False,
        "postcode/exact": False,
    }
    for field, levels in _TRUE.items():
        for level, (m, u) in levels.items():
            got = params.levels[field][level]
            assert abs(got.u - u) < 0.01, (field, level, got.u, u)
            if field != "family_name":
                assert abs(got.m - m) < 0.05, (field, level, got.m, m)
            else:  # what a session cannot see keeps its starting value
                assert got.m == _start().levels[field][level].m
    assert params.version == "fitted-1"


def test_a_session_where_most_pairs_look_alike_is_not_believed() -> None:
    rng = random.Random(5)  # noqa: S311 - test data
    # Households: everyone sharing a postcode also shares a surname. EM would call them
    # all matches; the fit must not learn "a match always shares a surname" from that.
    blocked = patterns(_draw(rng, 0) for _ in range(5_000))
    params, report = fit(patterns([]), blocked, _start(), "v")
    assert not any(s.used for s in report.sessions)
    assert params.levels == _start().levels


def test_levels_too_rare_to_estimate_keep_their_shipped_values() -> None:
    only_else = [[Outcome("given_name", "else")] for _ in range(1000)]
    few_exact = [[Outcome("given_name", "exact")] for _ in range(MIN_COUNT - 1)]
    random_pairs = patterns(only_else + few_exact)
    u, estimated = estimate_u(random_pairs, _start())
    assert "given_name/exact" not in estimated
    assert u["given_name"]["else"] == 1000 / (1000 + MIN_COUNT - 1)
    params, report = fit(random_pairs, patterns([]), _start(), "v")
    assert params.levels["given_name"]["exact"] == _start().levels["given_name"]["exact"]
    assert "given_name/close" in report.kept
