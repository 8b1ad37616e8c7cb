"""What a channel's message says about its sender, end to end through the worker: a name
written in a Messenger text, a Facebook commenter known only by name, a number after
"account" that no account holds."""

from __future__ import annotations

from typing import Any

import pytest

from tests import channels as ch
from tests.helpers import MakeClient, accepted, admin, processed

pytestmark = pytest.mark.cluster

FAMILY: dict[str, dict[str, Any]] = {
    "c-john": {
        "given_name": "John",
        "family_name": "Smith",
        "accounts": [{"number": "31052228"}],
        "household": {"id": "H-S", "role": "holder"},
    },
    "c-zoe": {
        "given_name": "Zoe",
        "family_name": "Smith",
        "accounts": [{"number": "31052228"}],
        "household": {"id": "H-S", "role": "member"},
    },
    "c-rachel": {"given_name": "Rachel", "family_name": "Kowalski"},
}


async def test_a_name_in_the_text_and_a_name_alone_reach_the_customer(
    make_client: MakeClient,
) -> None:
    client = await make_client(**{**ch.CHANNEL_SETTINGS, "worker": True})
    for cid, doc in FAMILY.items():
        assert (await client.put(f"/v1/customers/{cid}", json=doc, headers=admin())).status == 201

    text = "Hi, Zoe Smith here, account 31052228. My bill doubled"
    raw = ch.body(ch.messenger("m_zoe1", "880001", text))
    zoe = await processed(
        client,
        await accepted(
            await client.post("/webhooks/facebook", data=raw, headers=ch.facebook_headers(raw))
        ),
    )
    assert (zoe["resolution"]["status"], zoe["resolution"]["customer_id"]) == ("matched", "c-zoe")
    assert [(m["kind"], m["value"]) for m in zoe["mentions"]] == [("account_number", "31052228")]

    raw = ch.body(ch.feed_comment("9001_77", "880002", "Rachel Kowalski", "still no engineer"))
    rachel = await processed(
        client,
        await accepted(
            await client.post("/webhooks/facebook", data=raw, headers=ch.facebook_headers(raw))
        ),
    )
    assert rachel["resolution"]["status"] == "ambiguous"
    assert rachel["resolution"]["candidates"][0]["customer_id"] == "c-rachel"

    raw = ch.body(ch.messenger("m_x1", "880003", "my account is 99999999, help"))
    stranger = await processed(
        client,
        await accepted(
            await client.post("/webhooks/facebook", data=raw, headers=ch.facebook_headers(raw))
        ),
    )
    assert stranger["resolution"]["status"] == "no_match"
    assert stranger["mentions"] == []
