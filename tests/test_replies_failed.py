"""Replies out when the provider refuses, is slow or cannot be reached, or the channel
has no credentials: each is an outcome on the reply and in the conversation's log,
never a 500; a failed send can be sent again, never twice."""

from __future__ import annotations

import time

import pytest
import redis.asyncio as aioredis

from service.http.app import free_port
from service.store.keynames import KeySchema
from tests import channels as ch
from tests.helpers import MakeClient, admin
from tests.replying import (
    claimed,
    dm,
    log_of,
    replied,
    sending,
    started,
)
from tests.standins import Inbox, StandIn

pytestmark = pytest.mark.cluster


async def test_a_refusal_is_surfaced_with_the_providers_words_and_can_be_sent_again(
    make_client: MakeClient, stand_in: tuple[StandIn, str], inbox: tuple[Inbox, int]
) -> None:
    provider, base = stand_in
    client = await started(make_client, **sending(base, inbox[1]))
    conversation = await dm(client)
    provider.answer = (
        403,
        {"title": "Forbidden", "detail": "You cannot send messages to this user.", "status": 403},
    )
    done = await replied(client, conversation, "Hello again", send=True)
    assert done["send"]["status"] == "failed"
    assert done["send"]["provider_status"] == 403
    assert done["send"]["reason"] == "You cannot send messages to this user."
    [failed] = [e for e in await log_of(client, conversation) if e["type"] == "reply_failed"]
    assert (failed["reply_id"], failed["provider_status"]) == (done["id"], 403)
    # The reply is recorded all the same: in the customer's history too.
    history = await (await client.get("/v1/customers/c-dana/history", headers=admin())).json()
    assert [e["summary"] for e in history["events"] if e.get("direction") == "outbound"] == [
        "Hello again"
    ]

    path = f"/v1/conversations/{conversation}/replies/{done['id']}/send"
    not_owner = await client.post(path, json={"rep": "ben"}, headers=admin())
    assert not_owner.status == 409
    assert (await not_owner.json())["type"] == "/problems/not-owner"
    provider.answer = None
    again = await client.post(path, json={"rep": "ana"}, headers=admin())
    assert again.status == 200, await again.text()
    assert (await again.json())["send"]["status"] == "sent"
    assert [r.body for r in provider.requests] == [{"text": "Hello again"}] * 2
    twice = await client.post(path, json={"rep": "ana"}, headers=admin())
    assert twice.status == 409
    assert (await twice.json())["type"] == "/problems/reply-already-sent"
    assert len(provider.requests) == 2
    unknown = await client.post(
        f"/v1/conversations/{conversation}/replies/reply_0123456789abcdef/send",
        json={"rep": "ana"},
        headers=admin(),
    )
    assert unknown.status == 404
    assert (await unknown.json())["type"] == "/problems/reply-not-found"


async def test_a_server_error_and_an_smtp_refusal_are_failures_with_their_reasons(
    make_client: MakeClient, stand_in: tuple[StandIn, str], inbox: tuple[Inbox, int]
) -> None:
    provider, base = stand_in
    mails, port = inbox
    client = await started(make_client, **sending(base, port))
    raw = ch.body(ch.messenger("m_Abc2", "7700112233", "hello?"))
    dm = await claimed(client, "/webhooks/facebook", raw, ch.facebook_headers(raw))
    provider.answer = (503, {"error": {"message": "(#2) Service temporarily unavailable"}})
    send = (await replied(client, dm, "Still there?", send=True))["send"]
    assert (send["status"], send["provider_status"], send["reason"]) == (
        "failed",
        503,
        "(#2) Service temporarily unavailable",
    )

    mails.refuse = "550 5.1.1 Mailbox unavailable"
    raw = ch.raw_mail("dana@example.net", "hi", message_id="<m9@mail.example.net>")
    headers = {**admin(), "Content-Type": "message/rfc822"}
    mail = await claimed(client, "/webhooks/email/raw", raw, headers)
    send = (await replied(client, mail, "Hello", send=True))["send"]
    assert (send["status"], send["provider_status"]) == ("failed", 550)
    assert "Mailbox unavailable" in send["reason"]
    assert mails.mails == []


async def test_a_provider_that_does_not_answer_in_time_is_a_failure_not_a_500(
    make_client: MakeClient, stand_in: tuple[StandIn, str], inbox: tuple[Inbox, int]
) -> None:
    provider, base = stand_in
    client = await started(make_client, **sending(base, inbox[1], send_timeout=0.3))
    conversation = await dm(client)
    provider.delay = 2.0
    began = time.monotonic()
    send = (await replied(client, conversation, "Hello", send=True))["send"]
    assert time.monotonic() - began < 1.5
    assert send["status"] == "failed"
    assert send["reason"] == "X did not answer within 0.3 s"
    assert "provider_status" not in send


async def test_a_provider_that_cannot_be_reached_is_a_failure_with_the_reason(
    make_client: MakeClient, inbox: tuple[Inbox, int]
) -> None:
    closed = f"http://127.0.0.1:{free_port()}"  # nobody listens there
    client = await started(make_client, **sending(closed, inbox[1]))
    conversation = await dm(client)
    send = (await replied(client, conversation, "Hello", send=True))["send"]
    assert send["status"] == "failed"
    assert send["reason"].startswith("X could not be reached (")


async def test_without_credentials_the_send_is_off_and_the_reply_says_why(
    make_client: MakeClient, stand_in: tuple[StandIn, str]
) -> None:
    provider, base = stand_in
    client = await started(
        make_client, **{**ch.CHANNEL_SETTINGS, "worker": True, "twitter_api_url": base}
    )
    conversation = await dm(client)
    done = await replied(client, conversation, "Hello", send=True)
    assert done["send"]["status"] == "off"
    assert done["send"]["reason"] == "SOCIALID_TWITTER_ACCESS_TOKEN is not set"
    assert done["conversation"]["status"] == "waiting_on_customer"  # recorded all the same
    [off] = [e for e in await log_of(client, conversation) if e["type"] == "reply_send_off"]
    assert (off["reply_id"], off["reason"]) == (done["id"], done["send"]["reason"])
    raw = ch.raw_mail("dana@example.net", "hi", message_id="<m5@mail.example.net>")
    headers = {**admin(), "Content-Type": "message/rfc822"}
    mail = await claimed(client, "/webhooks/email/raw", raw, headers)
    send = (await replied(client, mail, "Hello", send=True))["send"]
    assert send["reason"] == "SOCIALID_SMTP_HOST, SOCIALID_EMAIL_FROM are not set"
    assert provider.requests == []


async def test_a_reply_being_sent_is_not_sent_again_meanwhile(
    make_client: MakeClient,
    stand_in: tuple[StandIn, str],
    inbox: tuple[Inbox, int],
    redis: aioredis.Redis,
    keys: KeySchema,
) -> None:
    provider, base = stand_in
    client = await started(make_client, **sending(base, inbox[1]))
    conversation = await dm(client)
    provider.answer = (500, {})
    done = await replied(client, conversation, "Hello", send=True)
    assert done["send"]["reason"] == "X answered HTTP 500"
    # Another request is sending it right now (it holds the reply).
    await redis.set(keys.reply_sending(done["id"]), "ana", ex=60)
    path = f"/v1/conversations/{conversation}/replies/{done['id']}/send"
    busy = await client.post(path, json={"rep": "ana"}, headers=admin())
    assert busy.status == 409
    assert (await busy.json())["type"] == "/problems/send-in-progress"
    assert len(provider.requests) == 1
