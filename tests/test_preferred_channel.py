"""Which channel a customer prefers (their record's word, else where they write most),
on the card, and whether the conversation a rep has open is on it (the brief)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import redis.asyncio as aioredis

from service.settings import Settings
from tests import channels as ch
from tests.helpers import AppClient, MakeClient, accepted, admin, drain

pytestmark = pytest.mark.cluster


def _contact(n: int, channel: str, day: int) -> dict[str, Any]:
    return {
        "id": f"c{n}",
        "type": "interaction",
        "at": f"2026-12-0{day}T10:00:00Z",
        "channel": channel,
        "direction": "inbound",
    }


async def _card(client: AppClient, customer_id: str) -> Any:
    resp = await client.get(f"/v1/customers/{customer_id}/context", headers=admin())
    assert resp.status == 200, await resp.text()
    return await resp.json()


async def test_the_card_says_where_the_customer_writes_most_unless_they_said(
    make_client: MakeClient,
) -> None:
    client = await make_client()
    for cid, stated in (("C-1", None), ("C-2", "phone")):
        body: dict[str, Any] = {"given_name": "Dana", "family_name": "King"}
        if stated:
            body["preferred_channel"] = stated
        resp = await client.put(f"/v1/customers/{cid}", json=body, headers=admin())
        assert resp.status == 201, await resp.text()
        contacts = [_contact(1, "email", 1), _contact(2, "twitter", 2), _contact(3, "email", 3)]
        resp = await client.post(f"/v1/customers/{cid}/events", json=contacts, headers=admin())
        assert resp.status == 201, await resp.text()
    inferred, stated_card = await _card(client, "C-1"), await _card(client, "C-2")
    assert (inferred["preferred_channel"], inferred["preferred_channel_source"]) == (
        "email",
        "history",
    )
    assert (stated_card["preferred_channel"], stated_card["preferred_channel_source"]) == (
        "phone",
        "record",
    )


async def test_the_brief_says_whether_the_conversation_is_on_the_preferred_channel(
    make_client: MakeClient, make_settings: Callable[..., Settings], redis: aioredis.Redis
) -> None:
    client = await make_client(**ch.CHANNEL_SETTINGS)
    dana = {
        "given_name": "Dana",
        "family_name": "King",
        "preferred_channel": "email",
        "identities": [{"channel": "twitter", "external_id": "555123", "handle": "dana_k"}],
    }
    assert (await client.put("/v1/customers/c-dana", json=dana, headers=admin())).status == 201
    raw = ch.body(ch.tweet("5001", "555123", "@acme my bill is wrong"))
    resp = await client.post("/webhooks/twitter", data=raw, headers=ch.twitter_headers(raw))
    message_id = await accepted(resp)
    await drain(redis, make_settings(**ch.CHANNEL_SETTINGS))
    stored = await (await client.get(f"/v1/messages/{message_id}", headers=admin())).json()
    path = f"/v1/conversations/{stored['conversation_id']}/brief"
    brief = await (await client.get(path, headers=admin())).json()
    assert brief["context"]["preferred_channel"] == "email"
    assert brief["on_preferred_channel"] is False
