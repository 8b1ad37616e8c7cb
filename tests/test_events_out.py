"""Events out: a tool subscribes, and what happens in socialid reaches it signed, retried
while it is down, and kept as a dead letter to replay when it stays down."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
import redis.asyncio as aioredis

from service.events.dispatcher import RetryPolicy
from service.store.keynames import KeySchema
from tests import channels as ch
from tests.helpers import PROBLEM, AppClient, MakeClient, admin, bearer, processed
from tests.receiver import Receiver, receiving, verified

pytestmark = pytest.mark.cluster

DANA = {
    "given_name": "Dana",
    "family_name": "King",
    "identities": [{"channel": "twitter", "external_id": "555123", "handle": "dana_k"}],
    "accounts": [{"number": "12-3456-78", "status": "active"}],
}
FAST = {  # retries in tenths of a second, given up on after two seconds
    "events_retry_base_seconds": 0.05,
    "events_retry_max_seconds": 0.2,
    "events_retry_for_seconds": 2,
}


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    async with receiving() as found:
        yield found


async def _client(make_client: MakeClient, **settings: Any) -> AppClient:
    # The serving app's own worker and dispatcher, as in production.
    client = await make_client(**{**ch.CHANNEL_SETTINGS, "worker": True}, **FAST, **settings)
    resp = await client.put("/v1/customers/c-dana", json=DANA, headers=admin())
    assert resp.status == 201, await resp.text()
    return client


@pytest.fixture
async def client(make_client: MakeClient) -> AppClient:
    return await _client(make_client)


async def _subscribe(client: AppClient, receiver: Receiver, *events: str) -> dict[str, Any]:
    body = {"url": receiver.url, "events": list(events), "description": "care desk"}
    resp = await client.post("/v1/subscriptions", json=body, headers=admin())
    assert resp.status == 201, await resp.text()
    made: dict[str, Any] = await resp.json()
    receiver.secrets = [made["secret"]]
    return made


async def _tweet(client: AppClient, tweet_id: str, user: str, text: str) -> str:
    raw = ch.body(ch.tweet(tweet_id, user, text))
    resp = await client.post("/webhooks/twitter", data=raw, headers=ch.twitter_headers(raw))
    assert resp.status == 200, await resp.text()
    [message_id] = (await resp.json())["accepted"]
    await processed(client, message_id)
    return str(message_id)


async def _log(client: AppClient, subscription: str, **query: str) -> list[dict[str, Any]]:
    resp = await client.get(
        f"/v1/subscriptions/{subscription}/deliveries", params=query, headers=admin()
    )
    assert resp.status == 200, await resp.text()
    found: list[dict[str, Any]] = (await resp.json())["deliveries"]
    return found


async def _until(client: AppClient, subscription: str, status: str) -> dict[str, Any]:
    for _ in range(200):
        found = await _log(client, subscription, status=status)
        if found:
            return found[0]
        await asyncio.sleep(0.05)
    raise AssertionError(f"no delivery became {status}")


async def test_a_known_customers_message_arrives_signed_with_the_card(
    client: AppClient, receiver: Receiver
) -> None:
    sub = await _subscribe(client, receiver, "message.received")
    message_id = await _tweet(client, "1800000000000000901", "555123", "@acme_help bill wrong")
    [event] = await receiver.wait_for(1)
    assert event["type"] == "message.received"
    assert event["data"]["message"]["id"] == message_id
    assert event["data"]["message"]["resolution"]["customer_id"] == "c-dana"
    card = event["data"]["card"]
    assert (card["customer_id"], card["name"]) == ("c-dana", "Dana King")
    assert [a["number"] for a in card["accounts"]] == ["12-3456-78"]
    # Signed by the secret shown at creation (the receiver checked), which no read
    # shows again.
    assert receiver.headers[0]["webhook-signature"].startswith("v1,")
    listed = await (await client.get(f"/v1/subscriptions/{sub['id']}", headers=admin())).json()
    assert "secret" not in listed
    [delivered] = await _log(client, sub["id"])
    assert (delivered["id"], delivered["status"]) == (receiver.ids[0], "delivered")
    assert delivered["attempts"] == 1
    assert delivered["last_status"] == 204
    assert receiver.refused == 0


async def test_an_unknown_senders_message_carries_no_card(
    client: AppClient, receiver: Receiver
) -> None:
    await _subscribe(client, receiver, "message.received")
    await _tweet(client, "1800000000000000902", "999000", "@acme_help who am I to you")
    [event] = await receiver.wait_for(1)
    assert event["data"]["message"]["resolution"]["status"] != "matched"
    assert event["data"].get("card") is None


async def test_a_receiver_with_the_wrong_secret_refuses_every_delivery(
    client: AppClient, receiver: Receiver
) -> None:
    sub = await _subscribe(client, receiver, "message.received")
    receiver.secrets = ["whsec_" + "QUJD" * 8]  # not the subscription's
    await _tweet(client, "1800000000000000903", "555123", "@acme_help hello")
    failed = await _until(client, sub["id"], "pending")
    while failed["attempts"] == 0:
        failed = (await _log(client, sub["id"]))[0]
    assert receiver.refused >= 1
    assert not receiver.events
    assert failed["last_status"] == 401
    assert "401" in failed["last_error"]


async def test_conversation_events_follow_claim_hand_off_and_close(
    client: AppClient, receiver: Receiver
) -> None:
    for rep in ("ana", "ben"):
        made = await client.put(
            f"/v1/reps/{rep}", json={"name": rep.title(), "team": "social"}, headers=admin()
        )
        assert made.status == 201
        assert (await client.post(f"/v1/reps/{rep}/shift/start", headers=admin())).status == 200
    await _subscribe(
        client,
        receiver,
        "conversation.claimed",
        "conversation.handed_off",
        "conversation.closed",
    )
    message_id = await _tweet(client, "1800000000000000904", "555123", "@acme_help outage")
    conv = (await processed(client, message_id))["conversation_id"]
    resp = await client.post(
        f"/v1/conversations/{conv}/claim", json={"rep": "ana"}, headers=admin()
    )
    assert resp.status == 200, await resp.text()
    end = {"handoff_to": "ben", "note": "Engineer booked for Tuesday."}
    resp = await client.post("/v1/reps/ana/shift/end", json=end, headers=admin())
    assert resp.status == 200, await resp.text()
    resp = await client.post(
        f"/v1/conversations/{conv}/close", json={"rep": "ben"}, headers=admin()
    )
    assert resp.status == 200, await resp.text()
    events = await receiver.wait_for(3)
    assert [e["type"] for e in events] == [
        "conversation.claimed",
        "conversation.handed_off",
        "conversation.closed",
    ]
    claimed, handed, closed = (e["data"] for e in events)
    assert (claimed["conversation_id"], claimed["by"]) == (conv, "ana")
    assert (handed["by"], handed["to"], handed["note"]) == ("ana", "ben", end["note"])
    assert closed["by"] == "ben"
    assert len(set(receiver.ids)) == 3  # each event its own webhook-id


async def test_links_and_withdrawals_are_announced(client: AppClient, receiver: Receiver) -> None:
    await _subscribe(client, receiver, "identity.linked", "message.withdrawn")
    link = {"customer_id": "c-dana", "method": "rep_confirmed", "reason": "asked for DOB"}
    resp = await client.put("/v1/identities/email/dana@example.com", json=link, headers=admin())
    assert resp.status == 201, await resp.text()
    message_id = await _tweet(client, "1800000000000000905", "555123", "@acme_help my PIN 4471")
    deletion = ch.body(
        {
            "for_user_id": ch.OWN_TWITTER,
            "tweet_delete_events": [
                {
                    "status": {"id": "1800000000000000905", "user_id": "555123"},
                    "timestamp_ms": "1741079900000",
                }
            ],
        }
    )
    resp = await client.post(
        "/webhooks/twitter", data=deletion, headers=ch.twitter_headers(deletion)
    )
    assert resp.status == 200
    linked, withdrawn = await receiver.wait_for(2)
    assert linked["type"] == "identity.linked"
    assert linked["data"] | {"at": None} == linked["data"] | {
        "channel": "email",
        "external_id": "dana@example.com",
        "customer_id": "c-dana",
        "method": "rep_confirmed",
        "at": None,
    }
    assert withdrawn["type"] == "message.withdrawn"
    assert withdrawn["data"]["message_id"] == message_id
    assert "4471" not in str(withdrawn)  # what was withdrawn is not sent on


async def test_a_receiver_that_was_down_gets_the_event_on_a_retry(
    client: AppClient, receiver: Receiver
) -> None:
    receiver.failures_left = 2
    sub = await _subscribe(client, receiver, "message.received")
    await _tweet(client, "1800000000000000906", "555123", "@acme_help anyone there")
    await receiver.wait_for(1)
    delivered = await _until(client, sub["id"], "delivered")
    assert delivered["attempts"] == 3
    assert receiver.attempts == 3


async def test_a_receiver_down_past_the_window_leaves_a_dead_letter_to_replay(
    client: AppClient, receiver: Receiver
) -> None:
    receiver.fail_with = 500
    sub = await _subscribe(client, receiver, "message.received")
    await _tweet(client, "1800000000000000907", "555123", "@acme_help still broken")
    dead = await _until(client, sub["id"], "dead")
    assert dead["attempts"] >= 3
    assert dead["last_status"] == 500
    metrics = await (await client.get("/metrics")).text()
    assert "socialid_event_deliveries_dead 1.0" in metrics
    assert 'socialid_event_attempts_total{outcome="dead"} 1.0' in metrics

    receiver.fail_with = None
    resp = await client.post(f"/v1/subscriptions/{sub['id']}/replay", json={}, headers=admin())
    assert (await resp.json()) == {"replayed": 1}
    await receiver.wait_for(1)
    assert receiver.ids == [dead["id"]]  # the same webhook-id: a receiver can dedupe
    assert (await _until(client, sub["id"], "delivered"))["id"] == dead["id"]


@pytest.mark.parametrize("overlap_hours", [1, 0])
async def test_a_rotated_secret_signs_beside_the_old_one_for_the_overlap(
    make_client: MakeClient, receiver: Receiver, overlap_hours: int
) -> None:
    client = await _client(make_client, events_secret_overlap_hours=overlap_hours)
    sub = await _subscribe(client, receiver, "message.received")
    old = sub["secret"]
    resp = await client.post(f"/v1/subscriptions/{sub['id']}/secret", headers=admin())
    assert resp.status == 200
    new = (await resp.json())["secret"]
    receiver.secrets = [new]  # the receiver switched at once
    await _tweet(client, "1800000000000000908", "555123", "@acme_help rotated")
    await receiver.wait_for(1)
    headers, raw = receiver.headers[0], receiver.bodies[0]
    # A receiver not yet switched still verifies it during the overlap, and only then.
    assert verified(old, headers, raw) is (overlap_hours > 0)
    assert len(headers["webhook-signature"].split(" ")) == (2 if overlap_hours else 1)


async def test_subscriptions_are_for_admins_and_refuse_what_cannot_work(
    client: AppClient, receiver: Receiver
) -> None:
    bad = [
        {"url": "ftp://127.0.0.1/x", "events": ["message.received"]},
        {"url": receiver.url, "events": ["message.exploded"]},
        {"url": receiver.url, "events": []},
    ]
    for body in bad:
        resp = await client.post("/v1/subscriptions", json=body, headers=admin())
        assert (resp.status, resp.content_type) == (422, PROBLEM), body
    made = await client.post(
        "/v1/keys", json={"name": "desk", "scopes": ["integration"]}, headers=admin()
    )
    token = (await made.json())["token"]
    body = {"url": receiver.url, "events": ["message.received"]}
    resp = await client.post("/v1/subscriptions", json=body, headers=bearer(token))
    assert resp.status == 403
    missing = await client.get("/v1/subscriptions/sub_" + "0" * 24, headers=admin())
    assert (missing.status, (await missing.json())["type"].rsplit("/", 1)[-1]) == (
        404,
        "subscription-not-found",
    )


async def test_a_deleted_subscription_hears_nothing_more_and_leaves_no_keys(
    client: AppClient, receiver: Receiver, redis: aioredis.Redis, keys: KeySchema
) -> None:
    sub = await _subscribe(client, receiver, "message.received")
    await _tweet(client, "1800000000000000909", "555123", "@acme_help one")
    await receiver.wait_for(1)
    resp = await client.delete(f"/v1/subscriptions/{sub['id']}", headers=admin())
    assert resp.status == 204
    assert not [k async for k in redis.scan_iter(match=keys.subscription(sub["id"])[:-3] + "*")]
    await _tweet(client, "1800000000000000910", "555123", "@acme_help two")
    await asyncio.sleep(0.3)
    assert len(receiver.events) == 1
    # Nobody subscribes now: events are no longer written at all.
    assert await redis.xlen(keys.event_outbox()) == 0
    assert not await redis.exists(keys.event_types_wanted())


def test_retries_back_off_exponentially_up_to_the_cap_and_stop_after_the_window() -> None:
    policy = RetryPolicy(base=5, cap=3600, give_up_after=86_400)
    waits = [policy.delay(n) for n in range(1, 14)]
    assert all(0.75 * 5 * 2 ** (n - 1) <= w <= 5 * 2 ** (n - 1) for n, w in enumerate(waits[:9], 1))
    assert all(0.75 * 3600 <= w <= 3600 for w in waits[10:])
    day = 86_400_000
    assert policy.next_attempt_ms(0, 3, 1000) is not None
    assert policy.next_attempt_ms(0, 30, day - 1000) is None  # past the day: a dead letter


async def test_a_message_tied_to_an_open_case_carries_it_on_the_card(
    client: AppClient, receiver: Receiver
) -> None:
    outage = {
        "id": "k1",
        "type": "case_opened",
        "at": "2025-03-01T08:00:00Z",
        "case_id": "4471",
        "category": "outage",
        "channel": "phone",
        "summary": "no broadband since the storm",
    }
    resp = await client.post("/v1/customers/c-dana/events", json=[outage], headers=admin())
    assert resp.status == 201, await resp.text()
    await _subscribe(client, receiver, "message.received")
    await _tweet(client, "1800000000000000991", "555123", "@acme_help internet down again")
    [event] = await receiver.wait_for(1)
    assert event["data"]["message"]["case"]["case_id"] == "4471"
    likely = event["data"]["card"]["likely_case"]
    assert (likely["case_id"], likely["contacts"]) == ("4471", 2)
