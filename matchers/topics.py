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


# A phrase as words; a word that ends in "*" matches any word it starts ("cancel*").
Words = tuple[tuple[str, bool], ...]
Counts = tuple[tuple[str, int], ...]  # (topic, weight) a match adds


def _words(phrase: str) -> Words:
    out = []
    for word in phrase.split():
        stem = fold(word.removesuffix("*"))
        if stem:
            out.append((stem, word.endswith("*")))
    return tuple(out)


def _key(word: str) -> str:
    return word[:3]  # phrases are looked up by their first word's first letters


@dataclass(frozen=True, slots=True)
class Taxonomy:
    """Topics in tie-breaking order; their phrases indexed by the first letters of their
    first word (longest first, so "broadband is down" wins over "down"); and their
    patterns, each a regular expression over the folded text."""

    labels: dict[str, str]
    cases: dict[str, frozenset[str]]  # topic -> categories of the cases it continues
    phrases: dict[str, tuple[tuple[Words, Counts], ...]]
    patterns: tuple[tuple[re.Pattern[str], Counts], ...]

    @classmethod
    def from_tables(cls, tables: dict[str, Any]) -> Taxonomy:
        labels: dict[str, str] = {}
        cases: dict[str, frozenset[str]] = {}
        counts: dict[Words, list[tuple[str, int]]] = {}
        patterns: dict[str, list[tuple[str, int]]] = {}
        for name, table in tables.items():
            if name == OTHER:
                raise ValueError('"other" is what no topic matched; it has no phrases')
            labels[name] = str(table.get("label", name))
            cases[name] = frozenset(str(c).strip().lower() for c in table.get("cases", []))
            for weight, key in ((1, "phrases"), (STRONG, "strong")):
                for phrase in table.get(key, []):
                    if words := _words(str(phrase)):
                        counts.setdefault(words, []).append((name, weight))
            for pattern in table.get("patterns", []):
                re.compile(pattern)  # a bad pattern fails here, naming itself
                patterns.setdefault(str(pattern), []).append((name, 1))
        index: dict[str, list[tuple[Words, Counts]]] = {}
        for words in sorted(counts, key=lambda w: (-len(w), -sum(len(s) for s, _ in w))):
            index.setdefault(_key(words[0][0]), []).append((words, tuple(counts[words])))
        return cls(
            labels,
            cases,
            {k: tuple(v) for k, v in index.items()},
            tuple((re.compile(p), tuple(c)) for p, c in patterns.items()),
        )


def _matches(words: Words, tokens: list[str], at: int) -> bool:
    if at + len(words) > len(tokens):
        return False
    for (stem, prefix), token in zip(words, tokens[at:], strict=False):
        if not (token.startswith(stem) if prefix else token == stem):
            return False
    return True


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

    def count(said: str, counts: Counts) -> None:
        for topic, weight in counts:
            if (topic, said) not in counted:  # "bill ... bill" is one piece of evidence
                counted.add((topic, said))
                weights[topic] = weights.get(topic, 0) + weight
                evidence.setdefault(topic, []).append(said)

    tokens = folded.split()
    at = 0
    while at < len(tokens):
        for words, counts in rules.phrases.get(_key(tokens[at]), ()):
            if _matches(words, tokens, at):
                count(" ".join(tokens[at : at + len(words)]), counts)
                at += len(words)
                break
        else:
            at += 1
    for pattern, counts in rules.patterns:
        for match in pattern.finditer(folded):
            count(match.group(0), counts)
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
