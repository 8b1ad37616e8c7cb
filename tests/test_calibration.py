"""Reps' confirmed and rejected links check the model's probabilities."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import redis.asyncio as aioredis

from matchers.calibration import calibrate, labelled
from service.cli.train_cmd import model_calibration
from service.settings import Settings
from service.store.keynames import KeySchema
from service.wiring import build_stores, build_worker
from tests import channels as ch
from tests.helpers import AppClient, MakeClient, admin

pytestmark = pytest.mark.cluster


def test_labels_and_bins() -> None:
    candidates = [("a", 0.9), ("b", 0.2), ("c", 0.05)]
    assert labelled(candidates, "a", frozenset()) == [(0.9, 1), (0.2, 0), (0.05, 0)]
    assert labelled(candidates, None, frozenset({"b"})) == [(0.2, 0)]
    assert labelled(candidates, None, frozenset()) == []
    result = calibrate([(0.95, 1), (0.9, 1), (0.92, 0), (0.1, 0), (1.0, 1)], bins=10)
    assert result.pairs == 5
    assert result.positives == 3
    top = result.bins[-1]
    assert (top.low, top.count, round(top.observed, 3)) == (0.9, 4, 0.75)
    assert result.brier is not None
    assert 0 < result.brier < 0.25
    assert calibrate([]).brier is None


async def test_a_rep_confirming_a_suggestion_becomes_a_label(
    make_client: MakeClient,
    make_settings: Callable[..., Settings],
    redis: aioredis.Redis,
    keys: KeySchema,
) -> None:
    client: AppClient = await make_client(**ch.CHANNEL_SETTINGS)
    for cid, given in (("c-dana", "Dana"), ("c-dan", "Dan")):
        doc: dict[str, Any] = {
            "given_name": given,
            "family_name": "King",
            "emails": [f"{given.lower()}@example.net"],
        }
        assert (await client.put(f"/v1/customers/{cid}", json=doc, headers=admin())).status == 201
    raw = ch.body(ch.tweet("901", "777", "@acme down again, dana@example.net", name="Dana King"))
    resp = await client.post("/webhooks/twitter", data=raw, headers=ch.twitter_headers(raw))
    assert resp.status == 200
    settings = make_settings(**ch.CHANNEL_SETTINGS)
    stores = build_stores(redis, settings)
    worker = build_worker(redis, settings, stores, names=None, metrics=None)
    await worker.setup()
    while await worker.run_once():
        pass
    before = await model_calibration(redis, keys, stores.messages, stores.links)
    assert before.pairs == 0  # nobody has decided anything yet
    link = {"customer_id": "c-dana", "method": "rep_confirmed", "reason": "asked for DOB"}
    resp = await client.put("/v1/identities/twitter/777", json=link, headers=admin())
    assert resp.status == 201, await resp.text()
    after = await model_calibration(redis, keys, stores.messages, stores.links)
    assert after.pairs >= 1
    assert after.positives == 1
