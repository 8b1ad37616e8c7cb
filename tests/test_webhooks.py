"""Webhooks through real HTTP against the real store: verify, deduplicate, store, answer."""

from __future__ import annotations

import io
import json
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
import redis.asyncio as aioredis
import structlog
from aiohttp import FormData
from structlog.testing import capture_logs

from adapters.delivery import Delivery, Format
from service.ingest.deliveries import DeliveryStore, FsyncUnavailable
from service.store.embedded import EmbeddedRedis
from service.store.keynames import KeySchema
from tests import channels as ch
from tests.helpers import PROBLEM, AppClient, MakeClient, admin

pytestmark = pytest.mark.cluster


async def _client(make_client: MakeClient, **extra: object) -> AppClient:
    return await make_client(**{**ch.CHANNEL_SETTINGS, **extra})


async def _metric(client: AppClient, line_start: str) -> float:
    text = await (await client.get("/metrics")).text()
    for line in text.splitlines():
        if line.startswith(line_start):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


async def test_a_channel_without_its_secret_is_off(client: AppClient) -> None:
    for method, path in [
        ("POST", "/webhooks/twitter"),
        ("GET", "/webhooks/facebook"),
        ("POST", "/webhooks/forum"),
        ("POST", "/webhooks/email/mailgun"),
        ("POST", "/webhooks/email/postmark"),
    ]:
        resp = await client.request(method, path, data=b"{}")
        assert resp.status == 404, path
        assert resp.content_type == PROBLEM
        assert (await resp.json())["type"] == "/problems/channel-not-configured"


async def test_twitter_crc_and_a_signed_tweet_stored_once(
    make_client: MakeClient, redis: aioredis.Redis, keys: KeySchema
) -> None:
    client = await _client(make_client)
    crc = await client.get("/webhooks/twitter", params={"crc_token": "abc"})
    assert crc.status == 200
    assert (await crc.json())["response_token"].startswith("sha256=")
    assert (await client.get("/webhooks/twitter")).status == 400

    raw = ch.body(ch.tweet("1800000000000000001", "555123", "@acme_help order 4411 lost"))
    with capture_logs(processors=[structlog.contextvars.merge_contextvars]) as logs:
        first = await client.post("/webhooks/twitter", data=raw, headers=ch.twitter_headers(raw))
        assert first.status == 200, await first.text()
        answer = await first.json()
        assert len(answer["accepted"]) == 1
        assert answer["duplicates"] == 0
        assert answer["accepted"][0].startswith("msg_")
        again = await client.post("/webhooks/twitter", data=raw, headers=ch.twitter_headers(raw))
        assert await again.json() == {"accepted": [], "duplicates": 1}
    # Each delivery's outcome is on its request's one canonical line.
    said = [
        (e["method"], e["channel"], e["delivery"], e["accepted"], e["duplicates"])
        for e in logs
        if e["event"] == "request" and e["route"] == "/webhooks/twitter"
    ]
    assert said == [("POST", "twitter", "accepted", 1, 0), ("POST", "twitter", "duplicate", 0, 1)]
    assert await redis.xlen(keys.ingest_stream()) == 1
    line = 'socialid_webhook_deliveries_total{channel="twitter",outcome="duplicate"}'
    assert await _metric(client, line) == 1


async def test_signature_failures_are_refused_and_counted(make_client: MakeClient) -> None:
    client = await _client(make_client)
    raw = ch.body(ch.tweet("1", "555123", "hi"))
    missing = await client.post(
        "/webhooks/twitter", data=raw, headers={"Content-Type": "application/json"}
    )
    assert missing.status == 401
    wrong = ch.twitter_headers(raw, secret="not-the-secret")
    resp = await client.post("/webhooks/twitter", data=raw, headers=wrong)
    assert resp.status == 403
    assert (await resp.json())["type"] == "/problems/bad-signature"
    fb = await client.post("/webhooks/facebook", data=raw, headers=ch.facebook_headers(raw, "x"))
    assert fb.status == 403
    line = 'socialid_webhook_signature_failures_total{channel="twitter",reason="mismatch"}'
    assert await _metric(client, line) == 1
    assert await _metric(client, line.replace("twitter", "facebook")) == 1


