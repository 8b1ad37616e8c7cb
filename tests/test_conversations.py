"""Conversations across shift changes: ownership races, replies, hand-offs, reopening,
the brief and the live stream."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import redis.asyncio as aioredis

from service.settings import Settings
from service.store.keynames import KeySchema
from service.store.redistypes import stream_entries
from tests import channels as ch
from tests.helpers import AppClient, MakeClient, admin
from tests.helpers import drain as run_worker

pytestmark = pytest.mark.cluster

DANA = {
    "given_name": "Dana",
    "family_name": "King",
    "emails": ["dana@example.net"],
    "identities": [{"channel": "twitter", "external_id": "555123", "handle": "dana_k"}],
}
Drain = Callable[[], Any]


@pytest.fixture
async def client(make_client: MakeClient) -> AppClient:
    client = await make_client(**ch.CHANNEL_SETTINGS)
    resp = await client.put("/v1/customers/c-dana", json=DANA, headers=admin())
    assert resp.status == 201
    for rep, team in (("ana", "social"), ("ben", "social"), ("cy", "billing")):
        resp = await client.put(
            f"/v1/reps/{rep}", json={"name": rep.title(), "team": team}, headers=admin()
        )
        assert resp.status == 201, await resp.text()
    for rep in ("ana", "ben"):  # cy stays off shift
        resp = await client.post(f"/v1/reps/{rep}/shift/start", headers=admin())
        assert resp.status == 200
    return client


@pytest.fixture
def drain(make_settings: Callable[..., Settings], redis: aioredis.Redis) -> Drain:
    async def run() -> None:
        await run_worker(redis, make_settings(**ch.CHANNEL_SETTINGS))

    return run


async def _tweet(client: AppClient, tweet_id: str, user: str, text: str, **kw: Any) -> str:
    raw = ch.body(ch.tweet(tweet_id, user, text, **kw))
    resp = await client.post("/webhooks/twitter", data=raw, headers=ch.twitter_headers(raw))
    [message_id] = (await resp.json())["accepted"]
    return str(message_id)


async def _conversation_of(client: AppClient, message_id: str) -> str:
    stored = await (await client.get(f"/v1/messages/{message_id}", headers=admin())).json()
    return str(stored["conversation_id"])


async def _post(client: AppClient, path: str, body: dict[str, Any], status: int = 200) -> Any:
    resp = await client.post(path, json=body, headers=admin())
    assert resp.status == status, await resp.text()
    return await resp.json()


async def test_two_reps_racing_for_one_conversation_one_wins(
    client: AppClient, drain: Drain
) -> None:
    message = await _tweet(client, "1", "555123", "@acme router down")
    await drain()
    conv = await _conversation_of(client, message)
    detail = await (await client.get(f"/v1/conversations/{conv}", headers=admin())).json()
    assert (detail["status"], detail["team"]) == ("new", "social")
    queue = await (await client.get("/v1/queue", params={"team": "social"}, headers=admin())).json()
    assert [c["id"] for c in queue["conversations"]] == [conv]
    version = detail["version"]
    path = f"/v1/conversations/{conv}/claim"
    answers = await asyncio.gather(
        client.post(path, json={"rep": "ana", "version": version}, headers=admin()),
        client.post(path, json={"rep": "ben", "version": version}, headers=admin()),
    )
    statuses = sorted(a.status for a in answers)
    assert statuses == [200, 409]
    winner = next(a for a in answers if a.status == 200)
    loser = next(a for a in answers if a.status == 409)
    owner = (await winner.json())["owner"]
    problem = await loser.json()
    assert problem["owner"] == owner
    assert problem["type"] == "/problems/conversation-conflict"
    # Claiming without a version is refused the same way while someone owns it.
    other = "ben" if owner == "ana" else "ana"
    late = await client.post(path, json={"rep": other}, headers=admin())
    assert late.status == 409
    # If-Match with a stale version is a conflict too.
    stale = await client.post(
        f"/v1/conversations/{conv}/release",
        json={"rep": owner},
        headers={**admin(), "If-Match": f'"{version}"'},
    )
    assert stale.status == 409


async def test_only_the_owner_replies_and_a_reply_waits_on_the_customer(
    client: AppClient, drain: Drain
) -> None:
    message = await _tweet(client, "2", "555123", "@acme bill wrong")
    await drain()
    conv = await _conversation_of(client, message)
    await _post(client, f"/v1/conversations/{conv}/claim", {"rep": "ana"})
    resp = await client.post(
        f"/v1/conversations/{conv}/replies", json={"rep": "ben", "text": "Hi!"}, headers=admin()
    )
    assert resp.status == 409
    problem = await resp.json()
    assert (problem["type"], problem["owner"]) == ("/problems/not-owner", "ana")
    note = await client.post(
        f"/v1/conversations/{conv}/notes", json={"rep": "ben", "text": "psst"}, headers=admin()
    )
    assert note.status == 409
    done = await _post(
        client,
        f"/v1/conversations/{conv}/replies",
        {"rep": "ana", "text": "Sorry, refund on its way."},
        201,
    )
    assert done["conversation"]["status"] == "waiting_on_customer"
    history = await (await client.get("/v1/customers/c-dana/history", headers=admin())).json()
    outbound = [e for e in history["events"] if e.get("direction") == "outbound"]
    assert [e["summary"] for e in outbound] == ["Sorry, refund on its way."]
    unknown = await client.post(
        f"/v1/conversations/{conv}/notes", json={"rep": "nobody", "text": "x"}, headers=admin()
    )
    assert unknown.status == 422


async def test_a_reply_reaches_the_history_even_when_its_history_step_is_held_up(
    client: AppClient, drain: Drain, redis: aioredis.Redis, keys: KeySchema
) -> None:
    message = await _tweet(client, "7", "555123", "@acme no dial tone")
    await drain()
    conv = await _conversation_of(client, message)
    await _post(client, f"/v1/conversations/{conv}/claim", {"rep": "ana"})

    reply = {"rep": "ana", "text": "An engineer is on the way."}
    done = await _post(client, f"/v1/conversations/{conv}/replies", reply, 201)
    log = stream_entries(await redis.xrange(keys.conversation_log(conv)))
    [logged] = [fields for _, fields in log if fields["type"] == "reply"]
    history = await (await client.get("/v1/customers/c-dana/history", headers=admin())).json()
    [event] = [e for e in history["events"] if e.get("direction") == "outbound"]
    assert logged["id"] == event["id"] == done["id"]
    assert datetime.fromisoformat(logged["at"]) == datetime.fromisoformat(event["at"])

    # A history that cannot be written (its hash replaced by a string): the reply stands
    # (it may already be on its way to the customer) and its event waits on the
    # conversation, not lost and not half-written.
    await redis.delete(keys.customer_events("c-dana"))
    await redis.set(keys.customer_events("c-dana"), "not a hash")
    again = {"rep": "ana", "text": "Any luck? Promise: we waive the $300 fee."}
    held = await _post(client, f"/v1/conversations/{conv}/replies", again, 201)
    assert await redis.zcard(keys.history("c-dana")) == len(history["events"])
    assert await redis.hget(keys.conversation(conv), f"due:{held['id']}")

    # Once the history can be written again, the next reply takes both events there.
    await redis.delete(keys.customer_events("c-dana"))
    last = await _post(
        client, f"/v1/conversations/{conv}/replies", {"rep": "ana", "text": "Done."}, 201
    )
    after = await (await client.get("/v1/customers/c-dana/history", headers=admin())).json()
    outbound = {e["id"] for e in after["events"] if e.get("direction") == "outbound"}
    assert {held["id"], last["id"]} <= outbound
    fields = await redis.hkeys(keys.conversation(conv))
    assert not [f for f in fields if str(f).startswith("due:")]


async def test_a_shift_end_hands_fifty_conversations_over_with_the_note(
    client: AppClient, drain: Drain
) -> None:
    messages = [await _tweet(client, f"3{n:03d}", f"u{n}", f"help {n}") for n in range(50)]
    await drain()
    conversations = [await _conversation_of(client, m) for m in messages]
    assert len(set(conversations)) == 50
    await _post(client, "/v1/reps/ana/shift/start", {})
    for conv in conversations:
        await _post(client, f"/v1/conversations/{conv}/claim", {"rep": "ana"})
    ended = await _post(
        client,
        "/v1/reps/ana/shift/end",
        {"handoff_to": "ben", "note": "All waiting on engineering."},
    )
    assert sorted(ended["handed_off"]) == sorted(conversations)
    ben = await (await client.get("/v1/reps/ben", headers=admin())).json()
    assert sorted(ben["conversations"]) == sorted(conversations)
    ana = await (await client.get("/v1/reps/ana", headers=admin())).json()
    assert ana["conversations"] == []
    assert not ana["on_shift"]
    for conv in conversations:
        detail = await (await client.get(f"/v1/conversations/{conv}", headers=admin())).json()
        assert detail["owner"] == "ben"
        [handoff] = [e for e in detail["log"] if e["type"] == "handed_off"]
        assert (handoff["by"], handoff["to"], handoff["text"]) == (
            "ana",
            "ben",
            "All waiting on engineering.",
        )
    # To a team: the conversations wait in that team's queue, owned by nobody.
    ended = await _post(client, "/v1/reps/ben/shift/end", {"handoff_to": "team:billing"})
    assert len(ended["handed_off"]) == 50
    queue = await (
        await client.get("/v1/queue", params={"team": "billing"}, headers=admin())
    ).json()
    assert len(queue["conversations"]) == 50
    assert all(c.get("owner") is None for c in queue["conversations"])


async def test_a_reopened_conversation_goes_to_the_off_shift_owners_team(
    client: AppClient, drain: Drain
) -> None:
    first = await _tweet(client, "40", "555123", "@acme no signal")
    await drain()
    conv = await _conversation_of(client, first)
    await _post(client, "/v1/reps/ana/shift/start", {})
    await _post(client, f"/v1/conversations/{conv}/claim", {"rep": "ana"})
    await _post(client, f"/v1/conversations/{conv}/close", {"rep": "ana"})
    # While ana is on shift, the customer writing again brings it back to her.
    await _tweet(client, "41", "555123", "@acme still no signal", reply_to="40")
    await drain()
    back = await (await client.get(f"/v1/conversations/{conv}", headers=admin())).json()
    assert (back["status"], back["owner"]) == ("open", "ana")
    await _post(client, f"/v1/conversations/{conv}/close", {"rep": "ana"})
    await _post(client, "/v1/reps/ana/shift/end", {})
    await _tweet(client, "42", "555123", "@acme hello??", reply_to="41")
    await drain()
    reopened = await (await client.get(f"/v1/conversations/{conv}", headers=admin())).json()
    assert reopened["status"] == "new"
    assert reopened.get("owner") is None
    assert reopened["last_owner"] == "ana"
    queue = await (await client.get("/v1/queue", params={"team": "social"}, headers=admin())).json()
    assert conv in [c["id"] for c in queue["conversations"]]
    assert [e["type"] for e in reopened["log"]].count("reopened") == 2


async def test_the_brief_shows_notes_and_what_was_said_on_another_channel(
    client: AppClient, drain: Drain
) -> None:
    first = await _tweet(client, "50", "555123", "@acme my bill doubled this month")
    await drain()
    conv = await _conversation_of(client, first)
    await _post(client, f"/v1/conversations/{conv}/claim", {"rep": "ana"})
    await _post(
        client,
        f"/v1/conversations/{conv}/notes",
        {"rep": "ana", "text": "Checked: duplicate charge."},
        201,
    )
    await _post(
        client, f"/v1/conversations/{conv}/replies", {"rep": "ana", "text": "Looking into it."}, 201
    )
    mail = ch.raw_mail("dana@example.net", "Also, the router light is red.")
    resp = await client.post(
        "/webhooks/email/raw", data=mail, headers={**admin(), "Content-Type": "message/rfc822"}
    )
    assert resp.status == 200
    await drain()
    brief = await (await client.get(f"/v1/conversations/{conv}/brief", headers=admin())).json()
    assert [(t["direction"], t["text"]) for t in brief["thread"]] == [
        ("inbound", "@acme my bill doubled this month"),
        ("outbound", "Looking into it."),
    ]
    assert [n["text"] for n in brief["notes"]] == ["Checked: duplicate charge."]
    assert [(e["channel"], e["text"]) for e in brief["elsewhere"]] == [
        ("email", "Also, the router light is red.")
    ]
    assert brief["context"]["customer_id"] == "c-dana"


async def test_the_live_stream_sees_a_handoff(client: AppClient, drain: Drain) -> None:
    message = await _tweet(client, "60", "555123", "@acme help")
    await drain()
    conv = await _conversation_of(client, message)
    await _post(client, f"/v1/conversations/{conv}/claim", {"rep": "ana"})
    resp = await client.get("/v1/stream", params={"team": "social"}, headers=admin())
    assert resp.status == 200
    assert resp.headers["Content-Type"].startswith("text/event-stream")
    assert (await resp.content.readline()).startswith(b": connected")
    await asyncio.sleep(0.3)  # the hub's subscription is live before the hand-off
    await _post(client, "/v1/reps/ana/shift/end", {"handoff_to": "ben", "note": "over to you"})
    event = data = None
    async with asyncio.timeout(5):
        while data is None:
            line = (await resp.content.readline()).decode().strip()
            if line.startswith("event: "):
                event = line.removeprefix("event: ")
            elif line.startswith("data: ") and event == "handed_off":
                data = json.loads(line.removeprefix("data: "))
    assert data["conversation_id"] == conv
    assert (data["by"], data["to"], data["team"]) == ("ana", "ben", "social")

    # A new message shows when it arrived, beside the time the provider gave it.
    await _tweet(client, "61", "555123", "@acme still broken")
    await drain()
    data = None
    async with asyncio.timeout(5):
        while data is None:
            line = (await resp.content.readline()).decode().strip()
            if line.startswith("event: "):
                event = line.removeprefix("event: ")
            elif line.startswith("data: ") and event == "inbound":
                data = json.loads(line.removeprefix("data: "))
    resp.close()
    arrived = datetime.fromisoformat(data["received_at"])
    assert abs(arrived - datetime.now(UTC)) < timedelta(minutes=5)
    assert datetime.fromisoformat(data["at"]) < arrived - timedelta(days=300)  # the tweet's
    detail = await (await client.get(f"/v1/conversations/{conv}", headers=admin())).json()
    inbound = [e for e in detail["log"] if e["type"] == "inbound"]
    assert all("received_at" in e for e in inbound)


async def test_a_rep_off_shift_cannot_claim(client: AppClient, drain: Drain) -> None:
    message = await _tweet(client, "9", "555123", "@acme anyone there?")
    await drain()
    conv = await _conversation_of(client, message)
    resp = await client.post(f"/v1/conversations/{conv}/claim", json={"rep": "cy"}, headers=admin())
    assert resp.status == 409
    assert (await resp.json())["type"].endswith("/rep-off-shift")
    await _post(client, "/v1/reps/ana/shift/end", {})
    resp = await client.post(
        f"/v1/conversations/{conv}/claim", json={"rep": "ana"}, headers=admin()
    )
    assert resp.status == 409
    detail = await (await client.get(f"/v1/conversations/{conv}", headers=admin())).json()
    assert detail.get("owner") is None


async def test_a_handoff_to_a_team_nobody_reads_is_refused(client: AppClient) -> None:
    resp = await client.post(
        "/v1/reps/ana/shift/end", json={"handoff_to": "team:nope"}, headers=admin()
    )
    assert resp.status == 422
    assert "billing, social" in (await resp.json())["detail"]
    rep = await (await client.get("/v1/reps/ana", headers=admin())).json()
    assert rep["on_shift"]  # nothing happened: the shift goes on


async def test_priority_sets_the_sla_and_the_queue_order(client: AppClient, drain: Drain) -> None:
    first = await _tweet(client, "70", "u70", "@acme question")
    second = await _tweet(client, "71", "u71", "@acme outage, business line down")
    await drain()
    calm, urgent = [await _conversation_of(client, m) for m in (first, second)]
    queue = await (await client.get("/v1/queue", params={"team": "social"}, headers=admin())).json()
    assert sorted(c["id"] for c in queue["conversations"]) == sorted([calm, urgent])
    answer = await _post(
        client, f"/v1/conversations/{urgent}/priority", {"rep": "ana", "priority": "urgent"}
    )
    assert answer["priority"] == "urgent"
    queue = await (await client.get("/v1/queue", params={"team": "social"}, headers=admin())).json()
    assert [c["id"] for c in queue["conversations"]] == [urgent, calm]
    due = {c["id"]: c["sla_due"] for c in queue["conversations"]}
    assert due[urgent] < due[calm]
    bad = await client.post(
        f"/v1/conversations/{urgent}/priority",
        json={"rep": "ana", "priority": "asap"},
        headers=admin(),
    )
    assert bad.status == 422
