"""The outreach check: a campaign tool asks whether it may pitch, offer retention or
survey each of its customers, and gets allowed or blocked with the reasons and events."""

from __future__ import annotations

import csv
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import PROBLEM, AppClient, MakeClient, admin, command_env

pytestmark = pytest.mark.cluster


def _command(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "service", "outreach", "check", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _ago(days: int) -> str:
    return (datetime.now(UTC) - timedelta(days=days)).isoformat(timespec="seconds")


def _event(event_id: str, event_type: str, days_ago: int, **fields: Any) -> dict[str, Any]:
    return {"id": event_id, "type": event_type, "at": _ago(days_ago), **fields}


# Each customer's history, and what each kind of outreach should say of them.
BOOK: dict[str, list[dict[str, Any]]] = {
    "quiet": [_event("q1", "interaction", 200, channel="email", direction="inbound")],
    "renewed": [_event("r1", "contract_change", 3, kind="renewal", summary="24 months")],
    "renewed-long-ago": [_event("o1", "contract_change", 400, kind="renewal")],
    "complaining": [
        _event("k1", "case_opened", 6, case_id="4471", category="outage", channel="phone")
    ],
    "complaint-closed": [
        _event("x1", "case_opened", 30, case_id="4470", category="complaint"),
        _event("x2", "case_closed", 20, case_id="4470"),
    ],
    "billing-case": [_event("b1", "case_opened", 2, case_id="4472", category="billing")],
    "owed": [_event("p1", "promise", 10, summary="waive the $300 fee", by="ana")],
    "owed-kept": [
        _event("p2", "promise", 10, summary="waive the fee"),
        _event("p3", "promise_kept", 5, ref="p2"),
    ],
    "disputing": [_event("d1", "billing", 15, kind="dispute", amount="300.00", currency="GBP")],
    "wrote-yesterday": [_event("w1", "interaction", 1, channel="twitter", direction="inbound")],
}


async def _book(client: AppClient) -> None:
    for cid, events in BOOK.items():
        body = {"given_name": "Dana", "family_name": cid.replace("-", " ").title()}
        assert (await client.put(f"/v1/customers/{cid}", json=body, headers=admin())).status == 201
        resp = await client.post(f"/v1/customers/{cid}/events", json=events, headers=admin())
        assert resp.status == 201, await resp.text()


async def _check(client: AppClient, kind: str, ids: list[str]) -> dict[str, Any]:
    body = {"kind": kind, "customer_ids": ids}
    resp = await client.post("/v1/outreach/check", json=body, headers=admin())
    assert resp.status == 200, await resp.text()
    answer: dict[str, Any] = await resp.json()
    return answer


def _codes(answer: dict[str, Any]) -> dict[str, list[str]]:
    return {r["customer_id"]: [x["code"] for x in r["reasons"]] for r in answer["results"]}


async def test_each_kind_of_outreach_is_blocked_by_its_rules(client: AppClient) -> None:
    await _book(client)
    ids = list(BOOK)
    retention, sales, survey = [
        await _check(client, k, ids) for k in ("retention", "sales", "survey")
    ]
    assert _codes(retention) == {
        "quiet": [],
        "renewed": ["recent_commitment_increase"],
        "renewed-long-ago": [],
        "complaining": ["open_complaint"],
        "complaint-closed": [],
        "billing-case": [],
        "owed": ["promise_due"],
        "owed-kept": [],
        "disputing": ["billing_dispute"],
        "wrote-yesterday": [],  # a customer in touch may well be one about to leave
    }
    sold = _codes(sales)
    assert sold["renewed"] == []
    assert sold["wrote-yesterday"] == ["recent_contact"]
    assert sold["complaining"] == ["open_complaint"]
    assert sold["owed"] == ["promise_due"]
    assert _codes(survey) == sold
    assert (retention["checked"], retention["allowed"], retention["blocked"]) == (10, 6, 4)
    decisions = {r["customer_id"]: r["decision"] for r in retention["results"]}
    assert decisions["renewed"] == "blocked"
    assert decisions["quiet"] == "allowed"


async def test_a_reason_names_the_events_behind_it_in_words(client: AppClient) -> None:
    await _book(client)
    answer = await _check(client, "retention", ["renewed", "owed"])
    [renewal], [promise] = (r["reasons"] for r in answer["results"])
    assert renewal["event_ids"] == ["r1"]
    assert "Renewal on" in renewal["reason"]
    assert "retention" in renewal["reason"]
    assert promise["event_ids"] == ["p1"]
    assert "waive the $300 fee" in promise["reason"]


async def test_an_id_not_in_the_book_is_blocked_and_answers_keep_the_order(
    client: AppClient,
) -> None:
    await _book(client)
    answer = await _check(client, "sales", ["quiet", "nobody", "quiet"])
    assert [r["customer_id"] for r in answer["results"]] == ["quiet", "nobody", "quiet"]
    assert [r["decision"] for r in answer["results"]] == ["allowed", "blocked", "allowed"]
    assert answer["results"][1]["reasons"][0]["code"] == "unknown_customer"


async def test_the_contact_window_is_a_setting(make_client: MakeClient) -> None:
    client = await make_client(outreach_contact_days=0)
    await _book(client)
    assert _codes(await _check(client, "sales", ["wrote-yesterday"])) == {"wrote-yesterday": []}


async def test_blocked_customers_are_audited_for_the_caller(client: AppClient) -> None:
    await _book(client)
    await _check(client, "retention", ["renewed", "quiet"])
    trail = await client.get(
        "/v1/audit",
        params={"customer_id": "renewed", "action": "outreach_blocked"},
        headers=admin(),
    )
    [entry] = (await trail.json())["entries"]
    assert entry["detail"] == {"kind": "retention", "reasons": ["recent_commitment_increase"]}
    quiet = await client.get(
        "/v1/audit", params={"customer_id": "quiet", "action": "outreach_blocked"}, headers=admin()
    )
    assert (await quiet.json())["entries"] == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "spam", "customer_ids": ["a"]}, "kind"),
        ({"kind": "sales", "customer_ids": []}, "customer_ids"),
        ({"kind": "sales", "customer_ids": [f"c{i}" for i in range(10_001)]}, "customer_ids"),
        ({"kind": "sales", "customer_ids": ["{slot}"]}, "customer_ids"),
    ],
)
async def test_a_bad_check_is_a_clear_problem(
    client: AppClient, body: dict[str, Any], field: str
) -> None:
    resp = await client.post("/v1/outreach/check", json=body, headers=admin())
    assert resp.status == 422
    assert resp.content_type == PROBLEM
    assert field in await resp.text()