async def test_bad_input_gets_a_4xx_or_a_dead_letter(
    make_client: MakeClient, redis: aioredis.Redis, keys: KeySchema
) -> None:
    client = await _client(make_client)
    raw = ch.body(ch.tweet("1", "555123", "hi"))
    wrong_type = {**ch.twitter_headers(raw), "Content-Type": "text/plain"}
    assert (await client.post("/webhooks/twitter", data=raw, headers=wrong_type)).status == 415
    huge = b"{" + b" " * (10 * 1024 * 1024) + b"}"
    resp = await client.post(
        "/webhooks/twitter", data=io.BytesIO(huge), headers=ch.twitter_headers(huge)
    )
    assert resp.status == 413
    for garbage in (b"\xff\xfe\x00garbage", b'{"for_user_id": "900001", "tweet_create_ev'):
        resp = await client.post(
            "/webhooks/twitter", data=garbage, headers=ch.twitter_headers(garbage)
        )
        assert resp.status == 200
        answer = await resp.json()
        assert answer["accepted"] == []
        assert answer["dead_letter"]
    assert await redis.xlen(keys.ingest_stream()) == 0
    listed = await (await client.get("/v1/ingest/dead-letters", headers=admin())).json()
    reasons = [d["reason"] for d in listed["dead_letters"]]
    assert len(reasons) == 2
    assert all(d["stage"] == "receive" for d in listed["dead_letters"])
    assert "JSON" in reasons[0]
    # Replaying an unreadable delivery keeps it, with the reason.
    first = listed["dead_letters"][0]["id"]
    replay = await client.post(f"/v1/ingest/dead-letters/{first}/replay", headers=admin())
    assert replay.status == 422
    assert (await replay.json())["type"] == "/problems/still-unreadable"
    assert await redis.xlen(keys.dead_letters()) == 2
    missing = await client.post("/v1/ingest/dead-letters/1-1/replay", headers=admin())
    assert missing.status == 404
    bad_id = await client.post("/v1/ingest/dead-letters/x/replay", headers=admin())
    assert bad_id.status == 404


async def test_meta_hub_verification_and_a_batch_with_echoes(make_client: MakeClient) -> None:
    client = await _client(make_client)
    hub = {"hub.mode": "subscribe", "hub.challenge": "1158201444"}
    good = {**hub, "hub.verify_token": ch.FACEBOOK_VERIFY}
    ok = await client.get("/webhooks/facebook", params=good)
    assert (ok.status, await ok.text()) == (200, "1158201444")
    bad = await client.get("/webhooks/facebook", params={**hub, "hub.verify_token": "nope"})
    assert bad.status == 403
    payload = ch.messenger("m_1", "7700112233", "Is the shop open?")
    payload["entry"][0]["messaging"].append(
        {
            "sender": {"id": ch.PAGE},
            "recipient": {"id": "7700112233"},
            "timestamp": 1,
            "message": {"mid": "m_echo", "text": "Yes", "is_echo": True},
        }
    )
    payload["entry"].append(ch.feed_comment("9001_1", "6655", "Sam Ray", "Refund")["entry"][0])
    raw = ch.body(payload)
    resp = await client.post("/webhooks/facebook", data=raw, headers=ch.facebook_headers(raw))
    assert len((await resp.json())["accepted"]) == 2  # the echo is not a customer message


