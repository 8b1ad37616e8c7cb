"""Replies out, end to end: a signed delivery comes in through the webhook, the serving
app's worker threads it, a rep claims and replies with "send": true, and the provider
(a real server on loopback that records requests) gets exactly the call it documents.
Refusals, timeouts and unset credentials are outcomes on the reply, never a 500."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterator
from email import message_from_bytes, policy
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from aiosmtpd.controller import Controller

from service.http.app import free_port
from tests import channels as ch
from tests.helpers import AppClient, MakeClient, accepted, admin, processed
from tests.standins import Inbox, StandIn, quiet_smtp_server

DANA = {
    "given_name": "Dana",
    "family_name": "King",
    "emails": ["dana@example.net"],
    "identities": [
        {"channel": "twitter", "external_id": "555123", "handle": "dana_k"},
        {"channel": "facebook", "external_id": "7700112233"},
    ],
}
X_TOKEN = "x-user-access-token"
PAGE_TOKEN = "page-access-token"
FORUM_KEY = "discourse-api-key"
Serve = Callable[[web.Application], Awaitable[TestServer]]


@pytest.fixture
async def stand_in(aiohttp_server: Serve) -> tuple[StandIn, str]:
    provider = StandIn()
    server = await aiohttp_server(provider.app())
    return provider, f"http://{server.host}:{server.port}"


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, int]]:
    quiet_smtp_server()
    handler, port = Inbox(), free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


def sending(base: str, smtp_port: int, **overrides: Any) -> dict[str, Any]:
    """Every channel's send on, against the stand-ins."""
    return {
        **ch.CHANNEL_SETTINGS,
        "worker": True,
        "twitter_access_token": X_TOKEN,
        "twitter_api_url": base,
        "facebook_page_token": PAGE_TOKEN,
        "facebook_graph_url": f"{base}/v21.0",
        "discourse_url": base,
        "discourse_api_key": FORUM_KEY,
        "discourse_api_username": "acme_help",
        "smtp_host": "127.0.0.1",
        "smtp_port": smtp_port,
        "smtp_starttls": False,
        "email_from": "Acme Help <help@acme.example>",
        "send_timeout": 1.0,
        **overrides,
    }


Start = Callable[..., Awaitable[AppClient]]


@pytest.fixture
def start(make_client: MakeClient) -> Start:
    async def run(**settings: Any) -> AppClient:
        client = await make_client(**settings)
        assert (await client.put("/v1/customers/c-dana", json=DANA, headers=admin())).status == 201
        for rep in ("ana", "ben"):
            body = {"name": rep.title(), "team": "social"}
            assert (await client.put(f"/v1/reps/{rep}", json=body, headers=admin())).status == 201
            assert (await client.post(f"/v1/reps/{rep}/shift/start", headers=admin())).status == 200
        return client

    return run


async def _claimed(client: AppClient, path: str, raw: bytes, headers: dict[str, str]) -> str:
    """The conversation of a delivery once processed, claimed by Ana."""
    message_id = await accepted(await client.post(path, data=raw, headers=headers))
    conversation = str((await processed(client, message_id))["conversation_id"])
    claim = await client.post(
        f"/v1/conversations/{conversation}/claim", json={"rep": "ana"}, headers=admin()
    )
    assert claim.status == 200, await claim.text()
    return conversation


async def _dm(client: AppClient, event_id: str = "ev-1") -> str:
    raw = ch.body(ch.dm(event_id, "555123", "my router is down"))
    return await _claimed(client, "/webhooks/twitter", raw, ch.twitter_headers(raw))


async def _reply(client: AppClient, conversation: str, text: str, **body: Any) -> Any:
    resp = await client.post(
        f"/v1/conversations/{conversation}/replies",
        json={"rep": "ana", "text": text, **body},
        headers=admin(),
    )
    assert resp.status == 201, await resp.text()
    return await resp.json()


async def _log(client: AppClient, conversation: str) -> list[dict[str, Any]]:
    found = await (await client.get(f"/v1/conversations/{conversation}", headers=admin())).json()
    log: list[dict[str, Any]] = found["log"]
    return log


async def test_a_reply_to_an_x_dm_reaches_the_customer_as_a_dm(
    start: Start, stand_in: tuple[StandIn, str], inbox: tuple[Inbox, int]
) -> None:
    provider, base = stand_in
    client = await start(**sending(base, inbox[1]))
    conversation = await _dm(client)
    done = await _reply(client, conversation, "An engineer is booked for Thursday.", send=True)

    [call] = provider.requests
    assert call.path == "/2/dm_conversations/with/555123/messages"
    assert call.headers["Authorization"] == f"Bearer {X_TOKEN}"
    assert call.body == {"text": "An engineer is booked for Thursday."}
    send = done["send"]
    assert (send["status"], send["channel"], send["provider_id"]) == (
        "sent",
        "twitter",
        "1582838223",
    )
    # The next shift sees that the customer got it, and which reply it was.
    log = await _log(client, conversation)
    [reply] = [e for e in log if e["type"] == "reply"]
    [outcome] = [e for e in log if e["type"].startswith("reply_s") or e["type"] == "reply_failed"]
    assert reply["reply_id"] == done["id"] == outcome["reply_id"]
    assert (outcome["type"], outcome["provider_id"], outcome["by"]) == (
        "reply_sent",
        "1582838223",
        "ana",
    )
    metrics = await (await client.get("/metrics")).text()
    assert 'socialid_reply_sends_total{channel="twitter",outcome="sent"} 1.0' in metrics


