"""Evaluation of ``socialid bench quality``: each query through the real resolver, tallied
by class, and the table printed with the goals beside the figures."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from dataclasses import dataclass

from service.bench.quality_queries import (
    CLASSES,
    HOUSEHOLD,
    STRANGER,
    STRONG,
    STRONG_GOAL,
    WEAK,
    Query,
)
from service.resolution.query import QueryError
from service.resolution.resolver import Resolver

# Goals of issue 18 that hold for every class.
WRONG_PERSON_GOAL = 0
STRANGERS_GOAL = 0


@dataclass
class ClassTally:
    count: int = 0
    refused: int = 0  # the service answered 422 (QueryError): counted, never a crash
    right: int = 0  # matched to the truth
    wrong: int = 0  # matched to someone else (for a stranger: matched at all)
    top3: int = 0  # the truth among the first three candidates
    whole_household: int = 0  # every member among the candidates (a query naming nobody)

    def share(self, part: int) -> float:
        return part / self.count if self.count else 0.0


async def evaluate(
    resolver: Resolver, queries: list[Query], concurrency: int = 16
) -> dict[str, ClassTally]:
    """Every query resolved, ``concurrency`` at a time (as the ingestion worker does,
    so that the resolver's batched candidate fetch is what is measured)."""
    tallies: dict[str, ClassTally] = defaultdict(ClassTally)
    pending = iter(queries)

    async def worker() -> None:
        for q in pending:
            tally = tallies[q.kind]
            tally.count += 1
            try:
                answer = await resolver.resolve(q.query)
            except QueryError:
                tally.refused += 1
                continue
            shown = [c.customer_id for c in answer.candidates]
            matched = answer.customer_id if answer.status == "matched" else None
            if q.household:
                # Nobody is named: linking any one member is a guess.
                tally.wrong += matched is not None
                tally.whole_household += set(q.household) <= set(shown)
                continue
            if matched is not None:
                tally.right += matched == q.truth
                tally.wrong += matched != q.truth
            tally.top3 += q.truth is not None and q.truth in shown[:3]

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return dict(tallies)


_HEADINGS = {
    STRONG: f"strong evidence: goal matched to the truth >= {STRONG_GOAL:.2f}, nobody else matched",
    WEAK: "weak evidence: goal truth in the top 3 where stated, nobody else matched",
    HOUSEHOLD: "household account, nobody named: every member among the candidates, nobody matched",
    STRANGER: "strangers (not customers): goal never matched",
}


def report(tallies: dict[str, ClassTally]) -> list[str]:
    """The table: per class its count, refusals, recall of `matched`, truth in the top 3,
    wrong-person matches and the goal, then the totals against the goals of issue 18."""
    lines = [f"{'class':44} {'n':>6} {'refused':>8} {'matched':>8} {'top-3':>6} {'wrong':>6}  goal"]
    failed = 0
    for group, heading in _HEADINGS.items():
        kinds = [k for k, (g, _) in CLASSES.items() if g == group and k in tallies]
        if not kinds:
            continue
        lines.append(heading)
        for kind in kinds:
            line, ok = _row(kind, tallies[kind])
            failed += not ok
            lines.append(line)
    wrong = sum(t.wrong for k, t in tallies.items() if CLASSES[k][0] != STRANGER)
    strangers = [t for k, t in tallies.items() if CLASSES[k][0] == STRANGER]
    matched = sum(t.wrong for t in strangers)
    lines += [
        f"wrong person matched: {wrong:,} (goal {WRONG_PERSON_GOAL}) "
        f"{_verdict(wrong <= WRONG_PERSON_GOAL)}",
        f"strangers matched: {matched:,} of {sum(t.count for t in strangers):,} "
        f"(goal {STRANGERS_GOAL}) {_verdict(matched <= STRANGERS_GOAL)}",
        f"classes short of their goal: {failed} of {len(tallies)}",
    ]
    return lines


def _row(kind: str, t: ClassTally) -> tuple[str, bool]:
    group, goal = CLASSES[kind]
    head = f"  {kind:42} {t.count:>6,} {t.refused:>8,}"
    if group == STRANGER:
        ok = t.wrong <= STRANGERS_GOAL
        return f"{head} {t.share(t.wrong):>8.3f} {'':>6} {t.wrong:>6,}  never matched " + (
            _verdict(ok)
        ), ok
    if group == HOUSEHOLD:
        ok = t.wrong <= WRONG_PERSON_GOAL
        figures = f"{'':>8} {'':>6} {t.wrong:>6,}"
        whole = t.share(t.whole_household)
        return f"{head} {figures}  every member shown {whole:.3f}; nobody matched " + (
            _verdict(ok)
        ), ok
    recall, top3 = t.share(t.right), t.share(t.top3)
    figures = f"{recall:>8.3f} {top3:>6.3f} {t.wrong:>6,}"
    ok = t.wrong <= WRONG_PERSON_GOAL
    if goal is None:
        return f"{head} {figures}  nobody else matched {_verdict(ok)}", ok
    if group == STRONG:
        ok = ok and recall >= goal
        return f"{head} {figures}  matched >= {goal:.2f} {_verdict(ok)}", ok
    ok = ok and top3 >= goal
    return f"{head} {figures}  top-3 >= {goal:.2f} {_verdict(ok)}", ok


def _verdict(ok: bool) -> str:
    return "ok" if ok else "FAIL"
