"""How well the model's probabilities agree with what reps decided.

Reps' confirmed links say "this candidate was the sender", their rejections "this one
was not". Every model answer that named a labelled candidate gives a pair (predicted
probability, outcome); grouped by predicted probability, a calibrated model's matches
occur about as often as it predicted. Pure functions over those pairs.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from itertools import pairwise


@dataclass(frozen=True, slots=True)
class Bin:
    low: float
    high: float
    count: int
    predicted: float  # mean predicted probability in the bin
    observed: float  # share that reps confirmed


@dataclass(frozen=True, slots=True)
class Calibration:
    pairs: int
    positives: int
    brier: float | None  # mean squared error of the probabilities; lower is better
    bins: list[Bin]


def labelled(
    candidates: Iterable[tuple[str, float]], confirmed: str | None, rejected: frozenset[str]
) -> list[tuple[float, int]]:
    """(probability, 1 if the rep confirmed this candidate else 0) for each candidate the
    labels speak about: the confirmed one, the rejected ones, and, once a rep confirmed
    someone, every other candidate (the sender is one person)."""
    pairs = []
    for customer_id, probability in candidates:
        if confirmed is not None:
            pairs.append((probability, int(customer_id == confirmed)))
        elif customer_id in rejected:
            pairs.append((probability, 0))
    return pairs


def calibrate(pairs: list[tuple[float, int]], bins: int = 10) -> Calibration:
    edges = [i / bins for i in range(bins + 1)]
    table = []
    for low, high in pairwise(edges):
        inside = [(p, y) for p, y in pairs if low <= p < high or (high == 1.0 and p == 1.0)]
        if inside:
            table.append(
                Bin(
                    low=low,
                    high=high,
                    count=len(inside),
                    predicted=sum(p for p, _ in inside) / len(inside),
                    observed=sum(y for _, y in inside) / len(inside),
                )
            )
    brier = sum((p - y) ** 2 for p, y in pairs) / len(pairs) if pairs else None
    return Calibration(
        pairs=len(pairs), positives=sum(y for _, y in pairs), brier=brier, bins=table
    )