async def test_a_reply_to_a_mention_is_a_reply_post_under_it(
    start: Start, stand_in: tuple[StandIn, str], inbox: tuple[Inbox, int]
) -> None:
    provider, base = stand_in
    client = await start(**sending(base, inbox[1]))
    raw = ch.body(ch.tweet("1800000000000000042", "555123", "@acme_help bill is wrong"))
    conversation = await _claimed(client, "/webhooks/twitter", raw, ch.twitter_headers(raw))
    done = await _reply(client, conversation, "Sorry Dana, DM us please.", send=True)
    [call] = provider.requests
    assert call.path == "/2/tweets"
    assert call.body == {
        "text": "Sorry Dana, DM us please.",
        "reply": {"in_reply_to_tweet_id": "1800000000000000042"},
    }
    assert done["send"]["provider_id"] == "1801000000000000001"


async def test_messenger_dms_and_page_comments_go_out_through_the_graph_api(
    start: Start, stand_in: tuple[StandIn, str], inbox: tuple[Inbox, int]
) -> None:
    provider, base = stand_in
    client = await start(**sending(base, inbox[1]))
    raw = ch.body(ch.messenger("m_Abc1", "7700112233", "Is my refund coming?"))
    dm = await _claimed(client, "/webhooks/facebook", raw, ch.facebook_headers(raw))
    assert (await _reply(client, dm, "Yes, on Friday.", send=True))["send"]["provider_id"] == (
        "m_sent_1"
    )
    raw = ch.body(ch.feed_comment("104400_9001_77", "7700112233", "Dana", "Outage again?"))
    post = await _claimed(client, "/webhooks/facebook", raw, ch.facebook_headers(raw))
    assert (await _reply(client, post, "Fixed since 10:00.", send=True))["send"]["status"] == (
        "sent"
    )

    messenger, comment = provider.requests
    assert messenger.path == "/v21.0/me/messages"
    assert messenger.headers["Authorization"] == f"Bearer {PAGE_TOKEN}"
    assert messenger.body == {
        "recipient": {"id": "7700112233"},
        "messaging_type": "RESPONSE",
        "message": {"text": "Yes, on Friday."},
    }
    assert (comment.path, comment.body) == (
        "/v21.0/104400_9001_77/comments",
        {"message": "Fixed since 10:00."},
    )


async def test_a_forum_reply_is_a_post_in_the_topic_answering_the_customers_post(
    start: Start, stand_in: tuple[StandIn, str], inbox: tuple[Inbox, int]
) -> None:
    provider, base = stand_in
    client = await start(**sending(base, inbox[1]))
    payload = ch.discourse_post(8812, 311, "Sync fails after the update", topic=1204)
    payload["post"]["post_number"] = 3
    raw = ch.body(payload)
    # The instance names itself as the URL its API answers on.
    headers = {**ch.discourse_headers(raw), "X-Discourse-Instance": base}
    conversation = await _claimed(client, "/webhooks/forum", raw, headers)
    done = await _reply(client, conversation, "A fix ships in 2.4.1.", send=True)
    [call] = provider.requests
    assert call.path == "/posts.json"
    assert (call.headers["Api-Key"], call.headers["Api-Username"]) == (FORUM_KEY, "acme_help")
    assert call.body == {
        "topic_id": 1204,
        "raw": "A fix ships in 2.4.1.",
        "reply_to_post_number": 3,
    }
    assert done["send"]["provider_id"] == "913"


async def test_an_email_reply_goes_over_smtp_threaded_under_the_customers_mail(
    start: Start, stand_in: tuple[StandIn, str], inbox: tuple[Inbox, int]
) -> None:
    mails, port = inbox
    client = await start(**sending(stand_in[1], port))
    raw = ch.raw_mail(
        "dana@example.net",
        "Why was I charged twice?",
        message_id="<m2@mail.example.net>",
        in_reply_to="<m1@mail.example.net>",
    )
    headers = {**admin(), "Content-Type": "message/rfc822"}
    conversation = await _claimed(client, "/webhooks/email/raw", raw, headers)
    done = await _reply(client, conversation, "The second charge is refunded.", send=True)

    [envelope] = mails.mails
    assert envelope.rcpt_tos == ["dana@example.net"]
    assert envelope.mail_from == "help@acme.example"
    assert isinstance(envelope.content, bytes)
    mail = message_from_bytes(envelope.content, policy=policy.default)
    assert mail["Subject"] == "Re: My bill"
    assert mail["In-Reply-To"] == "<m2@mail.example.net>"
    assert mail["References"] == "<m1@mail.example.net> <m2@mail.example.net>"
    assert mail.get_content().strip() == "The second charge is refunded."
    assert done["send"]["provider_id"] == mail["Message-ID"]
    assert stand_in[0].requests == []


