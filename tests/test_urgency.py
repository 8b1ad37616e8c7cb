"""How urgent a message reads raises its conversation's priority (never lowers it), with
the reason a rep sees."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import redis.asyncio as aioredis

from matchers.topics import classify
from matchers.urgency import RANK, urgency
from service.settings import Settings
from tests import channels as ch
from tests.helpers import AppClient, MakeClient, accepted, admin, drain

pytestmark = pytest.mark.cluster


def _urgency(text: str) -> Any:
    return urgency(text, classify(text))


def test_anger_a_fault_and_a_repeat_raise_it_and_say_so() -> None:
    calm = _urgency("what deals do you have on the new iPhone?")
    assert (calm.priority, calm.reasons) == ("normal", [])
    outage = _urgency("my broadband is down AGAIN, third time this week")
    assert outage.priority == "high"
    assert outage.reasons == ["fault or outage", 'a repeat ("again")']
    furious = _urgency("UNACCEPTABLE, absolutely furious, the third time I write")
    assert furious.priority == "urgent"
    assert furious.reasons[0] == "angry"
    assert furious.sentiment < -0.5
    vulnerable = _urgency("my mum is elderly and her landline is dead")
    assert vulnerable.priority == "urgent"
    assert 'urgent ("elderly")' in vulnerable.reasons


async def _tweet(client: AppClient, tweet_id: str, text: str, reply_to: str | None) -> str:
    raw = ch.body(ch.tweet(tweet_id, "4401", text, reply_to=reply_to))
    return await accepted(
        await client.post("/webhooks/twitter", data=raw, headers=ch.twitter_headers(raw))
    )


async def test_a_conversation_takes_the_priority_its_messages_ask_for(
    make_client: MakeClient, make_settings: Callable[..., Settings], redis: aioredis.Redis
) -> None:
    client = await make_client(**ch.CHANNEL_SETTINGS)
    settings = make_settings(**ch.CHANNEL_SETTINGS)
    first = await _tweet(client, "7001", "@acme my broadband is down AGAIN, third time", None)
    await drain(redis, settings)
    stored = await (await client.get(f"/v1/messages/{first}", headers=admin())).json()
    assert stored["urgency"]["priority"] == "high"
    path = f"/v1/conversations/{stored['conversation_id']}"

    async def conversation() -> Any:
        return await (await client.get(path, headers=admin())).json()

    conv = await conversation()
    assert (conv["priority"], conv["priority_reason"]) == (
        "high",
        'fault or outage, a repeat ("again")',
    )
    assert [e["type"] for e in conv["log"]] == ["inbound", "priority"]
    assert (conv["log"][1]["by"], conv["log"][1]["reason"]) == ("socialid", conv["priority_reason"])

    # A calm message does not lower it; a rep may; a furious one raises it past high.
    await _tweet(client, "7002", "@acme ok thanks, I'll wait", "7001")
    await drain(redis, settings)
    assert (await conversation())["priority"] == "high"
    body = {"rep": "ana", "priority": "normal"}
    await client.put("/v1/reps/ana", json={"name": "Ana", "team": "social"}, headers=admin())
    resp = await client.post(f"{path}/priority", json=body, headers=admin())
    assert resp.status == 200, await resp.text()
    await _tweet(client, "7003", "@acme UNACCEPTABLE, furious, third time I ask", "7002")
    await drain(redis, settings)
    conv = await conversation()
    assert conv["priority"] == "urgent"
    assert conv["priority_reason"].startswith("angry")


def test_a_public_post_seen_widely_ranks_higher() -> None:
    text = "still waiting for a refund, not impressed"
    quiet = urgency(text, classify(text), followers=120)
    widely = urgency(text, classify(text), followers=250_000, likes=340)
    assert widely.points == quiet.points + 3
    assert widely.reasons[-2:] == ["public, 250,000 followers", "public, 340 likes and shares"]
    assert RANK[widely.priority] > RANK[quiet.priority]


async def test_a_tweet_to_many_followers_raises_its_conversation(
    make_client: MakeClient, make_settings: Callable[..., Settings], redis: aioredis.Redis
) -> None:
    client = await make_client(**ch.CHANNEL_SETTINGS)
    payload = ch.tweet("7101", "4402", "@acme been waiting two weeks for my refund, poor")
    event = payload["tweet_create_events"][0]
    event["user"]["followers_count"] = 250_000
    event["favorite_count"], event["retweet_count"] = 120, 40
    raw = ch.body(payload)
    message_id = await accepted(
        await client.post("/webhooks/twitter", data=raw, headers=ch.twitter_headers(raw))
    )
    await drain(redis, make_settings(**ch.CHANNEL_SETTINGS))
    stored = await (await client.get(f"/v1/messages/{message_id}", headers=admin())).json()
    assert stored["message"]["sender"]["followers"] == 250_000
    assert stored["message"]["likes"] == 160
    assert "public, 250,000 followers" in stored["urgency"]["reasons"]
    path = f"/v1/conversations/{stored['conversation_id']}"
    conv = await (await client.get(path, headers=admin())).json()
    assert conv["priority"] in ("high", "urgent")
    assert "250,000 followers" in conv["priority_reason"]