async def test_the_check_needs_a_key(client: AppClient) -> None:
    body = {"kind": "sales", "customer_ids": ["a"]}
    resp = await client.post("/v1/outreach/check", json=body)
    assert resp.status == 401
    assert resp.content_type == PROBLEM


async def test_the_command_splits_a_campaign_file_into_allowed_and_blocked(
    client: AppClient, redis_url: str, key_prefix: str, tmp_path: Path
) -> None:
    await _book(client)
    campaign = tmp_path / "winback.csv"
    campaign.write_text("customer_id,segment\nrenewed,a\nquiet,b\ncomplaining,a\nnobody,c\n")
    done = _command(command_env(redis_url, key_prefix), "--kind", "retention", str(campaign))
    assert done.returncode == 0, done.stderr
    assert "checked 4" in done.stdout
    assert "1 allowed" in done.stdout
    with (tmp_path / "winback.allowed.csv").open() as f:
        assert [r["customer_id"] for r in csv.DictReader(f)] == ["quiet"]
    with (tmp_path / "winback.blocked.csv").open() as f:
        blocked = {r["customer_id"]: r for r in csv.DictReader(f)}
    assert list(blocked) == ["renewed", "complaining", "nobody"]
    assert blocked["renewed"]["codes"] == "recent_commitment_increase"
    assert blocked["renewed"]["event_ids"] == "r1"
    assert blocked["complaining"]["codes"] == "open_complaint"


def test_the_command_refuses_a_file_without_ids(
    redis_url: str, key_prefix: str, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("customer_id\nok-1\n{not an id}\n")
    done = _command(command_env(redis_url, key_prefix), "--kind", "sales", str(bad))
    assert done.returncode == 2
    assert "line 3" in done.stderr
    assert not (tmp_path / "bad.allowed.csv").exists()