async def test_forum_discourse_ping_and_generic_format(make_client: MakeClient) -> None:
    client = await _client(make_client)
    ping = ch.body({"ping": "OK"})
    headers = ch.discourse_headers(ping, "ping")
    resp = await client.post("/webhooks/forum", data=ping, headers=headers)
    assert await resp.json() == {"accepted": [], "duplicates": 0}
    raw = ch.body(ch.discourse_post(8812, 311, "Sync fails"))
    resp = await client.post("/webhooks/forum", data=raw, headers=ch.discourse_headers(raw))
    assert len((await resp.json())["accepted"]) == 1
    generic = ch.body(
        {
            "forum": "community.example.org",
            "post_id": "77",
            "topic_id": "5",
            "user_id": "u9",
            "text": "Router keeps dropping",
            "created_at": "2026-11-20T10:00:00Z",
        }
    )
    signed = ch.hex_signed(generic, ch.FORUM_SECRET, "X-Socialid-Signature")
    resp = await client.post("/webhooks/forum", data=generic, headers=signed)
    assert len((await resp.json())["accepted"]) == 1
    unsigned = await client.post(
        "/webhooks/forum", data=generic, headers={"Content-Type": "application/json"}
    )
    assert unsigned.status == 401


async def test_raw_email_needs_the_integration_scope_and_refuses_mime_bombs(
    make_client: MakeClient,
) -> None:
    client = await _client(make_client)
    mail = ch.raw_mail("dana@example.net", "Still broken.")
    rfc822 = {"Content-Type": "message/rfc822"}
    assert (await client.post("/webhooks/email/raw", data=mail, headers=rfc822)).status == 401
    resp = await client.post(
        "/webhooks/email/raw", data=mail, headers={**admin(), "Content-Type": "text/plain"}
    )
    assert resp.status == 415
    resp = await client.post("/webhooks/email/raw", data=mail, headers={**admin(), **rfc822})
    assert len((await resp.json())["accepted"]) == 1
    parts = "".join(f"--b\r\nContent-Type: text/plain\r\n\r\npart {i}\r\n" for i in range(300))
    bomb = (
        "From: x@example.net\r\nMessage-ID: <bomb@x>\r\nContent-Type: multipart/mixed; "
        f'boundary="b"\r\n\r\n{parts}--b--\r\n'
    ).encode()
    resp = await client.post("/webhooks/email/raw", data=bomb, headers={**admin(), **rfc822})
    answer = await resp.json()
    assert resp.status == 200
    assert answer["dead_letter"]
    assert answer["accepted"] == []


async def test_mailgun_signature_window_and_token_reuse(make_client: MakeClient) -> None:
    client = await _client(make_client)
    fields = ch.mailgun_fields("dana@example.net", "Hello", "<mg-1@mail.example.net>")
    resp = await client.post("/webhooks/email/mailgun", data=FormData(fields))
    assert resp.status == 200
    assert len((await resp.json())["accepted"]) == 1
    replay = await client.post("/webhooks/email/mailgun", data=FormData(fields))
    assert replay.status == 403
    stale = ch.mailgun_fields("d@example.net", "Hi", "<mg-2@x>", timestamp=int(time.time()) - 3600)
    assert (await client.post("/webhooks/email/mailgun", data=FormData(stale))).status == 403
    forged = ch.mailgun_fields("d@example.net", "Hi", "<mg-3@x>", key="wrong")
    assert (await client.post("/webhooks/email/mailgun", data=FormData(forged))).status == 403
    not_form = await client.post("/webhooks/email/mailgun", json=fields)
    assert not_form.status == 415


