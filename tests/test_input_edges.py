"""Inputs found in a new user's first hour that answered 500 or were stored as sent."""

from __future__ import annotations

import pytest

from tests import channels as ch
from tests.helpers import AppClient, MakeClient, admin

pytestmark = pytest.mark.cluster


@pytest.mark.parametrize(
    "cursor",
    [
        "1-18446744073709551616",
        "99999999999999999999-0",
        "18446744073709551615-18446744073709551615",
    ],
)
async def test_a_dead_letter_cursor_past_64_bits_is_a_clear_error_not_a_500(
    client: AppClient, cursor: str
) -> None:
    resp = await client.get("/v1/ingest/dead-letters", params={"cursor": cursor}, headers=admin())
    if cursor.startswith("18446744073709551615-"):
        # The last id there can be: a valid cursor after which nothing follows.
        assert resp.status == 200
        assert (await resp.json())["dead_letters"] == []
    else:
        assert resp.status == 422
        assert resp.content_type == "application/problem+json"
    replay = await client.post(f"/v1/ingest/dead-letters/{cursor}/replay", headers=admin())
    assert replay.status == 404


@pytest.mark.parametrize("raw", ["%00%ff", "abc%0Adef", "%7F"])
async def test_identity_ids_refuse_control_characters(client: AppClient, raw: str) -> None:
    resp = await client.put("/v1/customers/C-1", json={"name": "Dana King"}, headers=admin())
    assert resp.status == 201
    resp = await client.put(
        f"/v1/identities/twitter/{raw}",
        json={"customer_id": "C-1", "method": "rep_confirmed"},
        headers=admin(),
    )
    assert resp.status == 404
    assert resp.content_type == "application/problem+json"
    # Nor can a record carry one.
    resp = await client.put(
        "/v1/customers/C-2",
        json={"name": "Ann Lee", "identities": [{"channel": "twitter", "external_id": "a\x00b"}]},
        headers=admin(),
    )
    assert resp.status == 422


async def test_refused_signatures_say_what_to_fix(make_client: MakeClient) -> None:
    client = await make_client(**ch.CHANNEL_SETTINGS, lookup_signing_secret="s3cret")
    tweet = ch.body(ch.tweet("1800000000000000001", "555123", "hello"))
    headers = ch.twitter_headers(tweet, secret="not-the-secret")
    resp = await client.post("/webhooks/twitter", data=tweet, headers=headers)
    assert resp.status == 403
    detail = (await resp.json())["detail"]
    assert detail.startswith("The signature does not match the body")
    assert "shared secret" in detail
    resp = await client.post(
        "/v1/lookup",
        data=b"{}",
        headers={
            "Content-Type": "application/json",
            "X-Socialid-Timestamp": "yesterday",
            "X-Socialid-Signature": "sha256=00",
        },
    )
    assert resp.status == 401
    assert "Unix time in seconds" in (await resp.json())["detail"]