async def test_a_refusal_is_surfaced_with_the_providers_words_and_can_be_sent_again(
    start: Start, stand_in: tuple[StandIn, str], inbox: tuple[Inbox, int]
) -> None:
    provider, base = stand_in
    client = await start(**sending(base, inbox[1]))
    conversation = await _dm(client)
    provider.answer = (
        403,
        {"title": "Forbidden", "detail": "You cannot send messages to this user.", "status": 403},
    )
    done = await _reply(client, conversation, "Hello again", send=True)
    assert done["send"]["status"] == "failed"
    assert done["send"]["provider_status"] == 403
    assert done["send"]["reason"] == "You cannot send messages to this user."
    [failed] = [e for e in await _log(client, conversation) if e["type"] == "reply_failed"]
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
    start: Start, stand_in: tuple[StandIn, str], inbox: tuple[Inbox, int]
) -> None:
    provider, base = stand_in
    mails, port = inbox
    client = await start(**sending(base, port))
    raw = ch.body(ch.messenger("m_Abc2", "7700112233", "hello?"))
    dm = await _claimed(client, "/webhooks/facebook", raw, ch.facebook_headers(raw))
    provider.answer = (503, {"error": {"message": "(#2) Service temporarily unavailable"}})
    send = (await _reply(client, dm, "Still there?", send=True))["send"]
    assert (send["status"], send["provider_status"], send["reason"]) == (
        "failed",
        503,
        "(#2) Service temporarily unavailable",
    )

    mails.refuse = "550 5.1.1 Mailbox unavailable"
    raw = ch.raw_mail("dana@example.net", "hi", message_id="<m9@mail.example.net>")
    headers = {**admin(), "Content-Type": "message/rfc822"}
    mail = await _claimed(client, "/webhooks/email/raw", raw, headers)
    send = (await _reply(client, mail, "Hello", send=True))["send"]
    assert (send["status"], send["provider_status"]) == ("failed", 550)
    assert "Mailbox unavailable" in send["reason"]
    assert mails.mails == []


async def test_a_provider_that_does_not_answer_in_time_is_a_failure_not_a_500(
    start: Start, stand_in: tuple[StandIn, str], inbox: tuple[Inbox, int]
) -> None:
    provider, base = stand_in
    client = await start(**sending(base, inbox[1], send_timeout=0.3))
    conversation = await _dm(client)
    provider.delay = 2.0
    began = time.monotonic()
    send = (await _reply(client, conversation, "Hello", send=True))["send"]
    assert time.monotonic() - began < 1.5
    assert send["status"] == "failed"
    assert send["reason"] == "X did not answer within 0.3 s"
    assert "provider_status" not in send


async def test_a_provider_that_cannot_be_reached_is_a_failure_with_the_reason(
    start: Start, inbox: tuple[Inbox, int]
) -> None:
    closed = f"http://127.0.0.1:{free_port()}"  # nobody listens there
    client = await start(**sending(closed, inbox[1]))
    conversation = await _dm(client)
    send = (await _reply(client, conversation, "Hello", send=True))["send"]
    assert send["status"] == "failed"
    assert send["reason"].startswith("X could not be reached (")


async def test_without_credentials_the_send_is_off_and_the_reply_says_why(
    start: Start, stand_in: tuple[StandIn, str]
) -> None:
    provider, base = stand_in
    client = await start(**{**ch.CHANNEL_SETTINGS, "worker": True, "twitter_api_url": base})
    conversation = await _dm(client)
    done = await _reply(client, conversation, "Hello", send=True)
    assert done["send"]["status"] == "off"
    assert done["send"]["reason"] == "SOCIALID_TWITTER_ACCESS_TOKEN is not set"
    assert done["conversation"]["status"] == "waiting_on_customer"  # recorded all the same
    [off] = [e for e in await _log(client, conversation) if e["type"] == "reply_send_off"]
    assert (off["reply_id"], off["reason"]) == (done["id"], done["send"]["reason"])
    raw = ch.raw_mail("dana@example.net", "hi", message_id="<m5@mail.example.net>")
    headers = {**admin(), "Content-Type": "message/rfc822"}
    mail = await _claimed(client, "/webhooks/email/raw", raw, headers)
    send = (await _reply(client, mail, "Hello", send=True))["send"]
    assert send["reason"] == "SOCIALID_SMTP_HOST, SOCIALID_EMAIL_FROM are not set"
    assert provider.requests == []


async def test_a_reply_without_send_is_recorded_only(
    start: Start, stand_in: tuple[StandIn, str], inbox: tuple[Inbox, int]
) -> None:
    provider, base = stand_in
    client = await start(**sending(base, inbox[1]))
    conversation = await _dm(client)
    first = await _reply(client, conversation, "Answered on X already.")
    second = await _reply(client, conversation, "Noted.", send=False)
    assert "send" not in first
    assert "send" not in second
    assert provider.requests == []
    types = [e["type"] for e in await _log(client, conversation)]
    assert types.count("reply") == 2
    assert not [t for t in types if t.startswith("reply_")]
