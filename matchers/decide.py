"""From scored candidates to an answer: matched, ambiguous or no_match.

Never link the wrong person: ``matched`` needs a high probability, a clear lead over the
next candidate, and a strong identifier among the evidence. Names, handles and places,
however well they agree, give at most ``ambiguous``: a rep confirms.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from matchers.model import Evidence, Score

Status = Literal["matched", "ambiguous", "no_match"]

STRONG: frozenset[tuple[str, str]] = frozenset(
    {
        ("email", "same mailbox"),
        ("phone", "exact"),
        ("account_number", "exact"),
        ("mentioned", "account number in text"),
        ("mentioned", "e-mail in text"),
        ("mentioned", "phone in text"),
    }
)
# Overwhelming evidence without an identifier: name, date of birth and address together.
# For each field, the levels that agree and those that nearly agree (a typo, day and month
# swapped, only the town). Never a given name spelled like another real name: Andrew and
# Andrea may be twins at one address, with one birthday.
_GIVEN = (
    frozenset({"exact", "swapped with the family name"}),
    frozenset({"another romanisation", "typo"}),
)
_FAMILY = (
    frozenset({"exact", "swapped with the given name"}),
    frozenset({"another romanisation", "jaro-winkler >= 0.92", "one edit", "shared part"}),
)
_BIRTH = (frozenset({"exact"}), frozenset({"day and month swapped", "one part off"}))
_ADDRESS_AGREES = frozenset(
    {("postcode", "exact"), ("street", "exact"), ("street", "same number, similar street")}
)
_ADDRESS_NEAR = frozenset({("town", "exact"), ("postcode", "same district")})
# A strong identifier shared in a household (a family e-mail, the landline, the account
# holder's number) says "this household", not "this person": a given name or a date of
# birth that disagrees outright means it is someone else in it.
_CONTRADICTING = (("given_name", "else"), ("date_of_birth", "else"))


@dataclass(frozen=True, slots=True)
class Thresholds:
    auto: float = 0.99
    review: float = 0.05
    margin: float = 4.0  # the top candidate's weight must lead the next by this many bits
    max_candidates: int = 5


@dataclass(frozen=True, slots=True)
class Standing:
    """Which customers a rep should see first: each candidate's share of the posterior
    among every candidate found and the alternative that the sender is no customer at
    all. The absolute match probability answers another question (is this the same
    person?), and its prior of one in the whole population puts an exact full name far
    below any review floor: ranking by it showed a rep nobody. Here each customer of a
    book of N has a prior of 1/N and "not a customer" the same total as all customers
    together, so a rare exact name stands out in any book and five equal John Smiths
    share what they have."""

    prior_weight: float  # the model's own prior, taken out of each weight
    log2_book: float
    total: float  # 1 (not a customer) + the odds of every candidate

    @classmethod
    def among(cls, weights: Iterable[float], prior_weight: float, book_size: int) -> Standing:
        log2_book = math.log2(max(book_size, 1))
        total = 1.0 + sum(_odds(w - prior_weight - log2_book) for w in weights)
        return cls(prior_weight, log2_book, total)

    def share(self, weight: float) -> float:
        return _odds(weight - self.prior_weight - self.log2_book) / self.total


def _odds(bits: float) -> float:
    odds: float = 2.0 ** min(bits, 1000.0)
    return odds


def has_strong_identifier(evidence: list[Evidence]) -> bool:
    levels = {(e.field, e.level) for e in evidence}
    return bool(levels & STRONG) or overwhelming(evidence)


def overwhelming(evidence: list[Evidence]) -> bool:
    return not_overwhelming(evidence) is None


def not_overwhelming(evidence: list[Evidence]) -> str | None:
    """Why name, date of birth and address do not single the person out (None: they do).

    They do when each agrees, independent of the others. Allowed: one of them agreeing
    only nearly (a typo in a name, day and month swapped, the town without the street;
    two where postcode and street both agree); and, where everything else agrees outright,
    address in full, a family name that differs (a married name). Never without a given
    name, nor with one or a date of birth that differs: twins share everything else, and a
    father and son of one name share all but the birthday."""
    by_field = {e.field: e.level for e in evidence}
    if by_field.get("date_of_birth") is None:
        return "no date of birth to compare"
    near = 0
    gaps = 0  # a family name that differs
    for field, (agrees, nearly) in (
        ("given_name", _GIVEN),
        ("family_name", _FAMILY),
        ("date_of_birth", _BIRTH),
    ):
        level = by_field.get(field)
        if level in agrees:
            continue
        if level in nearly:
            near += 1
        elif field == "family_name" and level in (None, "else"):
            gaps += level is not None
        elif level is None:
            return f"no {field.replace('_', ' ')} to compare"
        else:
            return f"the {field.replace('_', ' ')} differs"
    levels = set(by_field.items())
    address = {f for f, _ in levels & _ADDRESS_AGREES}
    if not address:
        if not levels & _ADDRESS_NEAR:
            return "no address agrees"
        near += 1
    in_full = len(address) == 2  # postcode and street
    if gaps:
        if gaps == 1 and near == 0 and in_full:
            return None
        return "another family name, and not everything else agrees"
    return None if near <= (2 if in_full else 1) else "too much agrees only nearly"


def unlinked_because(
    ranked: list[tuple[str, Score]], thresholds: Thresholds = Thresholds(), *, complete: bool
) -> str | None:
    """Why the best candidate is not linked, in the words a rep reads (None: it is)."""
    if not ranked:
        return "no candidate"
    top = ranked[0][1]
    runner_up = ranked[1][1].match_weight if len(ranked) > 1 else float("-inf")
    if not complete:
        return "too many candidates to weigh them all"
    for field, level in _CONTRADICTING:
        if any(e.field == field and e.level == level for e in top.evidence):
            return f"the {field.replace('_', ' ')} disagrees: someone else in the household?"
    levels = {(e.field, e.level) for e in top.evidence}
    if not levels & STRONG:
        missing = not_overwhelming(top.evidence)
        if missing:
            return f"no e-mail, phone or account number agrees, and {missing}"
    if top.match_probability < thresholds.auto:
        return "the evidence is not strong enough"
    if top.match_weight - runner_up < thresholds.margin:
        return "another candidate is about as likely"
    return None


def decide(
    ranked: list[tuple[str, Score]],
    thresholds: Thresholds = Thresholds(),
    *,
    complete: bool = True,
) -> tuple[Status, list[tuple[str, Score]]]:
    """``ranked``: (customer id, score), best first. Answers the status and the
    candidates to show (the match alone, the reviewable ones, or none). ``complete``:
    False when candidates were cut off by a cap: an unseen one might be the real match,
    so nothing is linked."""
    if not ranked:
        return "no_match", []
    if unlinked_because(ranked, thresholds, complete=complete) is None:
        return "matched", ranked[:1]
    # What a rep sees is ranked by standing among the candidates; only ``matched`` rests
    # on the absolute probability.
    reviewable = [(cid, s) for cid, s in ranked if s.share >= thresholds.review]
    if reviewable:
        return "ambiguous", reviewable[: thresholds.max_candidates]
    return "no_match", []
