"""``socialid demo``: the main job end to end on a private embedded store.

Starts the real service on a loopback port, loads the bundled sample book through the
API, posts the sample inbound messages to the channels' webhooks as the providers would
(signed), waits for the worker to resolve each one into the customer's history, and
prints who the sender is and what a rep must know.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import sys
import tempfile
import webbrowser
from datetime import UTC, date, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from pydantic import SecretStr

from service.cli.signed_deliveries import DeliverySecrets, delivery
from service.http.app import create_app, free_port
from service.ops.logs import configure_logging
from service.schemas import LookupRequest
from service.settings import Settings

# The sample history is written as seen on this day; it is shifted to "now" on load so
# that promises are due, not long overdue, whenever the demo runs.
SAMPLE_TODAY = date(2026, 11, 23)


def sample(name: str) -> Any:
    return json.loads(resources.files("service.sample").joinpath(name).read_text("utf-8"))


def _shift(events: list[dict[str, Any]], days: int) -> list[dict[str, Any]]:
    delta = timedelta(days=days)
    shifted = []
    for ev in events:
        ev = dict(ev)
        ev["at"] = (datetime.fromisoformat(ev["at"]) + delta).isoformat()
        if "due" in ev:
            ev["due"] = (date.fromisoformat(ev["due"]) + delta).isoformat()
        shifted.append(ev)
    return shifted


def _days_ago(when: str, today: date) -> str:
    days = (today - datetime.fromisoformat(when).date()).days
    return "today" if days == 0 else f"{days} day{'s' * (days != 1)} ago"


def render(message: LookupRequest, answer: dict[str, Any], today: date) -> list[str]:
    who = message.sender.handle or message.sender.email or message.sender.external_id
    lines = [f"> {message.channel} {who}: {message.text}"]
    if "via" in answer:
        lines.append(f"  {answer['via']}")
    lines += answer.get("reading", [])
    res = answer["resolution"]
    card = answer.get("context")
    if res["status"] != "matched" or card is None:
        lines.append(f"  unresolved: {res['status']}, {len(res['candidates'])} candidates")
        return lines
    how = (
        "identity already linked"
        if res["method"] == "linked_identity"
        else "matched on "
        + ", ".join(
            f"{e['field'].replace('_', ' ')} ({e['level']}"
            f"{', written in the text' if e.get('source') == 'text' else ''})"
            for e in res["candidates"][0]["evidence"]
            if e["weight"] > 0
        )
    )
    lines.append(f"  resolved: {card['name']} ({res['customer_id']}), {how}")
    if card.get("household"):
        lines += _household(card["household"])
    products = ", ".join(
        f"{p['name']} ({p.get('monthly_price', '?')}/mo)" for p in card["active_products"]
    )
    lines.append(f"  has: {products or 'no active products'}; spends {card['monthly_spend']}/mo")
    for case in card["open_cases"]:
        lines.append(
            f"  open case {case['case_id']} [{case.get('category', '-')}], "
            f"opened {_days_ago(case['opened_at'], today)}, {case['contacts']} contacts "
            f"on {', '.join(case['channels'])}: {case.get('summary', '')}"
        )
    for ev in card["last_interactions"][:1]:
        lines.append(
            f"  last contact: {ev.get('channel', '?')}, {_days_ago(ev['at'], today)}: "
            f"{ev.get('summary', '')}"
        )
    for flag in card["flags"]:
        lines.append(f"  [{flag['code']}] {flag['reason']}")
    return lines


def _reading(stored: dict[str, Any], conversation: dict[str, Any]) -> list[str]:
    """What socialid read into the message: its topic, the case it continues, and the
    priority its conversation got."""
    lines = []
    topic = stored.get("topic")
    if topic and topic["topic"] != "other":
        lines.append(f"  about: {topic['label']} ({', '.join(topic['evidence'])})")
    if stored.get("case"):
        lines.append(f"  {stored['case']['line']}")
    reason = conversation.get("priority_reason")
    lines.append(
        f"  conversation priority: {conversation['priority']}"
        + (f", raised by socialid: {reason}" if reason else "")
    )
    return lines


def _household(household: dict[str, Any]) -> list[str]:
    holder = household.get("holder")
    held = f", held by {holder['name']}" if holder and household["role"] != "holder" else ""
    lines = [f"  household {household['id']}, {household['role']}{held}"]
    if household["role"] != "holder":
        for account in household["accounts"]:
            products = ", ".join(p["name"] for p in account["products"] if p["status"] == "active")
            lines.append(f"  family account {account['number']}: {products or 'no products'}")
    return lines


async def _through_webhook(
    http: aiohttp.ClientSession, message: LookupRequest, n: int, secrets: DeliverySecrets
) -> dict[str, Any]:
    """Post the message to its channel's webhook, wait for the worker, read the result
    and the customer's context card."""
    path, body, headers = delivery(message, n, secrets)
    headers = {"Content-Type": "application/json", **headers}
    async with http.post(path, data=body, headers=headers) as resp:
        [message_id] = (await resp.json())["accepted"]
    for _ in range(200):
        async with http.get(f"/v1/messages/{message_id}", raise_for_status=False) as resp:
            if resp.status == 200:
                stored = await resp.json()
                break
        await asyncio.sleep(0.025)
    else:
        raise RuntimeError(f"the worker did not process {message_id} within 5 s")
    async with http.get(f"/v1/conversations/{stored['conversation_id']}") as resp:
        conversation = await resp.json()
    answer = {
        "resolution": stored["resolution"],
        "via": f"POST {path} -> {message_id}, conversation {stored['conversation_id']}",
        "reading": _reading(stored, conversation),
    }
    customer = stored["resolution"].get("customer_id")
    if customer:
        async with http.get(f"/v1/customers/{customer}/context") as resp:
            answer["context"] = await resp.json()
    return answer


