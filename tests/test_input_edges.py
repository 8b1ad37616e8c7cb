"""Inputs found in a new user's first hour that answered 500 or were stored as sent."""

from __future__ import annotations

import pytest

from tests.helpers import AppClient, admin


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
