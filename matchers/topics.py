"""What a customer's message is about: a topic from a taxonomy of phrases (topics.toml),
with the phrases that decided it and a confidence. Pure.

Why phrases and not a trained model: a rep must see why ("bill", "charged twice"), an
operator must be able to add the words of their own products without a training set, and
nothing may download a model at run time. The taxonomy is data; this module only
compiles it into one regular expression and weighs what matches.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from pydantic import BaseModel, Field

from matchers.text import MAX_TEXT, fold

OTHER = "other"
STRONG = 2


class TopicFound(BaseModel, frozen=True):
    topic: str = Field(description='The topic\'s name, or "other" when nothing matched.')
    label: str
    confidence: float = Field(
        description="The topic's share of the evidence, shrunk for thin evidence: one "
        "phrase alone 0.5, one strong phrase 0.67, more agreeing phrases nearer 1."
    )
    evidence: list[str] = Field(description="The phrases that decided it, as they matched.")


@dataclass(frozen=True, slots=True)
class Taxonomy:
    """Topics in tie-breaking order, and one expression over every phrase and pattern:
    each named group is one phrase, with the topics it counts for and its weight."""

    labels: dict[str, str]
    expression: re.Pattern[str]
    groups: dict[str, tuple[tuple[str, int], ...]]

    @classmethod
    def from_tables(cls, tables: dict[str, Any]) -> Taxonomy:
        labels: dict[str, str] = {}
        alternatives: dict[str, list[tuple[str, int]]] = {}
        for name, table in tables.items():
            if name == OTHER:
                raise ValueError('"other" is what no topic matched; it has no phrases')
            labels[name] = str(table.get("label", name))
            for weight, key in ((1, "phrases"), (STRONG, "strong")):
                for phrase in table.get(key, []):
                    alternatives.setdefault(_phrase_regex(str(phrase)), []).append((name, weight))
            for pattern in table.get("patterns", []):
                re.compile(pattern)  # a bad pattern fails here, naming itself
                alternatives.setdefault(f"(?:{pattern})", []).append((name, 1))
        # Longest first: "broadband is down" wins over "down" where both match.
        ordered = sorted(alternatives, key=len, reverse=True)
        groups = {f"p{i}": tuple(alternatives[regex]) for i, regex in enumerate(ordered)}
        joined = "|".join(f"(?P<p{i}>{regex})" for i, regex in enumerate(ordered))
        return cls(labels, re.compile(joined or r"(?!x)x"), groups)


def _phrase_regex(phrase: str) -> str:
    """Words matched whole; a word ending in * with any ending ("switch* to")."""
    words = []
    for word in phrase.split():
        if word.endswith("*"):
            words.append(re.escape(fold(word[:-1])) + "[a-z0-9]*")
        else:
            words.append(re.escape(fold(word)))
    return r"\b" + " ".join(words) + (r"\b" if not phrase.endswith("*") else "")


@cache
def default_tables() -> dict[str, Any]:
    text = resources.files("matchers").joinpath("topics.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


@cache
def default_taxonomy() -> Taxonomy:
    return Taxonomy.from_tables(default_tables())


def load_taxonomy(toml_text: str) -> Taxonomy:
    """The default taxonomy extended (or overridden, topic by topic) by an operator's."""
    return Taxonomy.from_tables({**default_tables(), **tomllib.loads(toml_text)})


def classify(text: str | None, taxonomy: Taxonomy | None = None) -> TopicFound:
    """The topic of a message's text."""
    rules = taxonomy or default_taxonomy()
    folded = fold((text or "")[:MAX_TEXT])
    weights: dict[str, int] = {}
    evidence: dict[str, list[str]] = {}
    counted: set[tuple[str, str]] = set()
    for match in rules.expression.finditer(folded):
        group = match.lastgroup
        assert group is not None
        said = match.group(group)
        for topic, weight in rules.groups[group]:
            if (topic, said) in counted:
                continue  # "bill ... bill" is one piece of evidence
            counted.add((topic, said))
            weights[topic] = weights.get(topic, 0) + weight
            evidence.setdefault(topic, []).append(said)
    if not weights:
        return TopicFound(topic=OTHER, label="Other", confidence=0.0, evidence=[])
    order = list(rules.labels)
    best = max(weights, key=lambda t: (weights[t], -order.index(t)))
    confidence = weights[best] / (sum(weights.values()) + 1)
    return TopicFound(
        topic=best,
        label=rules.labels[best],
        confidence=round(confidence, 3),
        evidence=evidence[best],
    )
