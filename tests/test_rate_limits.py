"""Rate limits on Redis: per API key, and per client address for failed authentication
(which is all a provider's webhook is limited on)."""

from __future__ import annotations

import pytest

from tests import channels as ch
from tests.helpers import MakeClient, admin, bearer

pytestmark = pytest.mark.cluster


async def test_a_key_over_its_rate_is_answered_429_with_retry_after(
    make_client: MakeClient,
) -> None:
    client = await make_client(rate_limit_per_second=5, rate_limit_burst=10)
    statuses = [(await client.get("/v1/me", headers=admin())).status for _ in range(30)]
    assert statuses[:10] == [200] * 10
    assert 429 in statuses
    over = await client.get("/v1/me", headers=admin())
    assert over.status == 429
    assert over.content_type == "application/problem+json"
    assert (await over.json())["type"].endswith("/rate-limited")
    assert 1 <= int(over.headers["Retry-After"]) <= 2
    metrics = await (await client.get("/metrics")).text()
    assert 'socialid_rate_limited_total{kind="key"}' in metrics


async def test_failed_authentication_is_limited_per_address_not_the_good_key(
    make_client: MakeClient,
) -> None:
    client = await make_client(auth_failures_per_minute=5)
    wrong = [(await client.get("/v1/me", headers=bearer("sid_nope"))).status for _ in range(8)]
    assert wrong == [401] * 5 + [429] * 3
    # A valid key from the same address is not locked out by someone else's guessing.
    assert (await client.get("/v1/me", headers=admin())).status == 200
    assert (await client.get("/v1/me")).status == 429  # no token at all is a failure too


async def test_webhooks_are_limited_only_on_failed_signatures(make_client: MakeClient) -> None:
    client = await make_client(**ch.CHANNEL_SETTINGS, auth_failures_per_minute=3)
    forged = ch.body(ch.tweet("1800000000000000001", "555123", "forged"))
    bad = ch.twitter_headers(forged, secret="wrong")
    statuses = [
        (await client.post("/webhooks/twitter", data=forged, headers=bad)).status for _ in range(5)
    ]
    assert statuses == [403, 403, 403, 429, 429]
    for n in range(20):  # a busy provider's real deliveries are never limited
        raw = ch.body(ch.tweet(f"18000000000000001{n:02d}", "555123", "real"))
        resp = await client.post("/webhooks/twitter", data=raw, headers=ch.twitter_headers(raw))
        assert resp.status == 200
