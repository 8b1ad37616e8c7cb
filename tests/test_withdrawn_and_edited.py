"""Unsent, deleted and edited messages, as the providers announce them: the stored
message follows, and so does the customer's history; never a second message."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
import redis.asyncio as aioredis

from service.settings import Settings
from tests import channels as ch
from tests.helpers import AppClient, MakeClient, admin, drain

pytestmark = pytest.mark.cluster

DANA = {
    "given_name": "Dana",
    "family_name": "King",
    "identities": [
        {"channel": "twitter", "external_id": "555123", "handle": "dana_k"},
        {"channel": "instagram", "external_id": "1789000001"},
        {"channel": "forum", "external_id": "https://forum.example.com/u/311"},
        {"channel": "facebook", "external_id": "7700112233"},
    ],
}
Post = Callable[[str, bytes, dict[str, str]], Awaitable[list[str]]]


@pytest.fixture
async def client(make_client: MakeClient) -> AppClient:
    client = await make_client(**ch.CHANNEL_SETTINGS)
    assert (await client.put("/v1/customers/c-dana", json=DANA, headers=admin())).status == 201
    return client


@pytest.fixture
def post(client: AppClient, make_settings: Callable[..., Settings], redis: aioredis.Redis) -> Post:
    async def send(path: str, raw: bytes, headers: dict[str, str]) -> list[str]:
        resp = await client.post(path, data=raw, headers=headers)
        assert resp.status == 200, await resp.text()
        accepted: list[str] = (await resp.json())["accepted"]
        await drain(redis, make_settings(**ch.CHANNEL_SETTINGS))
        return accepted

    return send


async def _message(client: AppClient, message_id: str) -> dict[str, Any]:
    resp = await client.get(f"/v1/messages/{message_id}", headers=admin())
    assert resp.status == 200
    found: dict[str, Any] = await resp.json()
    return found


async def _history(client: AppClient) -> list[dict[str, Any]]:
    page = await (await client.get("/v1/customers/c-dana/history", headers=admin())).json()
    events: list[dict[str, Any]] = page["events"]
    return events


async def _listed(client: AppClient) -> list[str]:
    page = await (await client.get("/v1/messages", headers=admin())).json()
    return [m["id"] for m in page["messages"]]


def _instagram(mid: str, text: str = "", **message: Any) -> bytes:
    payload = ch.messenger(mid, "1789000001", text)
    payload["object"] = "instagram"
    payload["entry"][0]["messaging"][0]["message"].update(message)
    return ch.body(payload)


async def test_an_instagram_unsend_withdraws_the_message_and_its_text(
    client: AppClient, post: Post
) -> None:
    raw = _instagram("m_ig1", "my card number is 4111 1111 1111 1111, help")
    [message_id] = await post("/webhooks/facebook", raw, ch.facebook_headers(raw))
    unsend = _instagram("m_ig1", is_deleted=True)
    accepted = await post("/webhooks/facebook", unsend, ch.facebook_headers(unsend))
    assert accepted  # acknowledged as an event of its own, not a duplicate
    stored = await _message(client, message_id)
    assert stored["withdrawn_at"]
    assert stored["message"]["text"] == ""
    assert await _listed(client) == [message_id]  # no second, empty message
    [event] = await _history(client)
    assert "4111" not in str(event)
    assert event["summary"].startswith("Withdrawn by the sender at ")
    conversation = await (
        await client.get(f"/v1/conversations/{stored['conversation_id']}/brief", headers=admin())
    ).json()
    assert "4111" not in str(conversation)


async def test_a_withdrawal_that_comes_first_withdraws_the_message_when_it_comes(
    client: AppClient, post: Post
) -> None:
    unsend = _instagram("m_ig2", is_deleted=True)
    await post("/webhooks/facebook", unsend, ch.facebook_headers(unsend))
    raw = _instagram("m_ig2", "sorry, wrong chat")
    [message_id] = await post("/webhooks/facebook", raw, ch.facebook_headers(raw))
    stored = await _message(client, message_id)
    assert (stored["message"]["text"], bool(stored["withdrawn_at"])) == ("", True)


async def test_a_deleted_tweet_and_a_destroyed_post_are_withdrawn(
    client: AppClient, post: Post
) -> None:
    raw = ch.body(ch.tweet("1800000000000000777", "555123", "@acme_help this is my address"))
    [tweet] = await post("/webhooks/twitter", raw, ch.twitter_headers(raw))
    deletion = ch.body(
        {
            "for_user_id": ch.OWN_TWITTER,
            "tweet_delete_events": [
                {
                    "status": {"id": "1800000000000000777", "user_id": "555123"},
                    "timestamp_ms": "1741079900000",
                }
            ],
        }
    )
    await post("/webhooks/twitter", deletion, ch.twitter_headers(deletion))
    assert (await _message(client, tweet))["message"]["text"] == ""

    created = ch.body(ch.discourse_post(8801, 311, "My password is hunter2"))
    [post_id] = await post("/webhooks/forum", created, ch.discourse_headers(created))
    destroyed = ch.body(ch.discourse_post(8801, 311, "My password is hunter2"))
    await post("/webhooks/forum", destroyed, ch.discourse_headers(destroyed, "post_destroyed"))
    assert (await _message(client, post_id))["withdrawn_at"]
    assert "hunter2" not in str(await _history(client))


async def test_edits_replace_the_text_and_keep_the_time(client: AppClient, post: Post) -> None:
    first = ch.discourse_post(8802, 311, "Sync fails after the update")
    raw = ch.body(first)
    [message_id] = await post("/webhooks/forum", raw, ch.discourse_headers(raw))
    edited = ch.discourse_post(8802, 311, "Sync fails after the 3.2 update, on Windows")
    edited["post"]["updated_at"] = "2025-03-04T10:00:00.000Z"
    raw = ch.body(edited)
    await post("/webhooks/forum", raw, ch.discourse_headers(raw, "post_edited"))
    stored = await _message(client, message_id)
    assert stored["message"]["text"] == "Sync fails after the 3.2 update, on Windows"
    assert stored["message"]["sent_at"].startswith("2025-03-04T09:15:00")
    assert stored["edited_at"]
    assert await _listed(client) == [message_id]  # not a second message beside the first
    [event] = await _history(client)
    assert event["summary"] == "Sync fails after the 3.2 update, on Windows"

    # Meta's message edit names the message by its mid.
    raw = ch.body(ch.messenger("m_fb9", "7700112233", "router is red"))
    [messenger_id] = await post("/webhooks/facebook", raw, ch.facebook_headers(raw))
    edit = ch.messenger("m_fb9", "7700112233", "")
    event_ = edit["entry"][0]["messaging"][0]
    del event_["message"]
    event_["message_edit"] = {"mid": "m_fb9", "text": "router is blinking red", "num_edit": 1}
    raw = ch.body(edit)
    await post("/webhooks/facebook", raw, ch.facebook_headers(raw))
    assert (await _message(client, messenger_id))["message"]["text"] == "router is blinking red"


async def test_reactions_and_reads_are_acknowledged_and_stored_as_nothing(
    client: AppClient, post: Post
) -> None:
    payload = ch.messenger("m_fb10", "7700112233", "x")
    event = payload["entry"][0]["messaging"][0]
    del event["message"]
    event["reaction"] = {"mid": "m_fb1", "action": "react", "reaction": "love"}
    raw = ch.body(payload)
    assert await post("/webhooks/facebook", raw, ch.facebook_headers(raw)) == []
    assert await _listed(client) == []


async def test_the_brands_own_accounts_never_post_customer_messages(
    make_client: MakeClient,
) -> None:
    # A second brand handle, not the one the delivery is for.
    client = await make_client(**ch.CHANNEL_SETTINGS, brand_accounts={"twitter": ["900777"]})
    raw = ch.body(ch.tweet("1800000000000000888", "900777", "We're on it, Dana!", handle="acme"))
    resp = await client.post("/webhooks/twitter", data=raw, headers=ch.twitter_headers(raw))
    assert resp.status == 200
    assert (await resp.json())["accepted"] == []
    raw = ch.body(ch.tweet("1800000000000000889", "555123", "thanks"))
    resp = await client.post("/webhooks/twitter", data=raw, headers=ch.twitter_headers(raw))
    assert len((await resp.json())["accepted"]) == 1
