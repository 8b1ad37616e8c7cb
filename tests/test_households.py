"""The family plan: a member's card carries the family account, its credit and its flags;
a household can be read and searched for; a member sees no more of the holder than a
name and a role."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests import channels as ch
from tests.helpers import AppClient, MakeClient, accepted, admin, processed

pytestmark = pytest.mark.cluster

PARENT = {
    "given_name": "Mark",
    "family_name": "Osei",
    "emails": ["mark.osei@example.com"],
    "phones": ["+44 7700 900555"],
    "date_of_birth": "1970-02-14",
    "addresses": [{"line1": "3 Elm Row", "city": "Leeds", "postcode": "LS6 2AB"}],
    "household": {"id": "H-OSEI", "role": "holder"},
    "accounts": [
        {
            "number": "40012345",
            "products": [
                {"name": "Family Mobile 4 lines", "kind": "mobile", "monthly_price": "60.00"}
            ],
        }
    ],
}
DAUGHTER = {
    "given_name": "Ama",
    "family_name": "Osei",
    "household": {"id": "H-OSEI", "role": "member"},
    "identities": [{"channel": "twitter", "external_id": "555001", "handle": "ama_o"}],
}
FAMILY_EVENTS = [
    {
        "id": "v50",
        "type": "credit",
        "at": "2026-11-20T10:00:00Z",
        "amount": "50.00",
        "currency": "USD",
        "account": "40012345",
        "summary": "$50 voucher for the outage",
    },
    {
        "id": "fee",
        "type": "promise",
        "at": "2026-11-21T10:00:00Z",
        "summary": "waive the $300 early upgrade fee",
        "due": "2099-12-20",
        "by": "rep:ana",
        "account": "40012345",
    },
    {"id": "own", "type": "interaction", "at": "2026-11-22T10:00:00Z", "summary": "private"},
]


async def _family(client: AppClient) -> None:
    for cid, body in (("C-MARK", PARENT), ("C-AMA", DAUGHTER)):
        resp = await client.put(f"/v1/customers/{cid}", json=body, headers=admin())
        assert resp.status == 201, await resp.text()
    renewed = {
        "type": "contract_change",
        "kind": "renewal",
        "at": (datetime.now(UTC) - timedelta(days=3)).isoformat(),
        "summary": "renewed the family plan for 24 months",
    }
    events = [*FAMILY_EVENTS, renewed]
    resp = await client.post("/v1/customers/C-MARK/events", json=events, headers=admin())
    assert resp.status == 201


async def test_a_daughters_tweet_shows_the_family_credit_on_her_card(
    make_client: MakeClient,
) -> None:
    client = await make_client(**{**ch.CHANNEL_SETTINGS, "worker": True})
    await _family(client)
    tweet = ch.body(ch.tweet("1800000000000000077", "555001", "@acme_help can I use the voucher?"))
    resp = await client.post("/webhooks/twitter", data=tweet, headers=ch.twitter_headers(tweet))
    message = await processed(client, await accepted(resp))
    assert message["resolution"]["customer_id"] == "C-AMA"

    card = await (await client.get("/v1/customers/C-AMA/context", headers=admin())).json()
    household = card["household"]
    assert (household["id"], household["role"]) == ("H-OSEI", "member")
    assert household["holder"] == {"customer_id": "C-MARK", "name": "Mark Osei", "role": "holder"}
    assert [m["customer_id"] for m in household["members"]] == ["C-MARK", "C-AMA"]
    [account] = household["accounts"]
    assert (account["number"], account["products"][0]["name"]) == (
        "40012345",
        "Family Mobile 4 lines",
    )
    assert [c["event_id"] for c in household["unapplied_credits"]] == ["v50"]
    assert [p["event_id"] for p in household["open_promises"]] == ["fee"]
    family = [f for f in card["flags"] if f["household"] == "H-OSEI"]
    assert {f["code"] for f in family} == {
        "unapplied_credit",
        "promise_due",
        "recent_commitment_increase",  # no retention offer to her either
    }
    credit = next(f for f in family if f["code"] == "unapplied_credit")
    assert credit["reason"].startswith("On the family account (40012345, held by Mark Osei)")
    assert "50.00" in credit["reason"]
    # Her own record is untouched: the family account is shown as the household's.
    assert card["accounts"] == []
    assert card["unapplied_credits"] == []

    # The lookup a chat tool makes for the same sender says the same.
    resp = await client.post(
        "/v1/lookup",
        json={"channel": "twitter", "sender": {"external_id": "555001"}},
        headers=admin(),
    )
    looked = await resp.json()
    assert looked["context"]["household"] == household
    assert looked["context"]["flags"] == card["flags"]


async def test_the_holder_is_shown_to_members_by_name_and_role_only(client: AppClient) -> None:
    await _family(client)
    card = await (await client.get("/v1/customers/C-AMA/context", headers=admin())).json()
    shown = str(card["household"])
    for personal in ("mark.osei@example.com", "+447700900555", "1970-02-14", "Elm Row", "private"):
        assert personal not in shown
    # The holder's card lists the household too, and raises no flag twice.
    holder = await (await client.get("/v1/customers/C-MARK/context", headers=admin())).json()
    assert holder["household"]["role"] == "holder"
    assert [f["code"] for f in holder["flags"]].count("unapplied_credit") == 1


async def test_a_household_can_be_read(client: AppClient) -> None:
    await _family(client)
    resp = await client.get("/v1/households/H-OSEI", headers=admin())
    assert resp.status == 200
    view: dict[str, Any] = await resp.json()
    assert [(m["customer_id"], m["role"]) for m in view["members"]] == [
        ("C-MARK", "holder"),
        ("C-AMA", "member"),
    ]
    assert [a["number"] for a in view["accounts"]] == ["40012345"]
    assert [c["event_id"] for c in view["unapplied_credits"]] == ["v50"]
    assert [p["summary"] for p in view["open_promises"]] == ["waive the $300 early upgrade fee"]

    missing = await client.get("/v1/households/H-NOBODY", headers=admin())
    assert missing.status == 404
    assert (await missing.json())["type"].endswith("/household-not-found")


async def test_the_search_box_finds_a_household_by_id_and_by_family_account(
    client: AppClient,
) -> None:
    await _family(client)
    for q, matched_by in (("H-OSEI", "household_id"), ("4001 2345", "account_number")):
        resp = await client.get("/v1/customers/search", params={"q": q}, headers=admin())
        assert resp.status == 200
        found = await resp.json()
        assert [(h["id"], h["matched_by"]) for h in found["households"]] == [
            ("H-OSEI", matched_by)
        ], q
        assert found["households"][0]["holder"]["name"] == "Mark Osei"
        assert found["households"][0]["accounts"] == ["40012345"]
    found = await (
        await client.get("/v1/customers/search", params={"q": "Ama Osei"}, headers=admin())
    ).json()
    assert found["households"] == []
