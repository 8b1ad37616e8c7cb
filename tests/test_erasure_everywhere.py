"""Erasure reaches everything: a customer named in their own messages and conversation,
in another sender's message that lists them as a candidate, in a rep's note, reply and
hand-off in that other conversation, in the audit trail and in search results, and
afterwards no key of the store holds their id, name, e-mail or phone."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
import redis.asyncio as aioredis

from service.store.keynames import KeySchema
from service.store.redistypes import members, stream_entries, text, text_map, text_or_none, texts
from tests import channels as ch
from tests.helpers import AppClient, MakeClient, accepted, admin, processed

pytestmark = pytest.mark.cluster

CID = "cust-erase-7781"
NAME = "Rosalind Achterberg"
EMAIL = "rosalind.achterberg@example.org"
NATIONAL_DIGITS = "7700900461"  # +44 7700 900461, however it is written
TWITTER_ID, FACEBOOK_ID = "9182736450011", "5566778899001"
ROSALIND: dict[str, Any] = {
    "given_name": "Rosalind",
    "family_name": "Achterberg",
    "emails": [EMAIL],
    "phones": ["07700 900461"],
    "addresses": [{"line1": "3 Brudenell Grove", "city": "Leeds", "postcode": "LS6 1HU"}],
    "identities": [{"channel": "twitter", "external_id": TWITTER_ID, "handle": "ros_achter"}],
}
# Someone else the other sender might be: so that the resolution is ambiguous.
NAMESAKE: dict[str, Any] = {"given_name": "Rosalyn", "family_name": "Achterburg"}


async def _tweet(
    client: AppClient, tweet_id: str, user: str, words: str, *, name: str, handle: str
) -> Any:
    raw = ch.body(ch.tweet(tweet_id, user, words, name=name, handle=handle))
    resp = await client.post("/webhooks/twitter", data=raw, headers=ch.twitter_headers(raw))
    return await processed(client, await accepted(resp))


async def _post(client: AppClient, path: str, body: Any, status: int = 200) -> Any:
    resp = await client.post(path, json=body, headers=admin())
    assert resp.status == status, await resp.text()
    return await resp.json()


async def _search(client: AppClient, q: str) -> list[str]:
    resp = await client.get("/v1/customers/search", params={"q": q}, headers=admin())
    assert resp.status == 200, await resp.text()
    return [hit["customer_id"] for hit in (await resp.json())["results"]]


async def _every_value(redis: aioredis.Redis, key: str) -> list[str]:
    """Every string the key holds, whatever its type: members, fields, values, entries."""
    kind = text(await redis.type(key))
    if kind == "string":
        return [text_or_none(await redis.get(key)) or ""]
    if kind == "hash":
        return [s for pair in text_map(await redis.hgetall(key)).items() for s in pair]
    if kind == "list":
        return texts(await redis.lrange(key, 0, -1))
    if kind == "set":
        return texts(await redis.smembers(key))
    if kind == "zset":
        return members(await redis.zrange(key, 0, -1))
    if kind == "stream":
        return [
            s
            for entry_id, fields in stream_entries(await redis.xrange(key))
            for s in (entry_id, *(v for pair in fields.items() for v in pair))
        ]
    raise AssertionError(f"{key} is a {kind}")


_DIGIT_RUNS = re.compile(r"\+?\d[\d\s().\-/]*")


def _names_her(value: str) -> list[str]:
    """What in ``value`` leads to her (digests of her values are no such thing)."""
    terms = (CID, NAME, EMAIL, "ros_achter", TWITTER_ID, FACEBOOK_ID)
    found = [term for term in terms if term.lower() in value.lower()]
    digits = (re.sub(r"\D", "", m.group(0)) for m in _DIGIT_RUNS.finditer(value))
    return found + ["phone" for d in digits if NATIONAL_DIGITS in d]


async def test_erasure_leaves_nothing_that_names_the_customer_anywhere(
    make_client: MakeClient, redis: aioredis.Redis, keys: KeySchema
) -> None:
    client = await make_client(**{**ch.CHANNEL_SETTINGS, "worker": True})
    for cid, body in ((CID, ROSALIND), ("cust-namesake", NAMESAKE)):
        resp = await client.put(f"/v1/customers/{cid}", json=body, headers=admin())
        assert resp.status == 201, await resp.text()
    # A link made by a rep: audited, as the record's own link was.
    link = await client.put(
        f"/v1/identities/facebook/{FACEBOOK_ID}",
        json={"customer_id": CID, "method": "rep_confirmed"},
        headers=admin(),
    )
    assert link.status in (200, 201), await link.text()

    # Her own message, in a conversation of her own.
    own = await _tweet(
        client,
        "1800000000000000101",
        TWITTER_ID,
        "@acme_help my router is down",
        name=NAME,
        handle="ros_achter",
    )
    assert own["resolution"]["customer_id"] == CID

    # Another sender, whom socialid cannot tell from her: she is a candidate.
    other = await _tweet(
        client,
        "1800000000000000202",
        "5550999",
        f"@acme_help this is {NAME.upper()}'s flat, is the outage fixed? LS6 1HU",
        name="Ros A.",
        handle="flatmate_lls6",
    )
    assert other["resolution"]["status"] == "ambiguous"
    assert CID in [c["customer_id"] for c in other["resolution"]["candidates"]]
    assert other["conversation_id"] != own["conversation_id"]

    # Reps write about her, in her conversation and in the other one: her name, her
    # e-mail and her phone written as people write them.
    for rep in ("ana", "ben"):
        await client.put(f"/v1/reps/{rep}", json={"name": rep, "team": "social"}, headers=admin())
    await _post(client, "/v1/reps/ana/shift/start", {})
    hers, others = own["conversation_id"], other["conversation_id"]
    for conv in (hers, others):
        await _post(client, f"/v1/conversations/{conv}/claim", {"rep": "ana"})
    await _post(
        client, f"/v1/conversations/{hers}/replies", {"rep": "ana", "text": f"On it, {NAME}."}, 201
    )
    note = f"Might be {NAME} ({EMAIL}, 07700 900461), customer {CID}; ask before linking."
    await _post(client, f"/v1/conversations/{others}/notes", {"rep": "ana", "text": note}, 201)
    reply = "Hi! Is rosalind  achterberg the account holder? We can call +44 (0)7700-900-461."
    await _post(client, f"/v1/conversations/{others}/replies", {"rep": "ana", "text": reply}, 201)
    handoff = "Waiting on Rosalind Achterberg: 447700900461 or ROSALIND.ACHTERBERG@EXAMPLE.ORG"
    await _post(client, "/v1/reps/ana/shift/end", {"handoff_to": "ben", "note": handoff})

    # Before: she is found, audited (under a pseudonym), and named in the other places.
    assert CID in await _search(client, NAME)
    assert CID in await _search(client, EMAIL)
    audit = stream_entries(await redis.xrange(keys.audit()))
    linked = [e for _, e in audit if e["action"] == "identity_linked"]
    assert len(linked) == 2  # the record's link and the rep's
    assert {e["action"] for _, e in audit} >= {"customer_written", "search"}
    assert not _names_her(json.dumps(audit))
    brief = await (await client.get(f"/v1/conversations/{others}/brief", headers=admin())).json()
    assert all(_names_her(n["text"]) for n in brief["notes"])

    resp = await client.delete(f"/v1/customers/{CID}", headers=admin())
    assert resp.status == 200, await resp.text()
    erased = await resp.json()
    assert (erased["messages"], erased["conversations"]) == (1, 1)
    assert (erased["listed_in"], erased["conversations_redacted"]) == (1, 1)

    # Nothing in the store names her: no key, no value of any type.
    named = {}
    async for key in redis.scan_iter(match=keys.everything()):
        values = [key, *(await _every_value(redis, key))]
        found = [term for value in values for term in _names_her(value)]
        if found:
            named[key] = found
    assert named == {}

    # The other sender's message keeps its resolution, without her.
    after = await (await client.get(f"/v1/messages/{other['id']}", headers=admin())).json()
    assert after["resolution"]["status"] == "ambiguous"
    assert CID not in [c["customer_id"] for c in after["resolution"]["candidates"]]
    assert after["message"]["text"] == (
        "@acme_help this is [erased]'s flat, is the outage fixed? LS6 1HU"
    )
    assert (await client.get(f"/v1/messages/{own['id']}", headers=admin())).status == 404
    # The other conversation carries on, its notes redacted where they named her.
    brief = await (await client.get(f"/v1/conversations/{others}/brief", headers=admin())).json()
    assert [n["text"] for n in brief["notes"]] == [
        "Might be [erased] ([erased], [erased]), customer [erased]; ask before linking.",
        "Waiting on [erased]: [erased] or [erased]",
    ]
    assert [t["text"] for t in brief["thread"]][-1] == (
        "Hi! Is [erased] the account holder? We can call [erased]."
    )
    assert brief["conversation"]["owner"] == "ben"
    gone = await client.get(f"/v1/conversations/{hers}", headers=admin())
    assert gone.status == 404

    # Search finds her no more; the one she might have been confused with still is.
    assert CID not in await _search(client, NAME)
    assert CID not in await _search(client, EMAIL)
    assert "cust-namesake" in await _search(client, "Rosalyn Achterburg")
    # The trail shows who erased which subject, and the subject leads nowhere.
    trail = stream_entries(await redis.xrange(keys.audit()))
    actions = [(e["action"], e.get("subject"), e["actor"]) for _, e in trail]
    assert ("erase", erased["audit_subject"], "bootstrap") in actions
    assert await redis.get(keys.audit_subject(CID)) is None
