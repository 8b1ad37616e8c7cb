"""Two apps on one store, as two `serve --processes` processes: what one changes, the
other acts on at once, because nothing that decides an answer is kept in one process
(the model parameters, kept per version, are in test_training.py)."""

from __future__ import annotations

import pytest

from tests.helpers import MakeClient, admin, bearer

pytestmark = pytest.mark.cluster


async def test_a_key_revoked_through_one_process_is_refused_by_the_other(
    make_client: MakeClient,
) -> None:
    one, other = await make_client(), await make_client()
    resp = await one.post("/v1/keys", json={"name": "desk", "scopes": ["rep"]}, headers=admin())
    issued = await resp.json()
    assert (await other.get("/v1/me", headers=bearer(issued["token"]))).status == 200
    assert (await one.delete(f"/v1/keys/{issued['key_id']}", headers=admin())).status == 204
    assert (await other.get("/v1/me", headers=bearer(issued["token"]))).status == 401


async def test_a_key_s_rate_is_counted_across_processes(make_client: MakeClient) -> None:
    settings = {"rate_limit_per_second": 1, "rate_limit_burst": 10}
    one, other = await make_client(**settings), await make_client(**settings)
    statuses = []
    for _ in range(6):
        statuses.append((await one.get("/v1/me", headers=admin())).status)
        statuses.append((await other.get("/v1/me", headers=admin())).status)
    # Ten between them, not ten each: the second process saw the first one's requests.
    assert statuses[:10] == [200] * 10
    assert statuses[10:] == [429, 429]
