"""A message from a known customer is tied to the open case it continues: the card says
"likely about case 4471 ...", the case counts the contact across channels, a repeat
raises the conversation's priority, and a rep can move the message to another case or to
none (audited)."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import redis.asyncio as aioredis

from matchers.topics import classify
from service.context.continuation import likely_case
from service.schemas.context_card import OpenCase
from service.settings import Settings
from service.store.keynames import KeySchema
from tests import channels as ch
from tests.helpers import PROBLEM, AppClient, MakeClient, accepted, admin, drain

pytestmark = pytest.mark.cluster

DANA = {
    "given_name": "Dana",
    "family_name": "King",
    "identities": [{"channel": "twitter", "external_id": "555123", "handle": "dana_k"}],
}


def _ago(days: float) -> str:
    return (datetime.now(UTC) - timedelta(days=days)).isoformat(timespec="seconds")


HISTORY = [
    {
        "id": "k-open",
        "type": "case_opened",
        "at": _ago(6),
        "case_id": "4471",
        "category": "outage",
        "channel": "phone",
        "summary": "broadband outage, no sync on the router",
    },
    {
        "id": "k-mail",
        "type": "interaction",
        "at": _ago(3),
        "case_id": "4471",
        "channel": "email",
        "direction": "inbound",
        "summary": "still no internet",
    },
    {
        "id": "b-open",
        "type": "case_opened",
        "at": _ago(2),
        "case_id": "4480",
        "category": "billing",
        "channel": "crm",
        "summary": "charged twice in November",
    },
]


class Desk:
    def __init__(self, client: AppClient, redis: aioredis.Redis, settings: Settings) -> None:
        self.client, self.redis, self.settings = client, redis, settings

    async def tweet(self, tweet_id: str, text: str, sender: str = "555123") -> Any:
        at_ms = int(time.time() * 1000) - 60_000
        raw = ch.body(ch.tweet(tweet_id, sender, text, at_ms=at_ms))
        resp = await self.client.post(
            "/webhooks/twitter", data=raw, headers=ch.twitter_headers(raw)
        )
        message_id = await accepted(resp)
        await drain(self.redis, self.settings)
        return await self.get(f"/v1/messages/{message_id}")

    async def get(self, path: str, **params: str) -> Any:
        resp = await self.client.get(path, params=params, headers=admin())
        assert resp.status == 200, await resp.text()
        return await resp.json()

    async def cases(self) -> dict[str, Any]:
        card = await self.get("/v1/customers/c-dana/context")
        return {c["case_id"]: c for c in card["open_cases"]}

    async def move(self, message_id: str, case_id: str | None, **more: str) -> Any:
        body = {"case_id": case_id, **more}
        return await self.client.put(f"/v1/messages/{message_id}/case", json=body, headers=admin())


@pytest.fixture
async def desk(
    make_client: MakeClient, make_settings: Callable[..., Settings], redis: aioredis.Redis
) -> Desk:
    client = await make_client(**ch.CHANNEL_SETTINGS)
    assert (await client.put("/v1/customers/c-dana", json=DANA, headers=admin())).status == 201
    resp = await client.post("/v1/customers/c-dana/events", json=HISTORY, headers=admin())
    assert resp.status == 201, await resp.text()
    return Desk(client, redis, make_settings(**ch.CHANNEL_SETTINGS))


async def test_a_repeat_about_an_open_outage_is_tied_to_it_and_raises_priority(
    desk: Desk,
) -> None:
    stored = await desk.tweet("9001", "@acme my broadband is down AGAIN, third time this week")
    case = stored["case"]
    assert case["case_id"] == "4471"
    assert (case["contacts"], case["channels"]) == (3, ["phone", "email", "twitter"])
    assert case["line"] == (
        "likely about case 4471: broadband outage, no sync on the router, open 6 days, "
        "3rd contact, 3 channels"
    )
    assert case["by"] == "socialid"
    assert "fault or outage fits the outage case" in case["evidence"]
    assert "3rd contact about open outage case 4471" in stored["urgency"]["reasons"]
    conv = await desk.get(f"/v1/conversations/{stored['conversation_id']}")
    assert conv["priority"] == "high"  # from normal: a fault (1) and a repeat contact (2)
    assert "3rd contact about open outage case 4471" in conv["priority_reason"]

    # The case counts it on the card, across channels, and the card says so.
    outage = (await desk.cases())["4471"]
    assert (outage["contacts"], outage["channels"]) == (3, ["phone", "email", "twitter"])
    card = await desk.get("/v1/customers/c-dana/context")
    repeat = [f for f in card["flags"] if f["code"] == "repeat_contact"]
    assert repeat
    assert stored["id"] in repeat[0]["event_ids"]
    brief = await desk.get(f"/v1/conversations/{stored['conversation_id']}/brief")
    assert brief["context"]["likely_case"]["case_id"] == "4471"
    assert brief["thread"][0]["case"]["line"] == case["line"]


async def test_a_message_about_something_else_is_tied_to_no_case(desk: Desk) -> None:
    praise = await desk.tweet("9002", "@acme thanks, the new phone is lovely, great service")
    assert praise.get("case") is None
    assert (await desk.cases())["4471"]["contacts"] == 2


async def test_a_message_that_names_its_case_is_tied_to_it(desk: Desk) -> None:
    stored = await desk.tweet("9003", "@acme any news on 4480? nobody has called me")
    assert stored["case"]["case_id"] == "4480"
    assert stored["case"]["evidence"][0] == "names case 4480"


async def test_a_rep_moves_a_message_to_another_case_or_none_and_it_is_audited(
    desk: Desk,
) -> None:
    stored = await desk.tweet("9004", "@acme internet down again since this morning")
    assert stored["case"]["case_id"] == "4471"
    resp = await desk.move(stored["id"], "4480", note="she means the double charge")
    assert resp.status == 200, await resp.text()
    moved = await resp.json()
    assert (moved["case"]["case_id"], moved["case"]["by"]) == ("4480", "bootstrap")
    assert moved["case"]["evidence"] == ["moved here by bootstrap: she means the double charge"]
    assert (await desk.get(f"/v1/messages/{stored['id']}"))["case"]["case_id"] == "4480"
    cases = await desk.cases()
    assert (cases["4471"]["contacts"], cases["4480"]["contacts"]) == (2, 1)
    assert stored["id"] in cases["4480"]["event_ids"]
    # The same move again changes nothing more.
    assert (await desk.move(stored["id"], "4480")).status == 200
    assert (await desk.cases())["4480"]["event_ids"].count(stored["id"]) == 1

    resp = await desk.move(stored["id"], None)
    assert resp.status == 200, await resp.text()
    assert (await resp.json()).get("case") is None
    cases = await desk.cases()
    assert stored["id"] not in cases["4471"]["event_ids"] + cases["4480"]["event_ids"]

    trail = await desk.get("/v1/audit", customer_id="c-dana", action="message_case_set")
    moves = [(e["detail"]["from"], e["detail"]["to"]) for e in trail["entries"]]
    assert moves == [("4480", None), ("4480", "4480"), ("4471", "4480")]  # newest first


async def test_a_move_to_a_case_that_is_not_open_is_refused(desk: Desk) -> None:
    stored = await desk.tweet("9005", "@acme internet down again")
    resp = await desk.move(stored["id"], "9999")
    assert resp.status == 409
    assert resp.content_type == PROBLEM
    problem = await resp.json()
    assert problem["open_cases"] == ["4471", "4480"]
    missing = await desk.move("msg_" + "0" * 24, None)
    assert missing.status == 404


async def test_an_unknown_senders_message_belongs_to_no_case_until_linked(desk: Desk) -> None:
    stranger = await desk.tweet("9006", "@acme my internet is down again", sender="777")
    assert stranger.get("case") is None
    resp = await desk.move(stranger["id"], "4471")
    assert resp.status == 409
    assert (await resp.json())["type"].endswith("message-not-matched")


async def test_a_withdrawn_message_leaves_the_case_it_was_tied_to(
    desk: Desk, keys: KeySchema
) -> None:
    stored = await desk.tweet("9007", "@acme broadband down again, my account is 12-3456-78")
    raw = ch.body(
        {
            "for_user_id": ch.OWN_TWITTER,
            "tweet_delete_events": [
                {"status": {"id": "9007", "user_id": "555123"}, "timestamp_ms": "1741079800000"}
            ],
        }
    )
    resp = await desk.client.post("/webhooks/twitter", data=raw, headers=ch.twitter_headers(raw))
    assert resp.status == 200, await resp.text()
    await drain(desk.redis, desk.settings)
    kept = await desk.redis.hget(keys.open_items("c-dana"), f"e:{stored['id']}")
    assert kept is not None
    assert "12-3456-78" not in str(kept)
    assert "Withdrawn by the sender" in str(kept)


async def test_a_lookup_with_text_shows_the_case_it_would_continue(desk: Desk) -> None:
    body = {
        "channel": "twitter",
        "sender": {"external_id": "555123"},
        "text": "internet still down, when is the engineer coming?",
    }
    resp = await desk.client.post("/v1/lookup", json=body, headers=admin())
    assert resp.status == 200, await resp.text()
    likely = (await resp.json())["context"]["likely_case"]
    assert likely["case_id"] == "4471"
    assert likely["contacts"] == 3


def test_a_case_id_is_named_whatever_its_letters_case_and_only_whole() -> None:
    case = OpenCase(
        case_id="CASE-915",
        category="billing",
        status="open",
        opened_at=datetime.now(UTC),
        age_days=0,
        summary=None,
        contacts=1,
        channels=[],
        event_ids=[],
    )
    text = "my broadband is down, see case-915"
    found = likely_case(text, classify(text), [case], {})
    assert found is not None
    assert found[1] == ["names case CASE-915"]
    text = "see CASE-9150"
    assert likely_case(text, classify(text), [case], {}) is None
