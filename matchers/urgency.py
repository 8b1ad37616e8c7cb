"""How urgent a message is: the priority its conversation should have at least, and the
reasons a rep sees ("angry, wants to leave"). Pure.

Anger comes from VADER (vaderSentiment), a maintained rule-based sentiment lexicon made
for social media text: it reads capitals, exclamation marks, boosters and negation, needs
no model download and costs about 20 us a message. The rest is the message's topic and a
few phrases that mean "now" or "again".
"""

from __future__ import annotations

import re
from functools import cache
from typing import Literal

from pydantic import BaseModel, Field
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from matchers.text import MAX_TEXT, fold
from matchers.topics import TopicFound

Priority = Literal["low", "normal", "high", "urgent"]
RANK: dict[str, int] = {"low": 0, "normal": 1, "high": 2, "urgent": 3}

# VADER's compound score runs from -1 to 1; -0.05 is its own line for "negative".
ANGRY = -0.5
UNHAPPY = -0.2
# A public post seen this widely is answered sooner.
WIDE_AUDIENCE = 10_000
MANY_LIKES = 100
_NOW = re.compile(
    r"\b(urgent|urgently|asap|emergency|immediately|right now|life support|vulnerable|"
    r"medical|disabled|elderly|hospital|carer|no heating)\b"
)
_AGAIN = re.compile(r"\b(again|third time|fourth time|still not|still no|keeps|every day)\b")
# What a topic adds: a customer leaving or without service outranks a sales question.
_TOPIC_POINTS = {
    "cancellation": (2, "wants to leave"),
    "fault": (1, "fault or outage"),
    "complaint": (1, "complaint about service"),
}


class Urgency(BaseModel, frozen=True):
    priority: Priority = Field(description="The least priority the conversation should have.")
    points: int
    reasons: list[str] = Field(description="Why, in the words a rep reads.")
    sentiment: float = Field(description="VADER's compound score, -1 (angry) to 1.")


def ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


@cache
def _analyzer() -> SentimentIntensityAnalyzer:
    return SentimentIntensityAnalyzer()


def urgency(
    text: str | None,
    topic: TopicFound | None = None,
    *,
    repeat: tuple[int, str] | None = None,
    repeat_from: int = 3,
    followers: int | None = None,
    likes: int | None = None,
) -> Urgency:
    """``repeat``: how many contacts there have been about the open case the message
    continues (this one included), and what the case is ("an open outage"); from
    ``repeat_from`` on, a repeat contact raises the priority. ``followers`` and ``likes``:
    a public post's audience, which makes an unhappy post matter sooner."""
    raw = (text or "")[:MAX_TEXT]
    compound = float(_analyzer().polarity_scores(raw)["compound"]) if raw else 0.0
    folded = fold(raw)
    points, reasons = 0, []
    if compound <= ANGRY:
        points, reasons = 2, ["angry"]
    elif compound <= UNHAPPY:
        points, reasons = 1, ["unhappy"]
    if topic is not None and topic.topic in _TOPIC_POINTS:
        add, why = _TOPIC_POINTS[topic.topic]
        points += add
        reasons.append(why)
    if repeat is not None and repeat[0] >= repeat_from:
        points += 2
        reasons.append(f"{ordinal(repeat[0])} contact about {repeat[1]}")
    elif said := _AGAIN.search(folded):
        points += 1
        reasons.append(f'a repeat ("{said.group(0)}")')
    if said := _NOW.search(folded):
        points += 3
        reasons.append(f'urgent ("{said.group(0)}")')
    if followers is not None and followers >= WIDE_AUDIENCE:
        points += 2 if followers >= 10 * WIDE_AUDIENCE else 1
        reasons.append(f"public, {followers:,} followers")
    if likes is not None and likes >= MANY_LIKES:
        points += 1
        reasons.append(f"public, {likes:,} likes and shares")
    priority: Priority = "urgent" if points >= 4 else "high" if points >= 2 else "normal"
    return Urgency(priority=priority, points=points, reasons=reasons, sentiment=compound)
