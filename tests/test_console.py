"""The rep console in a real browser: Debian's Chromium driven by Playwright (never a
downloaded browser), the service on a real store, a tweet signed as X signs it. Each step
of the scene is saved as a screenshot under tests/artifacts/console (the README's
pictures are copies of them), and every view is checked with axe-core from npm."""

from __future__ import annotations

import asyncio
import re
import shutil
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, Page, async_playwright, expect

from tests import channels as ch
from tests.helpers import AppClient, MakeClient, admin

pytestmark = pytest.mark.cluster

ARTIFACTS = Path(__file__).parent / "artifacts" / "console"
AXE = Path(__file__).parent / "browser" / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = shutil.which("chromium")
AXE_SOURCE = AXE.read_text(encoding="utf-8") if AXE.exists() else None

DANA = {
    "given_name": "Dana",
    "family_name": "King",
    "emails": ["dana.king@example.net"],
    "accounts": [{"number": "55-1234-88", "status": "active"}],
}
# Two namesakes: a name alone never tells them apart, so a rep rules one out.
SAM_LEEDS = {"given_name": "Sam", "family_name": "Ray", "emails": ["sam.ray@leeds.example"]}
SAM_YORK = {"given_name": "Sam", "family_name": "Ray", "emails": ["sray@york.example"]}
COMPLAINT = {
    "type": "case_opened",
    "at": "2026-12-01T09:00:00Z",
    "case_id": "CASE-915",
    "category": "complaint",
    "channel": "phone",
    "summary": "Broadband down since the storm; engineer visit missed",
}


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    if CHROMIUM is None:
        pytest.fail("the console test needs Debian's chromium: apt-get install chromium")
    if AXE_SOURCE is None:
        pytest.fail("the console test needs axe-core: npm ci --prefix tests/browser")
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=CHROMIUM)
        try:
            yield launched
        finally:
            await launched.close()


async def _json(client: AppClient, method: str, path: str, body: Any, status: int) -> Any:
    resp = await client.request(method, path, json=body, headers=admin())
    assert resp.status == status, await resp.text()
    return await resp.json()


async def _rep(client: AppClient, rep_id: str, name: str) -> str:
    """A rep of the social team, on shift, and the key bound to them."""
    await _json(client, "PUT", f"/v1/reps/{rep_id}", {"name": name, "team": "social"}, 201)
    await _json(client, "POST", f"/v1/reps/{rep_id}/shift/start", {}, 200)
    issued = await _json(
        client, "POST", "/v1/keys", {"name": name, "scopes": ["rep"], "rep": rep_id}, 201
    )
    token: str = issued["token"]
    return token


async def _tweet(
    client: AppClient, tweet_id: str, user: str, text: str, name: str, reply_to: str | None = None
) -> None:
    now_ms = int(time.time() * 1000)
    tweet = ch.tweet(
        tweet_id, user, text, name=name, handle=f"u{user}", at_ms=now_ms, reply_to=reply_to
    )
    raw = ch.body(tweet)
    resp = await client.post("/webhooks/twitter", data=raw, headers=ch.twitter_headers(raw))
    assert resp.status == 200, await resp.text()


async def _signed_in(browser: Browser, client: AppClient, token: str) -> Page:
    context = await browser.new_context(viewport={"width": 1280, "height": 800})
    page = await context.new_page()
    await page.goto(str(client.make_url("/console")))
    await page.get_by_label("API key").fill(token)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.locator("#who")).to_contain_text("on shift")
    return page


