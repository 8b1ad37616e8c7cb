"""The context card's pure functions, on hand-built histories."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from service.context import build_card, open_cases, open_promises, recent_changes
from service.models import Customer, Event

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def ev(event_id: str, kind: str, days: int = 0, **extra: Any) -> Event:
    return Event.model_validate(
        {"id": event_id, "type": kind, "at": T0 + timedelta(days=days), **extra}
    )


def test_a_closed_case_is_no_longer_open() -> None:
    history = [
        ev("1", "case_opened", 0, case_id="A", category="complaint"),
        ev("2", "case_opened", 1, case_id="B", category="billing"),
        ev("3", "case_closed", 2, case_id="A"),
    ]
    assert [c.case_id for c in open_cases(history)] == ["B"]


def test_a_reopened_case_is_open_again() -> None:
    history = [
        ev("1", "case_opened", 0, case_id="A"),
        ev("2", "case_closed", 1, case_id="A"),
        ev("3", "case_opened", 5, case_id="A"),
    ]
    assert [c.opened_at for c in open_cases(history)] == [T0 + timedelta(days=5)]


def test_promises_settle_when_kept_or_broken_and_turn_overdue() -> None:
    history = [
        ev("p1", "promise", 0, summary="waive fee", due="2026-03-10"),
        ev("p2", "promise", 0, summary="call back", due="2026-03-02"),
        ev("p3", "promise", 0, summary="send router"),
        ev("k", "promise_kept", 1, promise_id="p2"),
    ]
    owed = open_promises(history, today=date(2026, 3, 11))
    assert [(p.event_id, p.overdue) for p in owed] == [("p1", True), ("p3", False)]
    assert [p.overdue for p in open_promises(history, today=date(2026, 3, 5))] == [False, False]


def test_only_recent_contract_changes_are_listed() -> None:
    history = [ev("old", "contract_change", -200), ev("new", "contract_change", -10)]
    assert [c.event_id for c in recent_changes(history, T0.date(), days=90)] == ["new"]


def test_card_lists_the_newest_interactions_first() -> None:
    customer = Customer(id="C-1", name="Dana King")
    history = [ev(str(i), "interaction", i) for i in range(8)]
    card = build_card(customer, history, today=T0.date(), interactions=3)
    assert [e.id for e in card.last_interactions] == ["7", "6", "5"]
    assert card.name == "Dana King"
