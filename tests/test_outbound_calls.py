"""The providers' send calls, built from messages as the adapters read them: what a
reply asks each provider for, and how each provider's answer is read. Pure, no I/O."""

from __future__ import annotations

from datetime import UTC, datetime
from email import message_from_bytes, policy
from typing import Any

import pytest

from adapters import discourse, email, facebook, twitter
from adapters.message import InboundMessage, Sender
from service.outbound.calls import (
    CannotSend,
    discourse_call,
    discourse_sent_id,
    meta_call,
    meta_sent_id,
    provider_error,
    x_call,
    x_sent_id,
)
from service.outbound.mail import MAX_REFERENCES, email_reply, reply_subject
from service.outbound.target import ReplyTarget
from tests import channels as ch

pytestmark = pytest.mark.cluster

AT = datetime(2025, 3, 4, 9, 30, tzinfo=UTC)


def _one(messages: list[InboundMessage]) -> ReplyTarget:
    [message] = messages
    return ReplyTarget.of(message)


def _forum(payload: dict[str, Any], site: str = "https://forum.example.com") -> ReplyTarget:
    return _one(discourse.parse(ch.body(payload), "post_created", site))


def test_an_x_dm_is_answered_by_a_dm_to_its_sender() -> None:
    target = _one(twitter.parse(ch.body(ch.dm("ev-1", "555123", "my router"))))
    call = x_call("https://api.x.com/", "user-token", target, "We are on it.")
    assert call.url == "https://api.x.com/2/dm_conversations/with/555123/messages"
    assert call.headers == {"Authorization": "Bearer user-token"}
    assert call.body == {"text": "We are on it."}


def test_an_x_mention_is_answered_by_a_reply_post_to_it() -> None:
    target = _one(twitter.parse(ch.body(ch.tweet("1800000000000000001", "555123", "@acme hi"))))
    call = x_call("https://api.x.com", "user-token", target, "Hi Dana")
    assert call.url == "https://api.x.com/2/tweets"
    assert call.body == {
        "text": "Hi Dana",
        "reply": {"in_reply_to_tweet_id": "1800000000000000001"},
    }


def test_an_id_from_a_payload_stays_one_path_segment() -> None:
    target = ReplyTarget.of(
        twitter.parse(ch.body(ch.dm("ev-2", "555123", "x")))[0].model_copy(
            update={"sender": Sender(external_id="../../2/tweets")}
        )
    )
    url = x_call("https://api.x.com", "t", target, "x").url
    assert url == "https://api.x.com/2/dm_conversations/with/..%2F..%2F2%2Ftweets/messages"


def test_x_answers_are_read_for_the_id_of_what_was_made() -> None:
    assert x_sent_id({"data": {"dm_conversation_id": "1-2", "dm_event_id": "e9"}}) == "e9"
    assert x_sent_id({"data": {"id": "1801", "text": "Hi"}}) == "1801"
    assert x_sent_id(["not", "an", "object"]) is None


def test_messenger_and_instagram_dms_go_through_the_send_api() -> None:
    for kind in ("page", "instagram"):
        payload = ch.messenger("m_1", "7700112233", "where is my parcel")
        payload["object"] = kind
        target = _one(facebook.parse(ch.body(payload)))
        call = meta_call("https://graph.facebook.com/v21.0", "page-token", target, "Today.")
        assert call.url == "https://graph.facebook.com/v21.0/me/messages"
        assert call.headers == {"Authorization": "Bearer page-token"}
        assert call.body == {
            "recipient": {"id": "7700112233"},
            "messaging_type": "RESPONSE",
            "message": {"text": "Today."},
        }


def test_page_and_instagram_comments_are_answered_in_their_thread() -> None:
    feed = _one(facebook.parse(ch.body(ch.feed_comment("9001_77", "7700112233", "Dana", "hm"))))
    call = meta_call("https://g.example/v21.0", "p", feed, "Sorry!")
    assert (call.url, call.body) == (
        "https://g.example/v21.0/9001_77/comments",
        {"message": "Sorry!"},
    )
    ig = _one(facebook.parse(ch.body(ch.instagram_comment("1790", "1789000001", "dana", "hm"))))
    call = meta_call("https://g.example/v21.0", "p", ig, "Sorry!")
    assert (call.url, call.body) == ("https://g.example/v21.0/1790/replies", {"message": "Sorry!"})


def test_graph_answers_are_read_for_the_message_or_comment_id() -> None:
    assert meta_sent_id({"recipient_id": "77", "message_id": "m_abc"}) == "m_abc"
    assert meta_sent_id({"id": "9001_78"}) == "9001_78"


