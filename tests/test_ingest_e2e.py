"""End to end: one customer writes on all four channels; the serving app's own worker
puts every message in her history and in the right conversations."""

from __future__ import annotations

import pytest
import redis.asyncio as aioredis
from aiohttp import FormData

from service.store.keynames import KeySchema
from tests import channels as ch
from tests.helpers import MakeClient, accepted, admin, processed

pytestmark = pytest.mark.cluster

DANA = {
    "given_name": "Dana",
    "family_name": "King",
    "emails": ["dana@example.net"],
    "identities": [
        {"channel": "twitter", "external_id": "555123", "handle": "dana_k"},
        {"channel": "facebook", "external_id": "7700112233"},
        {"channel": "forum", "external_id": "https://forum.example.com/u/311"},
    ],
}


async def test_four_channels_one_history(
    make_client: MakeClient, redis: aioredis.Redis, keys: KeySchema
) -> None:
    client = await make_client(**{**ch.CHANNEL_SETTINGS, "worker": True})
    resp = await client.put("/v1/customers/c-dana", json=DANA, headers=admin())
    assert resp.status == 201
    tweet = ch.body(ch.tweet("1800000000000000001", "555123", "@acme_help order 4411 lost"))
    messenger = ch.body(ch.messenger("m_Abc123xyz", "7700112233", "Is my refund coming?"))
    post = ch.body(ch.discourse_post(8812, 311, "Sync fails after update"))
    mail = ch.raw_mail("Dana@Example.net", "Why was I charged $300?", message_id="<m1@x.net>")
    deliveries = [
        ("/webhooks/twitter", tweet, ch.twitter_headers(tweet)),
        ("/webhooks/facebook", messenger, ch.facebook_headers(messenger)),
        ("/webhooks/forum", post, ch.discourse_headers(post)),
        ("/webhooks/email/raw", mail, {**admin(), "Content-Type": "message/rfc822"}),
    ]
    ids = [
        await accepted(await client.post(path, data=raw, headers=headers))
        for path, raw, headers in deliveries
    ]
    stored = [await processed(client, m) for m in ids]
    assert [s["resolution"]["customer_id"] for s in stored] == ["c-dana"] * 4
    assert [s["message"]["channel"] for s in stored] == ["twitter", "facebook", "forum", "email"]
    assert len({s["conversation_id"] for s in stored}) == 4

    history = await (await client.get("/v1/customers/c-dana/history", headers=admin())).json()
    interactions = [e for e in history["events"] if e["type"] == "interaction"]
    assert sorted(e["channel"] for e in interactions) == ["email", "facebook", "forum", "twitter"]
    assert sorted(e["id"] for e in interactions) == sorted(ids)

    # A reply by Mailgun to the first mail joins its conversation, through References.
    fields = ch.mailgun_fields("dana@example.net", "Any news?", "<m2@x.net>")
    fields["message-headers"] = fields["message-headers"][:-1] + ', ["In-Reply-To", "<m1@x.net>"]]'
    reply = await accepted(await client.post("/webhooks/email/mailgun", data=FormData(fields)))
    followed = await processed(client, reply)
    assert followed["conversation_id"] == stored[3]["conversation_id"]
    conversation = await (
        await client.get(f"/v1/conversations/{followed['conversation_id']}", headers=admin())
    ).json()
    inbound = [e["message_id"] for e in conversation["log"] if e["type"] == "inbound"]
    assert inbound == [ids[3], reply]
    assert (conversation["status"], conversation["team"]) == ("new", "social")
    card = await (await client.get("/v1/customers/c-dana/context", headers=admin())).json()
    assert len(card["last_interactions"]) == 5

    # Her export holds the messages; her erasure removes them and unlinks the threads.
    export = await (await client.get("/v1/customers/c-dana/export", headers=admin())).json()
    assert sorted(m["id"] for m in export["messages"]) == sorted([*ids, reply])
    name_key = keys.sender_name("facebook", "7700112233")
    await redis.set(name_key, "Dana King")  # as the Graph API lookup would have cached it
    erased = await (await client.delete("/v1/customers/c-dana", headers=admin())).json()
    assert await redis.get(name_key) is None
    assert (erased["messages"], erased["conversations"]) == (5, 4)
    for message_id in [*ids, reply]:
        gone = await client.get(f"/v1/messages/{message_id}", headers=admin())
        assert gone.status == 404
    listed = await (await client.get("/v1/messages", headers=admin())).json()
    assert listed["messages"] == []
    gone = await client.get(f"/v1/conversations/{followed['conversation_id']}", headers=admin())
    assert gone.status == 404
