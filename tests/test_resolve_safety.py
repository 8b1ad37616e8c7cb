"""Never link the wrong person: the cases a review found, against the real store."""

from __future__ import annotations

import json
from typing import Any

import pytest
import redis.asyncio as aioredis

from service.store.keynames import KeySchema
from tests.helpers import PROBLEM, AppClient, MakeClient, admin
from tests.test_import import snapshot_value

pytestmark = pytest.mark.cluster


async def _put(client: AppClient, cid: str, doc: dict[str, Any]) -> None:
    resp = await client.put(f"/v1/customers/{cid}", json=doc, headers=admin())
    assert resp.status in (200, 201), await resp.text()


async def _resolve(client: AppClient, **query: Any) -> Any:
    resp = await client.post("/v1/resolve", json=query, headers=admin())
    assert resp.status == 200, await resp.text()
    return await resp.json()


async def test_a_household_identifier_does_not_link_another_member(client: AppClient) -> None:
    await _put(
        client,
        "mum",
        {
            "given_name": "Mary",
            "family_name": "King",
            "emails": ["family.king@example.com"],
            "accounts": [{"number": "55-1234-88"}],
        },
    )
    await _put(client, "dana", {"given_name": "Dana", "family_name": "King"})
    by_email = await _resolve(client, name="Dana King", email="family.king@example.com")
    assert by_email["status"] == "ambiguous"
    by_text = await _resolve(client, name="Dana King", text="my mum's account 55-1234-88")
    assert by_text["status"] == "ambiguous"
    # The account holder herself still links.
    mary = await _resolve(client, name="Mary King", text="account 55-1234-88")
    assert (mary["status"], mary["customer_id"]) == ("matched", "mum")


async def test_a_handle_with_other_digits_is_another_handle(client: AppClient) -> None:
    await _put(
        client,
        "dad",
        {
            "given_name": "James",
            "family_name": "Smyth",
            "phones": ["0113 496 0777"],
            "identities": [{"channel": "twitter", "external_id": "1", "handle": "jsmyth"}],
        },
    )
    await _put(
        client, "son", {"given_name": "Jake", "family_name": "Smyth", "phones": ["0113 496 0777"]}
    )
    answer = await _resolve(client, handle="@jsmyth2", name="J Smyth", phone="0113 496 0777")
    assert answer["status"] != "matched"


async def test_a_twin_of_another_name_is_not_linked_by_date_and_address(
    client: AppClient,
) -> None:
    await _put(
        client,
        "andrea",
        {
            "given_name": "Andrea",
            "family_name": "Baxter",
            "date_of_birth": "1990-04-04",
            "addresses": [{"postcode": "LS6 3AG"}],
        },
    )
    answer = await _resolve(
        client, name="Andrew Baxter", date_of_birth="1990-04-04", address={"postcode": "LS6 3AG"}
    )
    assert answer["status"] != "matched"


async def test_a_cut_off_candidate_list_never_links(make_client: MakeClient) -> None:
    client = await make_client(candidate_cap=1)
    for cid, given in (("sr", "John"), ("jr", "John")):
        await _put(
            client, cid, {"given_name": given, "family_name": "Smith", "phones": ["0113 496 0555"]}
        )
    answer = await _resolve(client, name="John Smith", phone="0113 496 0555")
    assert answer["status"] != "matched"


async def test_the_cap_keeps_the_candidates_that_agree_on_most(make_client: MakeClient) -> None:
    client = await make_client(candidate_cap=2)
    # Blocking order alone would keep the two strangers born that day and cut the one
    # who also has the name.
    for cid, given in (("x1", "Olive"), ("x2", "Priya"), ("john", "John")):
        await _put(
            client,
            cid,
            {"given_name": given, "family_name": "Smith", "date_of_birth": "1980-01-01"},
        )
    answer = await _resolve(client, name="John Smith", date_of_birth="1980-01-01")
    assert answer["candidates"][0]["customer_id"] == "john"
    assert len(answer["candidates"]) <= 2


async def test_name_only_candidates_cut_by_the_cap_do_not_stop_an_identifier_link(
    make_client: MakeClient,
) -> None:
    client = await make_client(candidate_cap=2)
    for cid in ("s1", "s2", "s3"):
        await _put(client, cid, {"given_name": "John", "family_name": "Smith"})
    await _put(
        client, "js", {"given_name": "John", "family_name": "Smith", "phones": ["0113 496 0123"]}
    )
    answer = await _resolve(client, name="John Smith", phone="0113 496 0123")
    assert (answer["status"], answer["customer_id"]) == ("matched", "js")


async def test_unreadable_query_fields_are_422_not_ignored(client: AppClient) -> None:
    for query in (
        {"name": "Dana King", "date_of_birth": "15/06/1990"},
        {"name": "Dana King", "address": {"postcode": "LS7-1AB!"}},
        {"email": "not-an-email"},
        {"phone": "call me"},
    ):
        resp = await client.post("/v1/resolve", json=query, headers=admin())
        assert resp.status == 422, query
        assert resp.content_type == PROBLEM


async def test_blocking_sets_follow_a_patch_and_vanish_with_erasure(
    make_client: MakeClient, redis: aioredis.Redis, keys: KeySchema
) -> None:
    client = await make_client()
    await _put(
        client,
        "C-1",
        {"given_name": "Grace", "family_name": "Hopper", "emails": ["grace@example.com"]},
    )
    await client.patch(
        "/v1/customers/C-1", json={"emails": ["g.hopper@example.com"]}, headers=admin()
    )
    old = await _resolve(client, email="grace@example.com")
    assert old["status"] == "no_match"
    new = await _resolve(client, email="g.hopper@example.com", name="Grace Hopper")
    assert (new["status"], new["customer_id"]) == ("matched", "C-1")

    # Erase under another default region: the recorded list still finds every set.
    other_region = await make_client(default_region="US")
    assert (await other_region.delete("/v1/customers/C-1", headers=admin())).status == 200
    async for key in redis.scan_iter(match=keys.everything()):
        if key == keys.audit():
            continue
        assert "C-1" not in json.dumps(await snapshot_value(redis, key)), key


async def test_namesakes_found_by_many_name_keys_do_not_crowd_out_the_person(
    make_client: MakeClient,
) -> None:
    """Every key of one name says the same thing: namesakes found by all of them must
    not push out the customer whose birthday and postcode agree."""
    client = await make_client(candidate_cap=2)
    for i in range(3):
        await _put(
            client,
            f"namesake{i}",
            {
                "given_name": "Natalia",
                "family_name": "Kuznetsova",
                "addresses": [{"postcode": f"LS{i + 1} 1AA"}],
            },
        )
    await _put(
        client,
        "her",
        {
            "given_name": "Наталья",
            "family_name": "Кузнецова",
            "date_of_birth": "1981-01-16",
            "addresses": [{"postcode": "M19 4ER"}],
        },
    )
    answer = await _resolve(
        client,
        name="Natalia Kuznetsova",
        date_of_birth="1981-01-16",
        address={"postcode": "M19 4ER"},
    )
    assert answer["candidates"][0]["customer_id"] == "her"
