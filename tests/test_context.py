"""The context card's pure functions on hand-built histories: derivations and every flag."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from service.book.history import CardHistory
from service.context import Flag, build_card, derive, flags
from service.schemas import Customer, Event
from service.settings import CardSettings, FlagThresholds

pytestmark = pytest.mark.cluster

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
TODAY = date(2026, 3, 11)


def ev(event_id: str, event_type: str, days: float = 0, **extra: Any) -> Event:
    at = T0 + timedelta(days=days)
    return Event.model_validate({"id": event_id, "type": event_type, "at": at, **extra})


def codes(card_flags: list[Flag]) -> list[str]:
    return [f.code for f in card_flags]


# -- derivations ---------------------------------------------------------------------


def test_a_closed_case_is_no_longer_open() -> None:
    history = [
        ev("1", "case_opened", 0, case_id="A", category="complaint"),
        ev("2", "case_opened", 1, case_id="B", category="billing"),
        ev("3", "case_closed", 2, case_id="A"),
    ]
    assert [c.case_id for c in derive.open_cases(history, TODAY)] == ["B"]


def test_a_reopened_case_is_open_again_and_order_of_input_does_not_matter() -> None:
    history = [
        ev("3", "case_opened", 5, case_id="A"),
        ev("1", "case_opened", 0, case_id="A"),
        ev("2", "case_closed", 1, case_id="A"),
    ]
    [case] = derive.open_cases(history, TODAY)
    assert case.opened_at == T0 + timedelta(days=5)
    assert case.age_days == 5


def test_contacts_about_a_case_are_counted_across_channels() -> None:
    history = [
        ev("o", "case_opened", 0, case_id="A", channel="phone"),
        ev("i1", "interaction", 1, case_id="A", channel="twitter", direction="inbound"),
        ev("i2", "interaction", 2, case_id="A", channel="twitter", direction="inbound"),
        ev("r", "interaction", 2, case_id="A", channel="twitter", direction="outbound"),
        ev("u", "case_updated", 3, case_id="A", status="engineer booked"),
    ]
    [case] = derive.open_cases(history, TODAY)
    assert case.contacts == 3  # the opening contact and two inbound messages; replies don't
    assert case.channels == ["phone", "twitter"]
    assert case.status == "engineer booked"


def test_promises_settle_when_kept_or_broken_and_turn_overdue() -> None:
    history = [
        ev("p1", "promise", 0, summary="waive fee", due="2026-03-10"),
        ev("p2", "promise", 0, summary="call back", due="2026-03-02"),
        ev("p3", "promise", 0, summary="send router"),
        ev("k", "promise_kept", 1, ref="p2"),
    ]
    owed = derive.open_promises(history, today=TODAY)
    assert [(p.event_id, p.overdue) for p in owed] == [("p1", True), ("p3", False)]
    assert [p.overdue for p in derive.open_promises(history, date(2026, 3, 5))] == [False, False]


def test_credits_until_applied_and_disputes_until_resolved() -> None:
    history = [
        ev("c1", "credit", 0, amount="50.00", currency="USD"),
        ev("c2", "credit", 1, amount="10.00"),
        ev("a", "billing", 2, kind="credit_applied", ref="c1"),
        ev("d1", "billing", 0, kind="dispute", amount="19.99"),
        ev("d2", "billing", 0, kind="dispute", amount="5.00"),
        ev("r", "billing", 3, kind="refund", ref="d2"),
        ev("ch", "billing", 0, kind="charge", amount="19.99"),
    ]
    assert [c.event_id for c in derive.unapplied_credits(history)] == ["c2"]
    assert [d.event_id for d in derive.open_disputes(history)] == ["d1"]


def test_only_recent_contract_changes_are_listed() -> None:
    history = [
        ev("old", "contract_change", -200, kind="upgrade"),
        ev("new", "contract_change", -10, kind="downgrade"),
    ]
    assert [c.event_id for c in derive.recent_changes(history, T0.date(), days=90)] == ["new"]


# -- flags ---------------------------------------------------------------------------


def test_open_complaint_fires_for_complaints_and_outages_only() -> None:
    history = [
        ev("1", "case_opened", 0, case_id="A", category="complaint"),
        ev("2", "case_opened", 0, case_id="B", category="outage"),
        ev("3", "case_opened", 0, case_id="C", category="sales"),
    ]
    fired = flags.open_complaint(derive.open_cases(history, TODAY))
    assert [f.event_ids for f in fired] == [["1"], ["2"]]
    assert "A" in fired[0].reason


def test_promise_due_and_overdue() -> None:
    history = [
        ev("p1", "promise", 0, summary="waive the $300 fee", due="2026-03-20", by="Sam"),
        ev("p2", "promise", 0, summary="call back", due="2026-03-05"),
    ]
    fired = flags.promises(derive.open_promises(history, TODAY))
    assert codes(fired) == ["promise_due", "promise_overdue"]
    assert "waive the $300 fee" in fired[0].reason
    assert "Sam" in fired[0].reason
    assert fired[1].event_ids == ["p2"]


def test_unapplied_credit() -> None:
    history = [ev("c", "credit", 0, amount="50.00", currency="USD", summary="voucher")]
    [flag] = flags.unapplied_credit(derive.unapplied_credits(history))
    assert flag.code == "unapplied_credit"
    assert "50.00 USD" in flag.reason
    applied = [*history, ev("a", "billing", 1, kind="credit_applied", ref="c")]
    assert flags.unapplied_credit(derive.unapplied_credits(applied)) == []


def test_recent_commitment_increase_only_for_increases() -> None:
    up = [ev("u", "contract_change", 0, kind="renewal")]
    down = [ev("d", "contract_change", 0, kind="downgrade")]
    [flag] = flags.recent_commitment_increase(derive.recent_changes(up, TODAY, 90), 90)
    assert flag.code == "recent_commitment_increase"
    assert flag.event_ids == ["u"]
    assert flags.recent_commitment_increase(derive.recent_changes(down, TODAY, 90), 90) == []


def test_repeat_contact_by_count_and_by_channels() -> None:
    limits = FlagThresholds(repeat_contacts=3, repeat_channels=2, repeat_window_days=14)
    one_channel = [
        ev("o", "case_opened", 0, case_id="A", channel="twitter"),
        ev("i1", "interaction", 1, case_id="A", channel="twitter", direction="inbound"),
    ]
    assert flags.repeat_contact(derive.open_cases(one_channel, TODAY), [], limits) == []
    third = [
        *one_channel,
        ev("i2", "interaction", 2, case_id="A", channel="twitter", direction="inbound"),
    ]
    [by_count] = flags.repeat_contact(derive.open_cases(third, TODAY), [], limits)
    assert by_count.event_ids == ["o", "i1", "i2"]
    two_channels = [
        *one_channel[:1],
        ev("e", "interaction", 1, case_id="A", channel="email", direction="inbound"),
    ]
    assert codes(flags.repeat_contact(derive.open_cases(two_channels, TODAY), [], limits)) == [
        "repeat_contact"
    ]


def test_repeat_contact_without_a_case_uses_the_recent_window() -> None:
    limits = FlagThresholds(repeat_contacts=3, repeat_channels=2, repeat_window_days=14)
    recent = [
        ev("a", "interaction", 5, channel="facebook", direction="inbound"),
        ev("b", "interaction", 6, channel="email", direction="inbound"),
    ]
    inbound = derive.inbound_contacts(recent, TODAY, limits.repeat_window_days)
    [flag] = flags.repeat_contact([], inbound, limits)
    assert flag.event_ids == ["a", "b"]
    stale = derive.inbound_contacts(recent, TODAY + timedelta(days=60), 14)
    assert flags.repeat_contact([], stale, limits) == []


def test_billing_dispute() -> None:
    history = [ev("d", "billing", 0, kind="dispute", amount="19.99", summary="PPV")]
    [flag] = flags.billing_dispute(derive.open_disputes(history))
    assert flag.code == "billing_dispute"
    resolved = [*history, ev("x", "billing", 1, kind="dispute_resolved", ref="d")]
    assert flags.billing_dispute(derive.open_disputes(resolved)) == []


# -- the card ------------------------------------------------------------------------


def test_card_lists_the_newest_interactions_first_and_sums_spend() -> None:
    customer = Customer.model_validate(
        {
            "id": "C-1",
            "name": "Dana King",
            "accounts": [
                {
                    "number": "1",
                    "products": [
                        {"name": "Fibre", "monthly_price": "45.00"},
                        {"name": "Mobile", "monthly_price": "18.50"},
                        {"name": "Old", "monthly_price": "9.00", "status": "ended"},
                    ],
                },
                {
                    "number": "2",
                    "status": "closed",
                    "products": [{"name": "Gone", "monthly_price": "5"}],
                },
            ],
        }
    )
    history = [ev(str(i), "interaction", i) for i in range(8)]
    card = build_card(customer, CardHistory.whole(history), T0.date(), CardSettings(interactions=3))
    assert [e.id for e in card.last_interactions] == ["7", "6", "5"]
    assert card.name == "Dana King"
    assert card.monthly_spend == Decimal("63.50")
    assert [p.name for p in card.active_products] == ["Fibre", "Mobile"]
    assert card.flags == []


def test_card_carries_every_flag_for_a_busy_history() -> None:
    customer = Customer(id="C-1", given_name="Dana", family_name="King")
    history = [
        ev("o", "case_opened", 0, case_id="A", category="complaint", channel="phone"),
        ev("i", "interaction", 1, case_id="A", channel="twitter", direction="inbound"),
        ev("p1", "promise", 0, summary="waive fee", due="2026-03-20"),
        ev("p2", "promise", 0, summary="call back", due="2026-03-02"),
        ev("c", "credit", 0, amount="50.00"),
        ev("u", "contract_change", 0, kind="upgrade"),
        ev("d", "billing", 0, kind="dispute", amount="19.99"),
    ]
    card = build_card(customer, CardHistory.whole(history), TODAY)
    assert set(codes(card.flags)) == {
        "open_complaint",
        "promise_due",
        "promise_overdue",
        "unapplied_credit",
        "recent_commitment_increase",
        "repeat_contact",
        "billing_dispute",
    }


# -- realistic data: ties, case, system channels, broken promises, future dates ---------


def test_a_case_opened_and_closed_at_the_same_instant_is_closed() -> None:
    for closing_id in ("0-first", "z-last"):  # whatever the ids, opening comes first
        history = [
            ev("m-open", "case_opened", 0, case_id="A", category="outage"),
            ev(closing_id, "case_closed", 0, case_id="A"),
        ]
        assert derive.open_cases(history, TODAY) == []


def test_categories_and_channels_ignore_case() -> None:
    history = [
        ev("o", "case_opened", 0, case_id="A", category="Complaint", channel="Twitter"),
        ev("i", "interaction", 1, case_id="A", channel="twitter", direction="inbound"),
    ]
    cases = derive.open_cases(history, TODAY)
    assert cases[0].channels == ["twitter"]
    assert codes(flags.open_complaint(cases)) == ["open_complaint"]
    assert flags.repeat_contact(cases, [], FlagThresholds(repeat_contacts=3)) == []


def test_a_case_opened_by_the_system_is_not_a_customer_contact() -> None:
    history = [
        ev("o", "case_opened", 0, case_id="A", channel="system"),
        ev("i", "interaction", 1, case_id="A", channel="email", direction="inbound"),
    ]
    [case] = derive.open_cases(history, TODAY)
    assert (case.contacts, case.channels) == (1, ["email"])


def test_undirected_calls_count_towards_repeat_contact() -> None:
    calls = [ev(str(i), "interaction", i, channel="phone") for i in range(4)]
    inbound = derive.inbound_contacts(calls, TODAY, 14)
    assert [f.code for f in flags.repeat_contact([], inbound, FlagThresholds())] == [
        "repeat_contact"
    ]


def test_a_broken_promise_is_still_owed() -> None:
    history = [
        ev("p", "promise", 0, summary="waive the fee", due="2026-03-20"),
        ev("b", "promise_broken", 1, ref="p"),
    ]
    [owed] = derive.open_promises(history, TODAY)
    assert owed.broken
    [flag] = flags.promises([owed])
    assert flag.code == "promise_overdue"
    assert "broken" in flag.reason


def test_a_future_dated_upgrade_is_not_recent_yet() -> None:
    history = [ev("u", "contract_change", 30, kind="upgrade")]
    assert derive.recent_changes(history, TODAY, 90) == []
