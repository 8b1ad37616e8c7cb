"""The path of a reply in the end-to-end tests: the service with every channel's send
pointed at the stand-ins, a delivery claimed by a rep, the reply and the log."""

from __future__ import annotations

from typing import Any

from tests import channels as ch
from tests.helpers import AppClient, MakeClient, accepted, admin, processed

DANA = {
    "given_name": "Dana",
    "family_name": "King",
    "emails": ["dana@example.net"],
    "identities": [
        {"channel": "twitter", "external_id": "555123", "handle": "dana_k"},
        {"channel": "facebook", "external_id": "7700112233"},
    ],
}
X_TOKEN = "x-user-access-token"
PAGE_TOKEN = "page-access-token"
FORUM_KEY = "discourse-api-key"


def sending(base: str, smtp_port: int, **overrides: Any) -> dict[str, Any]:
    """Every channel's send on, against the stand-ins."""
    return {
        **ch.CHANNEL_SETTINGS,
        "worker": True,
        "twitter_access_token": X_TOKEN,
        "twitter_api_url": base,
        "facebook_page_token": PAGE_TOKEN,
        "facebook_graph_url": f"{base}/v21.0",
        "discourse_url": base,
        "discourse_api_key": FORUM_KEY,
        "discourse_api_username": "acme_help",
        "smtp_host": "127.0.0.1",
        "smtp_port": smtp_port,
        "smtp_starttls": False,
        "email_from": "Acme Help <help@acme.example>",
        "send_timeout": 1.0,
        **overrides,
    }


async def started(make_client: MakeClient, **settings: Any) -> AppClient:
    """The service with Dana in the book, and Ana and Ben on shift."""
    client = await make_client(**settings)
    assert (await client.put("/v1/customers/c-dana", json=DANA, headers=admin())).status == 201
    for rep in ("ana", "ben"):
        body = {"name": rep.title(), "team": "social"}
        assert (await client.put(f"/v1/reps/{rep}", json=body, headers=admin())).status == 201
        assert (await client.post(f"/v1/reps/{rep}/shift/start", headers=admin())).status == 200
    return client


async def claimed(client: AppClient, path: str, raw: bytes, headers: dict[str, str]) -> str:
    """The conversation of a delivery once processed, claimed by Ana."""
    message_id = await accepted(await client.post(path, data=raw, headers=headers))
    conversation = str((await processed(client, message_id))["conversation_id"])
    claim = await client.post(
        f"/v1/conversations/{conversation}/claim", json={"rep": "ana"}, headers=admin()
    )
    assert claim.status == 200, await claim.text()
    return conversation


async def dm(client: AppClient, event_id: str = "ev-1") -> str:
    raw = ch.body(ch.dm(event_id, "555123", "my router is down"))
    return await claimed(client, "/webhooks/twitter", raw, ch.twitter_headers(raw))


async def replied(client: AppClient, conversation: str, text: str, **body: Any) -> Any:
    resp = await client.post(
        f"/v1/conversations/{conversation}/replies",
        json={"rep": "ana", "text": text, **body},
        headers=admin(),
    )
    assert resp.status == 201, await resp.text()
    return await resp.json()


async def log_of(client: AppClient, conversation: str) -> list[dict[str, Any]]:
    found = await (await client.get(f"/v1/conversations/{conversation}", headers=admin())).json()
    log: list[dict[str, Any]] = found["log"]
    return log
