"""Open items are never cut: promises, credits, disputes and open cases stay on the card
until settled, however many events come after them and in whatever order they arrive."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import redis.asyncio as aioredis

from service.book.history import HistoryStore
from service.context import build_card, derive
from service.schemas import Customer, Event, EventIn
from service.store.keynames import KeySchema
from service.store.redistypes import texts
from tests.helpers import AppClient, admin

pytestmark = pytest.mark.cluster

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


async def _events(client: AppClient, cid: str, events: list[dict[str, Any]]) -> None:
    resp = await client.post(f"/v1/customers/{cid}/events", json=events, headers=admin())
    assert resp.status == 201, await resp.text()


async def test_a_promise_stays_on_the_card_under_five_thousand_newer_events(
    client: AppClient, redis: aioredis.Redis, keys: KeySchema
) -> None:
    resp = await client.put("/v1/customers/C-OWED", json={"name": "Owen Ward"}, headers=admin())
    assert resp.status == 201
    old = "2025-06-01T10:00:00Z"
    await _events(
        client,
        "C-OWED",
        [
            {"id": "fee", "type": "promise", "at": old, "summary": "waive the $300 fee"},
            {"id": "v50", "type": "credit", "at": old, "amount": "50.00", "currency": "USD"},
            {"type": "case_opened", "at": old, "case_id": "K1", "category": "complaint"},
            {"id": "d1", "type": "billing", "kind": "dispute", "at": old, "amount": "19.99"},
        ],
    )
    for batch in range(5):
        start = T0 + timedelta(days=batch)
        await _events(
            client,
            "C-OWED",
            [
                {"type": "note", "at": (start + timedelta(seconds=i)).isoformat(), "summary": "n"}
                for i in range(1000)
            ],
        )

    card = await (await client.get("/v1/customers/C-OWED/context", headers=admin())).json()
    assert [p["event_id"] for p in card["open_promises"]] == ["fee"]
    assert [c["event_id"] for c in card["unapplied_credits"]] == ["v50"]
    assert [c["case_id"] for c in card["open_cases"]] == ["K1"]
    assert [d["event_id"] for d in card["open_disputes"]] == ["d1"]
    assert {"promise_overdue", "promise_due"} & {f["code"] for f in card["flags"]}
    assert {"unapplied_credit", "open_complaint", "billing_dispute"} <= {
        f["code"] for f in card["flags"]
    }
    coverage = card["history"]
    assert (coverage["events"], coverage["recent_read"]) == (5004, 1000)
    assert coverage["open_item_events"] == 4
    assert "newest 1000 of 5004 events" in coverage["summary"]

    # Settled, they leave the card and the open-items store.
    await _events(
        client,
        "C-OWED",
        [
            {"type": "promise_kept", "at": "2026-02-01T00:00:00Z", "ref": "fee"},
            {
                "type": "billing",
                "kind": "credit_applied",
                "at": "2026-02-01T00:00:00Z",
                "ref": "v50",
            },
            {"type": "case_closed", "at": "2026-02-01T00:00:00Z", "case_id": "K1"},
            {"type": "billing", "kind": "refund", "at": "2026-02-01T00:00:00Z", "ref": "d1"},
        ],
    )
    card = await (await client.get("/v1/customers/C-OWED/context", headers=admin())).json()
    assert card["open_promises"] == card["unapplied_credits"] == card["open_cases"] == []
    assert card["open_disputes"] == card["flags"] == []
    stored = await redis.hgetall(keys.open_items("C-OWED"))
    assert not [f for f in texts(stored) if f.startswith(("e:", "i:"))]


def _random_history(rng: random.Random) -> list[EventIn]:
    """Events about two cases, three promises, two credits and two disputes, at coarse
    times (ties happen), some referring to items that never open."""
    out: list[EventIn] = []

    def at() -> datetime:
        return T0 + timedelta(hours=rng.randrange(12))

    def add(**fields: Any) -> None:
        out.append(EventIn.model_validate({"id": f"e{len(out)}", "at": at(), **fields}))

    for _ in range(rng.randrange(6, 24)):
        case = rng.choice(["A", "B"])
        pick = rng.randrange(11)
        if pick == 0:
            add(type="case_opened", case_id=case, category="outage", channel="twitter")
        elif pick == 1:
            add(type="case_closed", case_id=case)
        elif pick == 2:
            add(type="case_updated", case_id=case, status="escalated")
        elif pick == 3:
            add(
                type="interaction",
                case_id=case,
                channel=rng.choice(["email", "twitter"]),
                direction=rng.choice(["inbound", "outbound"]),
            )
        elif pick == 4:
            add(type="promise", summary="call back", due="2026-01-02")
        elif pick == 5:
            add(type=rng.choice(["promise_kept", "promise_broken"]), ref=f"e{rng.randrange(24)}")
        elif pick == 6:
            add(type="credit", amount="5.00")
        elif pick == 7:
            add(type="billing", kind="credit_applied", ref=f"e{rng.randrange(24)}")
        elif pick == 8:
            add(type="billing", kind="dispute", amount="9.00")
        elif pick == 9:
            add(
                type="billing",
                kind=rng.choice(["dispute_resolved", "refund"]),
                ref=f"e{rng.randrange(24)}",
            )
        else:
            add(type="note", summary="n")
    return out


def _open_state(events: list[Event], today: date) -> dict[str, Any]:
    return {
        "cases": sorted(
            (c.case_id, c.contacts, sorted(c.channels), c.status)
            for c in derive.open_cases(events, today)
        ),
        "promises": [(p.event_id, p.broken) for p in derive.open_promises(events, today)],
        "credits": [c.event_id for c in derive.unapplied_credits(events)],
        "disputes": [d.event_id for d in derive.open_disputes(events)],
    }


async def test_the_open_items_store_agrees_with_the_whole_history_in_any_arrival_order(
    redis: aioredis.Redis, keys: KeySchema
) -> None:
    history = HistoryStore(redis, keys)
    today = date(2026, 1, 6)
    rng = random.Random(20)  # noqa: S311 - reproducible scenarios, not secrets
    for n in range(100):
        cid = f"C-{n}"
        await redis.set(keys.customer(cid), "{}")
        events = _random_history(rng)
        arrival = events[:]
        rng.shuffle(arrival)
        for event in arrival:  # one at a time: each a script call of its own
            await history.add(cid, [event])
        # A window of two events: everything else must come from the open items.
        read = await history.for_card(cid, 2)
        whole = [e.with_id() for e in events]
        assert _open_state(read.open, today) == _open_state(whole, today), (n, arrival)
        card = build_card(Customer(id=cid), read, today)
        assert card.history.events == len(events)
