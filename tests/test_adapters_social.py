"""Twitter/X, Meta and Discourse payloads (from the providers' documented formats) to
messages: signatures, challenges, echoes, batches, long posts, malformed payloads."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

import pytest

from adapters import discourse, facebook, twitter
from adapters.message import Channel, PayloadError
from tests import channels as ch

SECRET = "s3cret"


def _b(payload: Any) -> bytes:
    return json.dumps(payload).encode()


TWEET = {
    "for_user_id": "900001",
    "user_has_blocked": "false",
    "tweet_create_events": [
        {
            "id_str": "1800000000000000001",
            "created_at": "Tue Mar 04 09:15:00 +0000 2025",
            "text": "@acme_help order 4411 never arrived",
            "truncated": False,
            "in_reply_to_status_id_str": None,
            "in_reply_to_user_id_str": "900001",
            "user": {
                "id_str": "555123",
                "screen_name": "dana_k",
                "name": "Dana K",
                "location": "Leeds",
                "description": "bikes",
            },
            "timestamp_ms": "1741079700000",
        }
    ],
}
DM = {
    "for_user_id": "900001",
    "direct_message_events": [
        {
            "type": "message_create",
            "id": "1800000000000000777",
            "created_timestamp": "1741079800000",
            "message_create": {
                "target": {"recipient_id": "900001"},
                "sender_id": "555123",
                "message_data": {"text": "hi, any update?"},
            },
        }
    ],
    "users": {"555123": {"id": "555123", "name": "Dana K", "screen_name": "dana_k"}},
}


def test_twitter_crc_and_signature() -> None:
    expected = base64.b64encode(
        hmac.new(SECRET.encode(), b"challenge", hashlib.sha256).digest()
    ).decode()
    assert twitter.crc_response("challenge", SECRET) == {"response_token": f"sha256={expected}"}
    body = _b(TWEET)
    good = (
        "sha256="
        + base64.b64encode(hmac.new(SECRET.encode(), body, hashlib.sha256).digest()).decode()
    )
    assert twitter.verify(body, good, SECRET)
    assert not twitter.verify(body + b" ", good, SECRET)
    assert not twitter.verify(body, None, SECRET)
    assert not twitter.verify(body, good, "other")


def test_a_mention_becomes_a_public_message_with_the_senders_profile() -> None:
    [message] = twitter.parse(_b(TWEET))
    assert message.channel == Channel.TWITTER
    assert (message.sender.external_id, message.sender.handle) == ("555123", "dana_k")
    assert (message.sender.display_name, message.sender.location) == ("Dana K", "Leeds")
    assert message.text == "@acme_help order 4411 never arrived"
    assert message.dedup_key == "twitter:900001:tweet:1800000000000000001"
    assert not message.private
    assert message.sent_at.isoformat() == "2025-03-04T09:15:00+00:00"
    assert message.message_id == twitter.parse(_b(TWEET))[0].message_id  # stable


def test_a_long_tweet_uses_the_full_text_and_replies_thread() -> None:
    tweet = json.loads(json.dumps(TWEET))
    event = tweet["tweet_create_events"][0]
    event.update(truncated=True, text="short…", in_reply_to_status_id_str="1799")
    event["extended_tweet"] = {"full_text": "the whole story " * 20}
    [message] = twitter.parse(_b(tweet))
    assert message.text.startswith("the whole story")
    assert len(message.text) > 280
    assert "twitter:status:1799" in message.thread_keys


def test_a_dm_takes_the_name_from_the_users_map_and_echoes_are_dropped() -> None:
    [message] = twitter.parse(_b(DM))
    assert message.private
    assert message.provider == "dm"
    assert message.sender.display_name == "Dana K"
    assert message.thread_keys == ["twitter:dm:555123-900001"]
    echo = json.loads(json.dumps(DM))
    echo["direct_message_events"][0]["message_create"]["sender_id"] = "900001"
    assert twitter.parse(_b(echo)) == []
    own_tweet = json.loads(json.dumps(TWEET))
    own_tweet["tweet_create_events"][0]["user"]["id_str"] = "900001"
    assert twitter.parse(_b(own_tweet)) == []
    assert twitter.parse(_b({"for_user_id": "900001", "favorite_events": [{}]})) == []


def test_the_x_activity_envelope() -> None:
    dm = {
        "data": {
            "event_uuid": "e-1",
            "filter": {"user_id": "900001"},
            "event_type": "dm.received",
            "payload": DM,
        }
    }
    [message] = twitter.parse(_b(dm))
    assert message.dedup_key.startswith("x:e-1")
    assert message.text == "hi, any update?"
    mention = {
        "data": {
            "event_uuid": "e-2",
            "filter": {"user_id": "900001"},
            "event_type": "post.mention.create",
            "payload": {
                "id": "42",
                "text": "@acme_help broken",
                "author_id": "555123",
                "conversation_id": "40",
                "created_at": "2025-03-04T09:15:00+00:00",
            },
            "includes": {"users": [{"id": "555123", "username": "dana_k", "name": "Dana K"}]},
        }
    }
    [post] = twitter.parse(_b(mention))
    assert (post.sender.handle, post.dedup_key) == ("dana_k", "x:e-2")
    assert "twitter:status:40" in post.thread_keys


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[]",
        _b({"tweet_create_events": []}),
        _b({"for_user_id": "1", "tweet_create_events": [{"id_str": "1"}]}),
        _b({"for_user_id": "1", "tweet_create_events": "nope"}),
        _b(
            {
                "for_user_id": "1",
                "direct_message_events": [
                    {
                        "type": "message_create",
                        "id": "5",
                        "created_timestamp": "soon",
                        "message_create": {"sender_id": "2"},
                    }
                ],
            }
        ),
    ],
)
def test_malformed_twitter_payloads_are_payload_errors(body: bytes) -> None:
    with pytest.raises(PayloadError):
        twitter.parse(body)


MESSENGER = {
    "object": "page",
    "entry": [
        {
            "id": "104400",
            "time": 1741079700123,
            "messaging": [
                {
                    "sender": {"id": "7700112233"},
                    "recipient": {"id": "104400"},
                    "timestamp": 1741079699870,
                    "message": {"mid": "m_Abc123xyz", "text": "Is the shop open Sunday?"},
                },
                {
                    "sender": {"id": "104400"},
                    "recipient": {"id": "7700112233"},
                    "timestamp": 1741079699871,
                    "message": {"mid": "m_echo", "text": "Yes", "is_echo": True},
                },
                {
                    "sender": {"id": "7700112233"},
                    "recipient": {"id": "104400"},
                    "delivery": {"mids": ["m_echo"]},
                },
            ],
        }
    ],
}
FEED = {
    "object": "page",
    "entry": [
        {
            "id": "104400",
            "time": 1741079700,
            "changes": [
                {
                    "field": "feed",
                    "value": {
                        "item": "comment",
                        "verb": "add",
                        "post_id": "104400_9001",
                        "comment_id": "9001_3344",
                        "parent_id": "104400_9001",
                        "from": {"id": "6655", "name": "Sam Ray"},
                        "message": "Refund please",
                        "created_time": 1741079690,
                    },
                },
                {
                    "field": "feed",
                    "value": {"item": "reaction", "verb": "add", "post_id": "104400_9001"},
                },
            ],
        }
    ],
}


def test_meta_hub_challenge_and_signature() -> None:
    query = {"hub.mode": "subscribe", "hub.verify_token": "tok", "hub.challenge": "123"}
    assert facebook.challenge(query, "tok") == "123"
    assert facebook.challenge({**query, "hub.verify_token": "bad"}, "tok") is None
    body = _b(MESSENGER)
    good = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert facebook.verify(body, good, SECRET)
    assert not facebook.verify(body, good.upper(), SECRET)


def test_messenger_skips_echoes_and_receipts_and_feed_comments_carry_a_name() -> None:
    [message] = facebook.parse(_b(MESSENGER))
    assert (message.channel, message.event_id) == (Channel.FACEBOOK, "m_Abc123xyz")
    assert message.sender.display_name is None  # Messenger carries no name
    assert message.thread_keys == ["facebook:dm:104400-7700112233"]
    [comment] = facebook.parse(_b(FEED))
    assert (comment.sender.display_name, comment.text) == ("Sam Ray", "Refund please")
    assert comment.dedup_key == "facebook:feed:9001_3344:add"
    assert comment.thread_keys == ["facebook:post:104400_9001"]


def test_instagram_comments_and_batches() -> None:
    payload = ch.instagram_comment("1790", "9911", "dana.k", "where is my order")
    payload["entry"].append({**json.loads(json.dumps(MESSENGER))["entry"][0], "id": "17841"})
    messages = facebook.parse(_b(payload))
    assert [m.channel for m in messages] == [Channel.INSTAGRAM, Channel.INSTAGRAM]
    assert messages[0].sender.handle == "dana.k"
    with pytest.raises(PayloadError):
        facebook.parse(_b({"object": "user", "entry": []}))


POST = {
    "post": {
        "id": 8812,
        "username": "dana_k",
        "name": "Dana K",
        "created_at": "2025-03-04T09:15:00.000Z",
        "updated_at": "2025-03-04T09:15:00.000Z",
        "raw": "Sync fails after update",
        "post_number": 1,
        "topic_id": 1204,
        "topic_title": "Sync broken",
        "user_id": 311,
        "topic_archetype": "regular",
    }
}


def test_discourse_posts_pings_and_signature() -> None:
    body = _b(POST)
    good = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert discourse.verify(body, good, SECRET)
    [message] = discourse.parse(body, "post_created", "https://forum.example.com/")
    assert message.sender.external_id == "https://forum.example.com/u/311"
    assert (message.subject, message.text) == ("Sync broken", "Sync fails after update")
    assert message.thread_keys == ["forum:https://forum.example.com:topic:1204"]
    edited = discourse.parse(body, "post_edited", "https://forum.example.com")[0]
    assert edited.dedup_key != message.dedup_key
    assert discourse.parse(_b({"ping": "OK"}), "ping", None) == []
    with pytest.raises(PayloadError):
        discourse.parse(_b({"post": {"id": "x"}}), "post_created", None)


def test_the_generic_forum_format() -> None:
    body = _b(
        {
            "forum": "community.example.com",
            "post_id": "p1",
            "topic_id": "t1",
            "user_id": "u1",
            "username": "dana",
            "text": "Help",
            "created_at": "2025-03-04T09:15:00Z",
        }
    )
    [message] = discourse.parse_generic(body)
    assert message.sender.external_id == "community.example.com/u/u1"
    with pytest.raises(PayloadError):
        discourse.parse_generic(_b({"forum": "x"}))