async def test_sendgrid_path_secret_and_postmark_basic_auth(make_client: MakeClient) -> None:
    client = await _client(make_client)
    fields = {
        "headers": "Message-ID: <sg-1@mail.example.net>\nFrom: Dana <dana@example.net>\n",
        "from": "Dana <dana@example.net>",
        "subject": "Bill",
        "text": "Why $300?",
    }
    with capture_logs(processors=[structlog.contextvars.merge_contextvars]) as logs:
        wrong = await client.post("/webhooks/email/sendgrid/guess", data=FormData(fields))
        assert wrong.status == 403
        url = f"/webhooks/email/sendgrid/{ch.SENDGRID_PATH}"
        resp = await client.post(url, data=FormData(fields))
        assert len((await resp.json())["accepted"]) == 1
    # The secret in the URL (or a guess at it) never reaches a log line.
    logged = json.dumps(logs)
    assert "guess" not in logged
    assert ch.SENDGRID_PATH not in logged
    assert [e["path"] for e in logs if e["event"] == "request"] == [
        "/webhooks/email/sendgrid/{secret}"
    ] * 2
    pm = {
        "FromFull": {"Email": "dana@example.net", "Name": "Dana K"},
        "Subject": "Re: Ticket 42",
        "MessageID": "7f3c0a1e",
        "TextBody": "Still broken.\n\n> On Mon, Acme wrote:",
        "Headers": [{"Name": "Message-ID", "Value": "<CAF99@mail.example.net>"}],
    }
    no_auth = await client.post("/webhooks/email/postmark", json=pm)
    assert no_auth.status == 401
    assert "Basic" in no_auth.headers["WWW-Authenticate"]
    bad = await client.post("/webhooks/email/postmark", json=pm, headers=ch.postmark_auth("a:b"))
    assert bad.status == 403
    ok = await client.post("/webhooks/email/postmark", json=pm, headers=ch.postmark_auth())
    assert len((await ok.json())["accepted"]) == 1
    again = await client.post("/webhooks/email/postmark", json=pm, headers=ch.postmark_auth())
    assert json.loads(await again.text()) == {"accepted": [], "duplicates": 1}


async def test_fsync_mode_waits_for_the_append_only_file(tmp_path: Path) -> None:
    with EmbeddedRedis(tmp_path) as server:
        client = aioredis.Redis.from_url(server.url, decode_responses=True)
        store = DeliveryStore(client, KeySchema("t"), dedup_days=1, fsync=True)
        await store.check_fsync()
        raw = ch.body(ch.tweet("42", "555123", "hello"))
        delivery = Delivery(format=Format.TWITTER, received_at=datetime.now(UTC), body=raw)
        assert len((await store.receive(delivery)).accepted) == 1
        await client.config_set("appendonly", "no")
        with pytest.raises(FsyncUnavailable):
            await store.check_fsync()
        await client.aclose()


NASTY = [
    b"",
    b"\x00" * 64,
    b"null",
    b"[]",
    b"{}",
    b'"text"',
    b"[" * 100_000,
    b"\xff\xfe\xfd",
    b'{"entry": "x", "object": "page"}',
    b'{"for_user_id": 1, "tweet_create_events": [1]}',
    b'{"post": {"id": 1e999999}}',
    b'{"data": {"event_type": "dm.received", "payload": []}}',
]


async def test_nasty_signed_bodies_never_get_a_500(make_client: MakeClient) -> None:
    client = await _client(make_client)
    postmark = {**ch.postmark_auth(), "Content-Type": "application/json"}
    sendgrid = f"/webhooks/email/sendgrid/{ch.SENDGRID_PATH}"
    form = {"Content-Type": "multipart/form-data; boundary=x"}
    for raw in NASTY:
        sent = [
            ("/webhooks/twitter", ch.twitter_headers(raw)),
            ("/webhooks/facebook", ch.facebook_headers(raw)),
            ("/webhooks/forum", ch.discourse_headers(raw)),
            ("/webhooks/forum", ch.hex_signed(raw, ch.FORUM_SECRET, "X-Socialid-Signature")),
            ("/webhooks/email/raw", {**admin(), "Content-Type": "message/rfc822"}),
            ("/webhooks/email/postmark", postmark),
            (sendgrid, form),
        ]
        for path, headers in sent:
            resp = await client.post(path, data=raw, headers=headers)
            assert resp.status < 500, (path, raw[:20], await resp.text())
            if resp.status == 200:
                answer = await resp.json()
                assert (
                    answer["accepted"]
                    or answer.get("dead_letter")
                    or answer
                    == {
                        "accepted": [],
                        "duplicates": 0,
                    }
                ), (path, raw[:20])
