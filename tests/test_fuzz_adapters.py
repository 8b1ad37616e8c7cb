"""Hostile webhook deliveries in every format: each is read into messages that can be
stored, or refused with a ``PayloadError`` (a dead letter with its reason), within a
bound in time. Any other exception is a 500 to the provider, or a worker stuck on one
delivery. The raw-MIME side is in test_fuzz_email.py."""

from __future__ import annotations

import hmac
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from adapters import discourse, facebook, twitter
from adapters.delivery import Delivery, Format, parse_delivery
from adapters.email_providers import mailgun, mailgun_verify, sendgrid
from adapters.message import PayloadError
from tests import channels as ch
from tests.fuzzing import FUZZ, any_text, damaged, mutated, read

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
FORUM = {"event": "post_created", "instance": "https://forum.example.com"}
MENTION = {
    "data": {
        "event_uuid": "e-2",
        "filter": {"user_id": ch.OWN_TWITTER},
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
X_DM = {
    "data": {
        "event_uuid": "e-1",
        "filter": {"user_id": ch.OWN_TWITTER},
        "event_type": "dm.received",
        "payload": ch.dm("1800000000000000777", "555123", "any update?"),
    }
}
MESSENGER = ch.messenger("m_Abc123", "7700112233", "Is the shop open?")
MESSENGER["entry"][0]["messaging"][0]["message"] |= {
    "attachments": [{"type": "image", "payload": {"url": "https://cdn.example/1.jpg"}}],
    "reply_to": {"mid": "m_0"},
}
INSTAGRAM = ch.instagram_comment("1790", "9911", "dana.k", "where is my order")
GENERIC = {
    "forum": "community.example.com",
    "post_id": "p1",
    "topic_id": "t1",
    "user_id": "u1",
    "username": "dana",
    "text": "Help",
    "created_at": "2025-03-04T09:15:00Z",
}
LOOKUP = {
    "channel": "twitter",
    "sender": {"external_id": "555123", "handle": "dana_k", "display_name": "Dana K"},
    "text": "account 55-1234-88",
    "thread": "t-9",
    "sent_at": "2025-03-04T09:15:00+00:00",
}
POSTMARK = {
    "FromFull": {"Email": "dana@example.net", "Name": "Dana K"},
    "Subject": "Re: Ticket 42",
    "Date": "Tue, 04 Mar 2025 09:20:00 +0000",
    "MessageID": "7f3c0a1e",
    "TextBody": "Still broken.\n\n> On Mon, Acme wrote:\n> fixed",
    "HtmlBody": "<p>Still broken.</p>",
    "Headers": [{"Name": "In-Reply-To", "Value": "<ticket-42@help.example.com>"}],
}
MAILGUN = {
    "from": "Dana King <dana@example.net>",
    "subject": "Re: my bill",
    "body-plain": "Still broken.",
    "Message-Id": "<CAF99@mail.example.net>",
    "message-headers": json.dumps([["In-Reply-To", "<t-42@help.example.com>"]]),
}
SENDGRID = {
    "headers": "Message-ID: <sg-9@mail.example.net>\nFrom: Dana <dana@example.net>\n",
    "from": "Dana <dana@example.net>",
    "html": "<p>Why was I charged <b>$300</b>?</p>",
}
SAMPLES: dict[str, tuple[Format, Any, dict[str, str]]] = {
    "tweet": (Format.TWITTER, ch.tweet("1800000000000000001", "555123", "hi", reply_to="7"), {}),
    "dm": (Format.TWITTER, ch.dm("1800000000000000777", "555123", "any update?"), {}),
    "x mention": (Format.TWITTER, MENTION, {}),
    "x dm": (Format.TWITTER, X_DM, {}),
    "messenger": (Format.FACEBOOK, MESSENGER, {}),
    "page feed": (Format.FACEBOOK, ch.feed_comment("9001_3344", "6655", "Sam Ray", "hi"), {}),
    "instagram": (Format.FACEBOOK, INSTAGRAM, {}),
    "discourse": (Format.DISCOURSE, ch.discourse_post(8812, 311, "Sync fails"), FORUM),
    "generic forum": (Format.FORUM, GENERIC, {}),
    "lookup": (Format.LOOKUP, LOOKUP, {}),
    "postmark": (Format.POSTMARK, POSTMARK, {}),
    "mailgun": (Format.MAILGUN, MAILGUN, {}),
    "sendgrid": (Format.SENDGRID, SENDGRID, {}),
}
KINDS = list(SAMPLES)


def deliver(fmt: Format, body: bytes, meta: dict[str, str] | None = None) -> Delivery:
    return Delivery(format=fmt, received_at=NOW, body=body, meta=meta or {})


def encoded(doc: Any, ascii: bool = True) -> bytes:
    # surrogatepass: a lone surrogate goes as the bytes a careless encoder writes.
    return json.dumps(doc, ensure_ascii=ascii).encode("utf-8", "surrogatepass")


@pytest.mark.parametrize("kind", KINDS)
def test_every_sample_is_read(kind: str) -> None:
    """The samples the payloads below are made from are read: a mutation of one reaches
    the code that reads each field."""
    fmt, doc, meta = SAMPLES[kind]
    outcome = read(lambda: parse_delivery(deliver(fmt, encoded(doc), meta)))
    assert not isinstance(outcome, PayloadError), outcome
    assert outcome


@pytest.mark.parametrize("kind", KINDS)
@FUZZ
@given(data=st.data())
def test_a_payload_with_fields_of_any_shape_is_read_or_refused(
    kind: str, data: st.DataObject
) -> None:
    fmt, doc, meta = SAMPLES[kind]
    body = encoded(data.draw(mutated(doc)), ascii=data.draw(st.booleans()))
    read(lambda: parse_delivery(deliver(fmt, body, meta)))


@pytest.mark.parametrize("kind", KINDS)
@FUZZ
@given(data=st.data())
def test_a_truncated_or_mangled_body_is_read_or_refused(kind: str, data: st.DataObject) -> None:
    fmt, doc, meta = SAMPLES[kind]
    body = data.draw(damaged(encoded(doc, ascii=False)))
    read(lambda: parse_delivery(deliver(fmt, body, meta)))


@FUZZ
@given(
    fmt=st.sampled_from(Format),
    body=st.binary(max_size=2_000),
    meta=st.fixed_dictionaries({}, optional={"event": any_text, "instance": any_text}),
)
def test_any_bytes_in_any_format_are_read_or_refused(
    fmt: Format, body: bytes, meta: dict[str, str]
) -> None:
    read(lambda: parse_delivery(deliver(fmt, body, meta)))


# The texts a field took when it came 1,000 arrays deep: str() of it went past Python's
# recursion limit, a RecursionError in every JSON format.
DEEP = "[" * 1_000 + "]" * 1_000
IN_A_FIELD = [
    (Format.TWITTER, '{"for_user_id":"1","tweet_create_events":[{"id_str":"5","text":"x",'
     '"user":{"id_str":"2"},"timestamp_ms":%s}]}'),
    (Format.FACEBOOK, '{"object":"page","entry":[{"id":"1","messaging":[{"sender":{"id":"2"},'
     '"timestamp":1,"message":{"mid":"m","text":%s}}]}]}'),
    (Format.DISCOURSE, '{"post":{"id":1,"topic_id":1,"user_id":%s,"created_at":"2020-01-01"}}'),
    (Format.LOOKUP, '{"channel":"email","sender":{"email":"a@b.c"},"message_id":%s}'),
    (Format.POSTMARK, '{"From":"a@b.com","Subject":%s}'),
    (Format.MAILGUN, '{"from":"a@b.com","body-plain":%s}'),
]  # fmt: skip


@pytest.mark.parametrize(("fmt", "template"), IN_A_FIELD)
def test_a_field_nested_a_thousand_deep_is_refused(fmt: Format, template: str) -> None:
    body = (template % DEEP).encode()
    outcome = read(lambda: parse_delivery(deliver(fmt, body, FORUM)))
    assert isinstance(outcome, PayloadError)
    assert "nests deeper" in str(outcome)


@pytest.mark.parametrize("fmt", Format)
@pytest.mark.parametrize(
    "body",
    [
        b"[" * 100_000 + b"]" * 100_000,
        b'{"a":' * 100_000 + b"1" + b"}" * 100_000,
        b'{"data":' + b"[" * 100_000,
        b'{"a":"' + b"\\u0041" * 200_000 + b'"}',
        b"9" * 1_000_000,
    ],
    ids=["arrays", "objects", "unclosed", "escapes", "number"],
)
def test_deep_huge_or_endless_json_is_refused_in_bounded_time(fmt: Format, body: bytes) -> None:
    assert isinstance(read(lambda: parse_delivery(deliver(fmt, body, FORUM))), PayloadError)


def _with_strings(doc: Any, text: str) -> Any:
    if isinstance(doc, dict):
        return {k: _with_strings(v, text) for k, v in doc.items()}
    if isinstance(doc, list):
        return [_with_strings(v, text) for v in doc]
    return text if isinstance(doc, str) else doc


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    "text",
    ["x" * 300_000, "\n" * 300_000, "On " * 100_000, '"(' * 150_000, "=?utf-8?q?a?= " * 20_000],
    ids=["letters", "newlines", "on-lines", "quotes", "encoded-words"],
)
def test_every_string_a_third_of_a_megabyte_long_is_read_or_refused(kind: str, text: str) -> None:
    fmt, doc, meta = SAMPLES[kind]
    read(lambda: parse_delivery(deliver(fmt, encoded(_with_strings(doc, text)), meta)))


@pytest.mark.parametrize(
    "body",
    [
        b'{"for_user_id":"1","tweet_create_events":[{"id_str":"\\ud800","text":"x",'
        b'"user":{"id_str":"2"},"timestamp_ms":"1"}]}',
        '{"for_user_id":"1\ud800"}'.encode("utf-8", "surrogatepass"),
    ],
)
def test_json_text_that_is_not_unicode_is_refused(body: bytes) -> None:
    """Found by fuzzing: the standard library read them, and a message went to the store
    with a dedup key no client can encode."""
    with pytest.raises(PayloadError, match="not Unicode"):
        twitter.parse(body)


def test_regressions_found_by_fuzzing_are_payload_errors() -> None:
    postmark = {"From": "a@example.net", "Headers": 5}  # was a TypeError
    lookups = [  # were pydantic's ValidationError and fromisoformat's ValueError
        {"channel": "email", "sender": {"email": "a@example.net", "handle": 5}},
        {"channel": "email", "sender": {"email": "a@example.net"}, "sent_at": "soon"},
    ]
    cases: list[tuple[Format, Any, dict[str, str]]] = [(Format.POSTMARK, postmark, {})]
    cases += [(Format.LOOKUP, lookup, {}) for lookup in lookups]
    # A From the standard library reads as a group, then fails on: was an AttributeError.
    cases.append((Format.MAILGUN, {"from": "{'': None, ';': None}", "body-plain": "hi"}, {}))
    # A header byte that is not UTF-8, as aiohttp hands it over: was pydantic's error.
    cases.append((Format.DISCOURSE, ch.discourse_post(1, 2, "hi"), FORUM | {"instance": "\udcff"}))
    for fmt, doc, meta in cases:
        with pytest.raises(PayloadError):
            parse_delivery(deliver(fmt, encoded(doc), meta))


SECRET = "s3cret"


@FUZZ
@given(body=st.binary(max_size=500), header=st.none() | any_text | st.just(" right\t"))
@example(body=b"{}", header="sha256=\udcff")  # the byte 0xff in the header: was a 500
def test_a_signature_header_matches_only_the_signature(body: bytes, header: str | None) -> None:
    """Any header text, however decoded (aiohttp hands bytes that are not UTF-8 over as
    lone surrogates, which made the check raise: a 500): True only for the signature."""
    hexed = ch.hex_signed(body, SECRET, "h")["h"]
    based = ch.twitter_headers(body, SECRET)[twitter.SIGNATURE_HEADER]
    for verify, right in ((facebook.verify, hexed), (discourse.verify, hexed)):
        given_header = None if header is None else header.replace("right", right)
        expected = given_header is not None and given_header.strip() == right
        assert verify(body, given_header, SECRET) is expected
    given_header = None if header is None else header.replace("right", based)
    expected = given_header is not None and given_header.strip() == based
    assert twitter.verify(body, given_header, SECRET) is expected


@FUZZ
@given(token=st.text(max_size=60))
def test_the_twitter_challenge_answer_signs_the_token(token: str) -> None:
    answer = twitter.crc_response(token, SECRET)["response_token"]
    assert answer == ch.twitter_headers(token.encode(), SECRET)[twitter.SIGNATURE_HEADER]


@FUZZ
@given(
    query=st.dictionaries(
        st.sampled_from(["hub.mode", "hub.verify_token", "hub.challenge"]), any_text
    ),
)
def test_the_meta_challenge_echoes_only_for_our_token(query: dict[str, str]) -> None:
    answer = facebook.challenge(query, ch.FACEBOOK_VERIFY)
    ours = query.get("hub.mode") == "subscribe" and (
        query.get("hub.verify_token", "").strip() == ch.FACEBOOK_VERIFY
    )
    assert answer == (query.get("hub.challenge") if ours else None)


MAILGUN_FIELDS = ["timestamp", "token", "signature", "from", "subject", "body-plain",
                  "body-html", "body-mime", "message-headers", "Message-Id"]  # fmt: skip
SENDGRID_FIELDS = ["email", "headers", "from", "subject", "text", "html"]


@FUZZ
@given(
    # Form fields as aiohttp gives them: it refuses a form that is not UTF-8 (400).
    fields=st.dictionaries(st.sampled_from(MAILGUN_FIELDS), st.text(max_size=60)),
    sign=st.booleans(),
    now=st.floats(0, 10_000),
)
def test_mailgun_signature_check_gives_its_reason(
    fields: dict[str, str], sign: bool, now: float
) -> None:
    stamp, token = fields.get("timestamp", ""), fields.get("token", "")
    right = hmac.new(ch.MAILGUN_KEY.encode(), (stamp + token).encode(), "sha256").hexdigest()
    if sign:
        fields["signature"] = right
    reason = mailgun_verify(fields, ch.MAILGUN_KEY, now=now, max_age=300)
    if not stamp or not token or "signature" not in fields:
        assert reason == "missing"
    elif fields["signature"].strip() != right:
        assert reason == "mismatch"
    else:  # a timestamp that is no number is a mismatch too
        assert reason in {None, "stale", "mismatch"}


@FUZZ
@given(
    mailgun_fields=st.dictionaries(st.sampled_from(MAILGUN_FIELDS), any_text),
    sendgrid_fields=st.dictionaries(st.sampled_from(SENDGRID_FIELDS), any_text),
)
def test_provider_fields_of_any_text_are_read_or_refused(
    mailgun_fields: dict[str, str], sendgrid_fields: dict[str, str]
) -> None:
    read(lambda: [mailgun(mailgun_fields, NOW)])
    read(lambda: [sendgrid(sendgrid_fields, NOW)])