def test_a_discourse_post_is_answered_in_its_topic_as_a_reply_to_it() -> None:
    post = ch.discourse_post(88, 311, "sync broken", topic=1204)
    post["post"]["post_number"] = 4
    call = discourse_call("https://forum.example.com/", "key-1", "acme_help", _forum(post), "Fixed")
    assert call.url == "https://forum.example.com/posts.json"
    assert call.headers == {"Api-Key": "key-1", "Api-Username": "acme_help"}
    assert call.body == {"topic_id": 1204, "raw": "Fixed", "reply_to_post_number": 4}
    assert discourse_sent_id({"id": 913, "post_number": 5}) == "913"


def test_a_post_on_another_forum_is_never_answered_on_this_one() -> None:
    target = _forum(ch.discourse_post(88, 311, "hi"), site="https://other.example.org")
    with pytest.raises(CannotSend, match=r"other\.example\.org"):
        discourse_call("https://forum.example.com", "k", "u", target, "x")
    generic = ch.body(
        {
            "forum": "f1",
            "post_id": "1",
            "topic_id": "2",
            "user_id": "3",
            "text": "hi",
            "created_at": "2025-03-04T09:15:00Z",
        }
    )
    with pytest.raises(CannotSend, match="generic forum"):
        discourse_call("https://f1", "k", "u", _one(discourse.parse_generic(generic)), "x")


def _mail(raw: bytes) -> ReplyTarget:
    return ReplyTarget.of(email.parse_raw(raw, AT))


def test_an_email_reply_is_threaded_under_the_customers_last_mail() -> None:
    raw = ch.raw_mail(
        "dana@example.net",
        "still wrong",
        message_id="<m2@mail.example.net>",
        in_reply_to="<m1@acme.example>",
    )
    msg = email_reply(
        "Acme Help <help@acme.example>",
        _mail(raw),
        "Refunded.",
        message_id="<r1@acme.example>",
        at=AT,
    )
    sent = message_from_bytes(msg.as_bytes(), policy=policy.default)
    assert sent["To"] == "dana@example.net"
    assert sent["From"] == "Acme Help <help@acme.example>"
    assert sent["Subject"] == "Re: My bill"
    assert sent["Message-ID"] == "<r1@acme.example>"
    assert sent["In-Reply-To"] == "<m2@mail.example.net>"
    assert sent["References"] == "<m1@acme.example> <m2@mail.example.net>"
    assert sent.get_content().strip() == "Refunded."


def test_a_long_thread_keeps_its_newest_references_and_a_mail_without_id_none() -> None:
    chain = " ".join(f"<r{n}@x.example>" for n in range(50))
    raw = ch.raw_mail("dana@example.net", "hi", message_id="<last@x.example>")
    raw = raw.replace(b"Content-Type:", f"References: {chain}\r\nContent-Type:".encode(), 1)
    msg = email_reply("help@acme.example", _mail(raw), "ok", message_id="<r@a>", at=AT)
    refs = str(msg["References"]).split()
    assert len(refs) == MAX_REFERENCES + 1
    assert refs[-2:] == ["<r49@x.example>", "<last@x.example>"]
    bare = b"From: dana@example.net\r\nSubject: hi\r\n\r\nhello\r\n"
    msg = email_reply("help@acme.example", _mail(bare), "ok", message_id="<r@a>", at=AT)
    assert (msg["In-Reply-To"], msg["References"]) == (None, None)


def test_a_reply_subject_says_re_once_and_never_breaks_a_header() -> None:
    assert reply_subject("My bill") == "Re: My bill"
    assert reply_subject("RE: My bill") == "RE: My bill"
    assert reply_subject(None) == "Re: your message"
    assert reply_subject("a\r\nBcc: x@evil.example") == "Re: a Bcc: x@evil.example"


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        (
            {"error": {"message": "(#10) Outside the allowed window", "code": 10}},
            "(#10) Outside the allowed window",
        ),
        (
            {
                "title": "Forbidden",
                "detail": "You are not permitted to DM this user.",
                "status": 403,
            },
            "You are not permitted to DM this user.",
        ),
        ({"errors": [{"message": "Rate limit exceeded", "code": 88}]}, "Rate limit exceeded"),
        (
            {"errors": ["Body is too short", "Title is missing"], "error_type": "invalid"},
            "Body is too short; Title is missing",
        ),
        ("<html>Bad gateway</html>", None),
        ({"unrelated": 1}, None),
    ],
)
def test_each_providers_words_for_a_refusal_are_found(answer: Any, reason: str | None) -> None:
    assert provider_error(answer) == reason
