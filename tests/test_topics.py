"""What a message is about: a topic with the phrases that decided it, from a taxonomy an
operator can extend; on every processed message."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from matchers.topics import OTHER, classify, load_taxonomy
from service.cli.main import main
from service.settings import ConfigError, Settings, load_settings
from tests import channels as ch
from tests.helpers import MakeClient, accepted, drain, processed

pytestmark = pytest.mark.cluster

DATA = Path(__file__).parent / "data"


def test_an_outage_message_is_a_fault_and_says_why() -> None:
    found = classify("@acme my broadband is down AGAIN, third time this week")
    assert found.topic == "fault"
    assert found.label == "Fault or outage"
    assert "broadband is down" in found.evidence
    assert 0 < found.confidence < 1


def test_each_topic_is_found_and_nothing_known_is_other() -> None:
    cases = {
        "billing": "I was charged twice for March, want a refund",
        "cancellation": "I want to cancel and switch to another provider",
        "sales": "can I upgrade to the faster package?",
        "account": "I moved house, please change my address",
        "complaint": "I want to make a complaint, nobody called back",
        "praise": "thank you, brilliant help from Jo",
        OTHER: "what time do you open on Sunday",
    }
    assert {t: classify(text).topic for t, text in cases.items()} == {t: t for t in cases}
    assert classify("").evidence == []
    assert classify(None).topic == OTHER


def test_more_agreeing_evidence_is_more_confident() -> None:
    one = classify("my bill")
    more = classify("my bill is wrong, I was overcharged and want a refund")
    assert one.topic == more.topic == "billing"
    assert more.confidence > one.confidence
    # The same phrase twice is one piece of evidence.
    assert classify("bill bill bill").confidence == one.confidence


def test_an_operator_adds_a_topic_and_replaces_another() -> None:
    taxonomy = load_taxonomy(
        """
        [roaming]
        label = "Roaming"
        strong = ["roaming", "abroad"]
        patterns = ['\\beu data\\b']

        [praise]
        label = "Thanks"
        phrases = ["ta"]
        """
    )
    found = classify("is there eu data when roaming abroad?", taxonomy)
    assert (found.topic, found.label) == ("roaming", "Roaming")
    assert classify("ta very much", taxonomy).label == "Thanks"
    # The replaced topic's default phrases are gone; the other defaults stay.
    assert classify("brilliant, thank you", taxonomy).topic != "praise"
    assert classify("my bill is wrong", taxonomy).topic == "billing"


def test_a_topics_file_that_cannot_be_read_stops_the_service_at_start(tmp_path: Path) -> None:
    bad = tmp_path / "topics.toml"
    bad.write_text('[x]\npatterns = ["(unclosed"]\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="topics_file"):
        load_settings(topics_file=str(bad))
    missing = tmp_path / "nope.toml"
    with pytest.raises(ConfigError, match="topics_file"):
        load_settings(topics_file=str(missing))


@pytest.mark.parametrize("name", ["topics_labelled.jsonl", "topics_heldout.jsonl"])
def test_the_labelled_sets_name_only_known_topics(name: str) -> None:
    rows = [json.loads(line) for line in (DATA / name).read_text("utf-8").splitlines()]
    known = {*load_taxonomy("").labels, OTHER}
    assert {r["topic"] for r in rows} == known  # every topic, and nothing else


async def test_a_processed_message_carries_its_topic_and_evidence(
    make_client: MakeClient,
    make_settings: Callable[..., Settings],
    redis: aioredis.Redis,
    tmp_path: Path,
) -> None:
    topics = tmp_path / "topics.toml"
    topics.write_text('[roaming]\nlabel = "Roaming"\nstrong = ["roaming"]\n', "utf-8")
    overrides = {**ch.CHANNEL_SETTINGS, "topics_file": topics}
    client = await make_client(**overrides)
    said = {
        "8801": "how does roaming in Spain work",  # the operator's topic
        "8802": "my broadband is down again",  # a default one
    }
    ids = {}
    for tweet_id, text in said.items():
        raw = ch.body(ch.tweet(tweet_id, f"66{tweet_id}", text))
        resp = await client.post("/webhooks/twitter", data=raw, headers=ch.twitter_headers(raw))
        ids[tweet_id] = await accepted(resp)
    await drain(redis, make_settings(**overrides))
    roaming, fault = [await processed(client, ids[t]) for t in said]
    assert roaming["topic"] == {
        "topic": "roaming",
        "label": "Roaming",
        "confidence": 0.667,
        "evidence": ["roaming"],
    }
    assert fault["topic"]["topic"] == "fault"
    assert fault["topic"]["evidence"] == ["broadband is down"]


def test_bench_quality_prints_precision_and_recall_per_topic(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["bench", "quality", "--topics"]) == 0
    out = capsys.readouterr().out
    for name in ("topics_labelled.jsonl", "topics_heldout.jsonl"):
        assert f"({name}):" in out
    rows = [line.split() for line in out.splitlines() if line.strip().startswith("fault")]
    assert len(rows) == 2
    assert all(len(r) == 4 for r in rows)