async def _load_and_replay(base: str, secrets: DeliverySecrets, today: date) -> int:
    token = secrets.token
    headers = {"Authorization": f"Bearer {token}"}
    shift = (today - SAMPLE_TODAY).days
    resolved = 0
    async with aiohttp.ClientSession(base, headers=headers, raise_for_status=True) as http:
        customers = sample("customers.json")
        loaded = []
        for customer in customers:
            cid = customer.pop("id")
            loaded.append(cid)
            await http.put(f"/v1/customers/{cid}", json=customer)
        for cid, events in sample("events.json").items():
            await http.post(f"/v1/customers/{cid}/events", json=_shift(events, shift))
        print(f"Loaded {len(customers)} sample customers and their history.\n")
        messages = [LookupRequest.model_validate(m) for m in sample("messages.json")]
        for n, message in enumerate(messages):
            answer = await _through_webhook(http, message, n, secrets)
            print("\n".join(render(message, answer, today)) + "\n")
            resolved += answer["resolution"]["status"] == "matched"
        print(f"{resolved} of {len(messages)} messages resolved to a customer.")
        await _retention_check(http, loaded)
        return 0 if resolved == len(messages) else 1


async def _retention_check(http: aiohttp.ClientSession, customer_ids: list[str]) -> None:
    """What a campaign tool that never reads a card asks before a "please stay" offer."""
    body = {"kind": "retention", "customer_ids": customer_ids}
    async with http.post("/v1/outreach/check", json=body) as resp:
        answer = await resp.json()
    print(
        f"\nPOST /v1/outreach/check (retention offers) for all {answer['checked']} customers: "
        f"{answer['allowed']} allowed, {answer['blocked']} blocked"
    )
    for result in answer["results"]:
        if result["decision"] == "allowed":
            print(f"  {result['customer_id']}: allowed")
        for reason in result["reasons"]:
            print(f"  {result['customer_id']}: blocked [{reason['code']}] {reason['reason']}")


# The reps of the console demo: one to start with, one to hand over to.
CONSOLE_REPS = {"jo": "Jo P.", "sam": "Sam T."}


async def _open_console(base: str, token: str, secrets: DeliverySecrets) -> None:
    """Two reps on shift with their keys, and one more message from a sender nobody has
    linked yet (a name only: candidates for a rep to confirm); then print how to sign in
    and wait for Ctrl-C."""
    headers = {"Authorization": f"Bearer {token}"}
    keys = {}
    async with aiohttp.ClientSession(base, headers=headers, raise_for_status=True) as http:
        for rep_id, name in CONSOLE_REPS.items():
            await http.put(f"/v1/reps/{rep_id}", json={"name": name, "team": "social"})
            await http.post(f"/v1/reps/{rep_id}/shift/start", json={})
            body = {"name": f"{name} (demo)", "scopes": ["rep"], "rep": rep_id}
            async with http.post("/v1/keys", json=body) as resp:
                keys[rep_id] = (await resp.json())["token"]
        unknown = LookupRequest.model_validate(
            {
                "channel": "twitter",
                "sender": {"external_id": "990001", "display_name": "Marcus Lee"},
                "text": "@acme_help is anyone there? my bill went up again",
            }
        )
        await _through_webhook(http, unknown, 99, secrets)
    url = f"{base}/console"
    print(f"\nConsole: {url}")
    for rep_id, key in keys.items():
        print(f"  sign in as {CONSOLE_REPS[rep_id]} ({rep_id}) with the key {key}")
    print("Each browser tab signs in on its own. Ctrl-C stops the demo.")
    if os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY") or sys.platform == "darwin":
        # Only where a graphical browser can open: on a bare terminal webbrowser would
        # start a text browser inside the demo's own output.
        webbrowser.open(url)
    await asyncio.Event().wait()


async def run_demo(settings: Settings, data_dir: str | None, *, console: bool = False) -> int:
    # The demo keeps its own quiet log and store: it must never write sample
    # customers into a configured production Redis.
    configure_logging("WARNING", settings.resolved_log_format)
    token = secrets.token_urlsafe(24)
    with tempfile.TemporaryDirectory(prefix="socialid-demo-") as tmp:
        twitter, facebook, forum = (secrets.token_urlsafe(16) for _ in range(3))
        demo_secrets = DeliverySecrets(twitter=twitter, facebook=facebook, forum=forum, token=token)
        demo_settings = settings.model_copy(
            update={
                "redis_url": None,
                "data_dir": Path(data_dir) if data_dir else Path(tmp),
                "admin_token": SecretStr(token),
                "host": "127.0.0.1",
                "port": free_port(),
                "twitter_consumer_secret": SecretStr(twitter),
                "facebook_app_secret": SecretStr(facebook),
                "facebook_verify_token": SecretStr(secrets.token_urlsafe(16)),
                "facebook_page_token": None,
                "discourse_secret": SecretStr(forum),
                "worker": True,
            }
        )
        runner = web.AppRunner(create_app(demo_settings), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, demo_settings.host, demo_settings.port)
        await site.start()
        print(
            f"socialid demo: service on http://{demo_settings.host}:{demo_settings.port}, "
            f"embedded store in {demo_settings.data_dir}"
        )
        base = f"http://{demo_settings.host}:{demo_settings.port}"
        try:
            code = await _load_and_replay(base, demo_secrets, datetime.now(UTC).date())
            if console:
                await _open_console(base, token, demo_secrets)
            return code
        finally:
            await runner.cleanup()
