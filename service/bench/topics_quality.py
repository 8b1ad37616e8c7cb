"""``socialid bench quality --topics``: precision and recall per topic on the labelled
messages kept in tests/data (one JSON object a line: text, topic).

Two sets: ``topics_labelled.jsonl`` was written beside the default taxonomy and used to
tune it (a development figure); ``topics_heldout.jsonl`` was written after, and never
used for tuning (what to expect on messages nobody tuned for).
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from matchers.topics import OTHER, Taxonomy, classify

SETS = {
    "development": "topics_labelled.jsonl",
    "held out": "topics_heldout.jsonl",
}


def labelled_dir() -> Path:
    """tests/data of the source tree this package runs from."""
    return Path(__file__).resolve().parents[2] / "tests" / "data"


def scores(rows: list[tuple[str, str]], taxonomy: Taxonomy) -> dict[str, tuple[float, float, int]]:
    """Per topic: precision, recall and how many messages the set labels so."""
    hit, said, truth = Counter[str](), Counter[str](), Counter[str]()
    for text, topic in rows:
        got = classify(text, taxonomy).topic
        said[got] += 1
        truth[topic] += 1
        hit[topic] += got == topic
    return {
        topic: (hit[topic] / said[topic] if said[topic] else 0.0, hit[topic] / truth[topic], n)
        for topic, n in truth.items()
    }


def bench_topics(taxonomy: Taxonomy, directory: Path | None = None) -> int:
    folder = directory or labelled_dir()
    if not folder.is_dir():
        print(f"no labelled messages at {folder}: run from a clone of the repository")
        return 1
    topics = [*taxonomy.labels, OTHER]
    for name, file in SETS.items():
        lines = (folder / file).read_text(encoding="utf-8").splitlines()
        rows = [(r["text"], r["topic"]) for r in map(json.loads, lines)]
        table = scores(rows, taxonomy)
        right = sum(round(r * n) for _, r, n in table.values())
        print(f"\ntopics, {name} set ({file}): {right} of {len(rows)} right")
        print(f"{'topic':>14} {'messages':>9} {'precision':>10} {'recall':>7}")
        for topic in topics:
            if topic in table:
                precision, recall, n = table[topic]
                print(f"{topic:>14} {n:>9} {precision:>10.2f} {recall:>7.2f}")
    return 0