async def _step(page: Page, name: str) -> None:
    """A screenshot of the step, and no accessibility violation on the page as it is."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=ARTIFACTS / f"{name}.png")
    # Evaluated, not added as a script tag: the page's CSP refuses scripts of elsewhere,
    # and the test must not loosen it to check the page.
    assert AXE_SOURCE is not None  # the browser fixture failed the test otherwise
    await page.evaluate(AXE_SOURCE)
    result = await page.evaluate("async () => await axe.run(document)")
    violations = [(v["id"], v["help"], len(v["nodes"])) for v in result["violations"]]
    assert violations == [], f"{name}: {violations}"


async def test_the_shift_change_scene(make_client: MakeClient, browser: Browser) -> None:
    client = await make_client(**{**ch.CHANNEL_SETTINGS, "worker": True})
    await _json(client, "PUT", "/v1/customers/C-1", DANA, 201)
    await _json(client, "POST", "/v1/customers/C-1/events", COMPLAINT, 201)
    await _json(client, "PUT", "/v1/customers/C-2", SAM_LEEDS, 201)
    await _json(client, "PUT", "/v1/customers/C-3", SAM_YORK, 201)
    ana, ben, cleo = [
        await _rep(client, r, n) for r, n in (("ana", "Ana"), ("ben", "Ben"), ("cleo", "Cleo"))
    ]

    # 1. A tweet arrives; the queue shows it without a reload.
    a = await _signed_in(browser, client, ana)
    await expect(a.locator("#queue-list")).to_contain_text("Nothing waiting")
    await _tweet(client, "9001", "70001", "@acme still no broadband, day 7", name="Dana King")
    row = a.locator("#queue-list button.row").first
    await expect(row).to_contain_text("unknown sender")
    await expect(row).to_contain_text("twitter")
    await _step(a, "1-queue")

    # 2. Ana claims it, sees the candidates with their evidence, confirms Dana, and
    # sees her open complaint.
    await row.click()
    await a.get_by_role("button", name="Claim").click()
    await expect(a.locator("#detail-body")).to_contain_text("owned by ana")
    candidate = a.locator(".candidate[data-customer='C-1']")
    await expect(candidate).to_contain_text("Dana King")
    await expect(candidate.locator("table")).to_contain_text("family_name")
    await _step(a, "2-candidates")
    await candidate.get_by_role("button", name="Confirm: this is Dana King (C-1)").click()
    await expect(candidate.locator(".outcome")).to_contain_text("Linked to Dana King")
    await expect(candidate.locator(".flag.stop")).to_contain_text(
        "Open complaint: fix it before selling"
    )
    link = await _json(client, "GET", "/v1/identities/twitter/70001", None, 200)
    assert link["link"]["customer_id"] == "C-1"
    await _step(a, "3-confirmed")

    # 3. Ana ends her shift and hands over to Ben with a note.
    await a.get_by_role("button", name="End shift").click()
    await a.get_by_label("Hand over to").fill("ben")
    await a.get_by_label("Note for the next rep").fill("Dana is confirmed; engineer due Tue.")
    await a.locator("#end-shift").get_by_role("button", name="End shift").click()
    await expect(a.locator("#status")).to_contain_text("handed to ben")

    # 4. Ben signs in and the conversation opens on the brief with Ana's note.
    b = await _signed_in(browser, client, ben)
    mine = b.locator("#mine-list button.row").first
    await expect(mine).to_contain_text("owned by ben")
    await mine.click()
    await expect(b.locator(".brief-note")).to_contain_text("Handed over by ana")
    await expect(b.locator(".brief-note")).to_contain_text("engineer due Tue")
    await expect(b.locator(".thread")).to_contain_text("Fault or outage (no broadband)")
    await expect(b.locator("#detail-body")).to_contain_text("Linked to Dana King (C-1) by ana")
    await expect(b.locator("#detail-title")).to_have_text("Dana King (C-1), linked by a rep")
    await expect(b.locator(".flag.stop")).to_contain_text("Open complaint")
    await _step(b, "4-brief")

    # 5. Ben rules out the wrong Sam Ray on another conversation.
    await _tweet(client, "9002", "70002", "@acme my bill doubled", name="Sam Ray")
    waiting = b.locator("#queue-list button.row").filter(has_not_text="owned by")
    await expect(waiting).to_contain_text("unknown sender")
    conversation = await waiting.get_attribute("data-conversation")
    await waiting.click()
    york = b.locator(".candidate[data-customer='C-3']")
    await expect(york).to_contain_text("Sam Ray")
    await york.get_by_role("button", name="Not this person").click()
    await expect(york.locator(".outcome")).to_contain_text("Ruled out")
    rejections = await _json(client, "GET", "/v1/identities/twitter/70002", None, 200)
    assert rejections["rejected"] == ["C-3"]
    await _step(b, "5-rejected")

    # 6. Ben and Cleo claim it at the same moment: one has it, the other sees it taken.
    c = await _signed_in(browser, client, cleo)
    await c.locator(f"#queue-list button.row[data-conversation='{conversation}']").click()
    claims = [p.get_by_role("button", name="Claim") for p in (b, c)]
    await asyncio.gather(*(claim.click() for claim in claims))
    answered = re.compile(r"Done: claim|Taken:")
    for p in (b, c):
        await expect(p.locator("#status")).to_have_text(answered)
    statuses = [await p.locator("#status").text_content() or "" for p in (b, c)]
    taken = [s for s in statuses if s.startswith("Taken:")]
    assert len(taken) == 1, statuses
    await _step(c if taken[0] == statuses[1] else b, "6-taken")


async def test_a_rep_signs_in_and_claims_with_the_keyboard_in_a_narrow_window(
    make_client: MakeClient, browser: Browser
) -> None:
    client = await make_client(**{**ch.CHANNEL_SETTINGS, "worker": True})
    await _json(client, "PUT", "/v1/customers/C-1", DANA, 201)
    token = await _rep(client, "ana", "Ana")
    await _tweet(client, "9101", "71001", "@acme router blinking red", name="Dana King")
    context = await browser.new_context(viewport={"width": 390, "height": 844})
    page = await context.new_page()
    await page.goto(str(client.make_url("/")))
    await page.get_by_role("link", name="Rep console").click()

    # The key field has the focus; type, Enter; Tab to the first conversation, Enter; Tab
    # to Claim, Enter.
    await expect(page.get_by_label("API key")).to_be_focused()
    await page.keyboard.type(token)
    await page.keyboard.press("Enter")
    row = page.locator("#queue-list button.row").first
    await expect(row).to_contain_text("unknown sender")
    while not await row.evaluate("node => node === document.activeElement"):
        await page.keyboard.press("Tab")
    await page.keyboard.press("Enter")
    await expect(page.locator("#detail")).to_be_focused()
    claim = page.get_by_role("button", name="Claim")
    while not await claim.evaluate("node => node === document.activeElement"):
        await page.keyboard.press("Tab")
    await page.keyboard.press("Enter")
    await expect(page.locator("#detail-body")).to_contain_text("owned by ana")
    # A message arriving in the conversation refreshes it live, and keeps the draft.
    await page.get_by_label("Reply to the customer").fill("Sorry, Dana: an engineer")
    await _tweet(client, "9102", "71001", "@acme now it is off", "Dana King", reply_to="9101")
    await expect(page.locator(".thread")).to_contain_text("now it is off")
    await expect(page.get_by_label("Reply to the customer")).to_have_value(
        "Sorry, Dana: an engineer"
    )
    # The search box finds her by name and shows her card.
    await page.get_by_label("Search customers").fill("Dana King")
    await page.keyboard.press("Enter")
    hit = page.locator("#detail-body button.row").first
    await expect(hit).to_contain_text("Dana King")
    await hit.click()
    await expect(page.locator("#detail-title")).to_have_text("Dana King (C-1)")
    # Nothing wider than the window: no sideways scrolling on a phone.
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390
    await _step(page, "7-narrow")


async def test_a_rep_sees_the_case_a_message_continues_and_moves_it(
    make_client: MakeClient, browser: Browser
) -> None:
    client = await make_client(**{**ch.CHANNEL_SETTINGS, "worker": True})
    known = {**DANA, "identities": [{"channel": "twitter", "external_id": "71002"}]}
    await _json(client, "PUT", "/v1/customers/C-1", known, 201)
    billing = {
        **COMPLAINT,
        "case_id": "CASE-920",
        "category": "billing",
        "summary": "Charged twice in November",
    }
    outage = {**COMPLAINT, "category": "outage"}
    await _json(client, "POST", "/v1/customers/C-1/events", [outage, billing], 201)
    token = await _rep(client, "ana", "Ana")
    await _tweet(client, "9201", "71002", "@acme broadband is down AGAIN", name="Dana King")
    page = await _signed_in(browser, client, token)
    await page.locator("#queue-list button.row").first.click()
    likely = page.locator(".likely-case")
    await expect(likely).to_contain_text("Likely about case CASE-915")
    await expect(likely).to_contain_text("2nd contact")
    await expect(page.locator(".thread")).to_contain_text("case CASE-915")
    await _step(page, "8-case")
    await page.get_by_label("The newest message is about").select_option("CASE-920")
    await page.get_by_role("button", name="Set case").click()
    await expect(likely).to_contain_text("Likely about case CASE-920")
    await expect(page.locator(".thread")).to_contain_text("case CASE-920 (moved by ana)")
