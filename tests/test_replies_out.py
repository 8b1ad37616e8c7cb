"""Replies out, end to end: a signed delivery comes in through the webhook, the serving
app's worker threads it, a rep claims and replies with "send": true, and the provider
(a real server on loopback that records requests) gets exactly the call it documents."""

from __future__ import annotations

from collections.abc import Callable
from email import message_from_bytes, policy

import pytest
from structlog.testing import capture_logs

from service.http.app import create_app
from service.settings import Settings
from tests import channels as ch
from tests.helpers import MakeClient, admin
from tests.replying import (
    FORUM_KEY,
    PAGE_TOKEN,
    X_TOKEN,
    claimed,
    dm,
    log_of,
    replied,
    sending,
    started,
)
from tests.standins import Inbox, StandIn

pytestmark = pytest.mark.cluster


async def test_a_reply_to_an_x_dm_reaches_the_customer_as_a_dm(
    make_client: MakeClient, stand_in: tuple[StandIn, str], inbox: tuple[Inbox, int]
) -> None:
    provider, base = stand_in
    client = await started(make_client, **sending(base, inbox[1]))
    conversation = await dm(client)
    done = await replied(client, conversation, "An engineer is booked for Thursday.", send=True)

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
    log = await log_of(client, conversation)
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
    make_client: MakeClient, stand_in: tuple[StandIn, str], inbox: tuple[Inbox, int]
) -> None:
    provider, base = stand_in
    client = await started(make_client, **sending(base, inbox[1]))
    raw = ch.body(ch.tweet("1800000000000000042", "555123", "@acme_help bill is wrong"))
    conversation = await claimed(client, "/webhooks/twitter", raw, ch.twitter_headers(raw))
    done = await replied(client, conversation, "Sorry Dana, DM us please.", send=True)
    [call] = provider.requests
    assert call.path == "/2/tweets"
    assert call.body == {
        "text": "Sorry Dana, DM us please.",
        "reply": {"in_reply_to_tweet_id": "1800000000000000042"},
    }
    assert done["send"]["provider_id"] == "1801000000000000001"


async def test_messenger_dms_and_page_comments_go_out_through_the_graph_api(
    make_client: MakeClient, stand_in: tuple[StandIn, str], inbox: tuple[Inbox, int]
) -> None:
    provider, base = stand_in
    client = await started(make_client, **sending(base, inbox[1]))
    raw = ch.body(ch.messenger("m_Abc1", "7700112233", "Is my refund coming?"))
    dm = await claimed(client, "/webhooks/facebook", raw, ch.facebook_headers(raw))
    assert (await replied(client, dm, "Yes, on Friday.", send=True))["send"]["provider_id"] == (
        "m_sent_1"
    )
    raw = ch.body(ch.feed_comment("104400_9001_77", "7700112233", "Dana", "Outage again?"))
    post = await claimed(client, "/webhooks/facebook", raw, ch.facebook_headers(raw))
    assert (await replied(client, post, "Fixed since 10:00.", send=True))["send"]["status"] == (
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
    make_client: MakeClient, stand_in: tuple[StandIn, str], inbox: tuple[Inbox, int]
) -> None:
    provider, base = stand_in
    client = await started(make_client, **sending(base, inbox[1]))
    payload = ch.discourse_post(8812, 311, "Sync fails after the update", topic=1204)
    payload["post"]["post_number"] = 3
    raw = ch.body(payload)
    # The instance names itself as the URL its API answers on.
    headers = {**ch.discourse_headers(raw), "X-Discourse-Instance": base}
    conversation = await claimed(client, "/webhooks/forum", raw, headers)
    done = await replied(client, conversation, "A fix ships in 2.4.1.", send=True)
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
    make_client: MakeClient, stand_in: tuple[StandIn, str], inbox: tuple[Inbox, int]
) -> None:
    mails, port = inbox
    client = await started(make_client, **sending(stand_in[1], port))
    raw = ch.raw_mail(
        "dana@example.net",
        "Why was I charged twice?",
        message_id="<m2@mail.example.net>",
        in_reply_to="<m1@mail.example.net>",
    )
    headers = {**admin(), "Content-Type": "message/rfc822"}
    conversation = await claimed(client, "/webhooks/email/raw", raw, headers)
    done = await replied(client, conversation, "The second charge is refunded.", send=True)

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


async def test_a_reply_without_send_is_recorded_only(
    make_client: MakeClient, stand_in: tuple[StandIn, str], inbox: tuple[Inbox, int]
) -> None:
    provider, base = stand_in
    client = await started(make_client, **sending(base, inbox[1]))
    conversation = await dm(client)
    first = await replied(client, conversation, "Answered on X already.")
    second = await replied(client, conversation, "Noted.", send=False)
    assert "send" not in first
    assert "send" not in second
    assert provider.requests == []
    types = [e["type"] for e in await log_of(client, conversation)]
    assert types.count("reply") == 2
    assert not [t for t in types if t.startswith("reply_")]


def test_the_start_up_line_says_which_channels_send_and_what_the_others_miss(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings(twitter_access_token="t", discourse_url="https://forum.example.com")
    with capture_logs() as logs:
        create_app(settings)
    [line] = [e for e in logs if e["event"] == "senders"]
    assert line["on"] == ["twitter"]
    assert line["off"] == {
        "facebook": "SOCIALID_FACEBOOK_PAGE_TOKEN",
        "instagram": "SOCIALID_FACEBOOK_PAGE_TOKEN",
        "forum": "SOCIALID_DISCOURSE_API_KEY, SOCIALID_DISCOURSE_API_USERNAME",
        "email": "SOCIALID_SMTP_HOST, SOCIALID_EMAIL_FROM",
    }
