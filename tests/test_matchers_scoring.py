"""Comparison levels, the Fellegi-Sunter score and the decision rule (pure)."""

from __future__ import annotations

from typing import Any

import pytest

from matchers.compare import COMPARISONS, NULL, compare, comparer
from matchers.contact import canonical_email, phone_tail
from matchers.decide import Standing, decide, has_strong_identifier
from matchers.model import DEFAULT_PARAMS, Evidence, Score, probability, score
from matchers.places import Place
from matchers.profile import Profile, build_profile, pack, unpack

DANA = build_profile(
    given="Dana",
    family="King",
    emails=["dana.king@gmail.com"],
    phones=["07911 123456"],
    date_of_birth="1984-05-03",
    places=[Place("LS6 3AG")],
    accounts=["55-1234-88"],
)


def levels(query: Profile, record: Profile = DANA) -> dict[str, str]:
    return {o.field: o.level for o in compare(query, record) if o.level != NULL}


@pytest.mark.parametrize(
    ("query", "field", "level"),
    [
        ({"given": "Dana"}, "given_name", "exact"),
        ({"given": "Danna"}, "given_name", "jaro-winkler >= 0.92"),
        ({"given": "D"}, "given_name", "initial"),
        ({"given": "Olga"}, "given_name", "else"),
        ({"family": "King"}, "family_name", "exact"),
        ({"family": "Kingg"}, "family_name", "jaro-winkler >= 0.92"),
        ({"family": "King-Lee"}, "family_name", "shared part"),
        ({"name": "Dana K"}, "family_name", "initial"),
        ({"emails": ["D.King+x@googlemail.com"]}, "email", "else"),
        ({"emails": ["Dana.King+bills@gmail.com"]}, "email", "same mailbox"),
        ({"emails": ["danaking@outlook.com"]}, "email", "same local part"),
        ({"phones": ["+44 7911 123456"]}, "phone", "exact"),
        ({"phones": ["+1 415 555 0134"]}, "phone", "else"),
        ({"date_of_birth": "1984-05-03"}, "date_of_birth", "exact"),
        ({"date_of_birth": "1984-03-05"}, "date_of_birth", "day and month swapped"),
        ({"date_of_birth": "1985-05-03"}, "date_of_birth", "one part off"),
        ({"date_of_birth": "1990-01-01"}, "date_of_birth", "else"),
        ({"places": [Place("ls63ag")]}, "postcode", "exact"),
        ({"places": [Place("LS6 1AA")]}, "postcode", "same district"),
        ({"places": [Place("M1 1AE")]}, "postcode", "else"),
        ({"accounts": ["55 1234 88"]}, "account_number", "exact"),
        ({"handles": ["@DanaKing84"]}, "handle", "spells the name"),
        ({"handles": ["@dana_k"]}, "handle", "spells the name"),
        ({"handles": ["@bikes_and_dana"]}, "handle", "contains the given name"),
        ({"handles": ["@cyclist99"]}, "handle", "else"),
        ({"mentioned": [("account_number", "55-1234-88")]}, "mentioned", "account number in text"),
        ({"mentioned": [("email", "dana.king@gmail.com")]}, "mentioned", "e-mail in text"),
        ({"mentioned": [("account_number", "99-0000-00")]}, "mentioned", "else"),
    ],
)
def test_levels(query: dict[str, Any], field: str, level: str) -> None:
    assert levels(build_profile(**query))[field] == level


def test_a_missing_field_is_null_and_weighs_nothing() -> None:
    result = score(compare(build_profile(given="Dana"), DANA))
    assert [e.field for e in result.evidence] == ["given_name"]


def test_every_level_has_parameters() -> None:
    for comparison in COMPARISONS:
        for label in comparison.labels:
            if label != NULL:
                assert label in DEFAULT_PARAMS.levels[comparison.field], (comparison.field, label)


def test_agreement_raises_and_disagreement_lowers_the_weight() -> None:
    base = score(compare(build_profile(given="Dana", family="King"), DANA)).match_weight
    more = score(
        compare(build_profile(given="Dana", family="King", places=[Place("LS6 3AG")]), DANA)
    ).match_weight
    less = score(
        compare(build_profile(given="Dana", family="King", places=[Place("M1 1AE")]), DANA)
    ).match_weight
    assert less < base < more


def test_a_rare_surname_says_more_than_a_common_one() -> None:
    outcomes = compare(build_profile(given="Dana", family="King"), DANA)
    common = score(outcomes, tf={"family_name": 0.01})
    rare = score(outcomes, tf={"family_name": 0.00001})
    assert rare.match_weight > common.match_weight


def test_a_rare_given_name_says_more_and_a_common_one_never_counts_against() -> None:
    outcomes = compare(build_profile(given="Dana", family="King"), DANA)
    default = score(outcomes).match_weight
    assert score(outcomes, tf={"given_name": 0.00001}).match_weight > default
    # A book where everyone is called Dana: no less than the default says.
    assert score(outcomes, tf={"given_name": 1.0}).match_weight == default


def test_probability_is_bounded() -> None:
    assert probability(0) == 0.5
    assert probability(1000) == 1.0
    assert 0 < probability(-1000) < 1e-100 or probability(-1000) == 0.0


def test_canonical_email_is_provider_aware() -> None:
    assert canonical_email("D.King+bills@GoogleMail.com") == "dking@gmail.com"
    assert canonical_email("d.king+bills@outlook.com") == "d.king@outlook.com"
    assert canonical_email("d.king+bills@example.com") == "d.king+bills@example.com"
    assert phone_tail("+447911123456") == "11123456"


def _ranked(*queries: Profile, book_size: int = 1000) -> list[tuple[str, Any]]:
    """Each query scored against Dana, as candidates of a book of ``book_size``."""
    return _standing(
        [(f"C-{i}", score(compare(q, DANA))) for i, q in enumerate(queries)], book_size
    )


def _standing(scored: list[tuple[str, Score]], book_size: int = 1000) -> list[tuple[str, Any]]:
    """Candidates with their shares, best first, as the resolver ranks them."""
    standing = Standing.among(
        (s.match_weight for _, s in scored), DEFAULT_PARAMS.table.prior_weight, book_size
    )
    return sorted(
        (
            (cid, s.model_copy(update={"share": standing.share(s.match_weight)}))
            for cid, s in scored
        ),
        key=lambda item: -item[1].match_weight,
    )


def test_a_strong_identifier_matches() -> None:
    status, shown = decide(_ranked(build_profile(emails=["dana.king@gmail.com"])))
    assert status == "matched"
    assert len(shown) == 1


def test_names_and_places_alone_never_match() -> None:
    query = build_profile(
        given="Dana", family="King", places=[Place("LS6 3AG")], handles=["@danaking"]
    )
    status, _ = decide(_ranked(query))
    assert status != "matched"


def test_date_of_birth_with_name_and_address_is_strong() -> None:
    query = build_profile(name="Dana King", date_of_birth="1984-05-03", places=[Place("LS6 3AG")])
    assert decide(_ranked(query))[0] == "matched"
    without_address = build_profile(name="Dana King", date_of_birth="1984-05-03")
    assert decide(_ranked(without_address))[0] != "matched"


def test_two_close_candidates_are_ambiguous_even_when_each_is_strong() -> None:
    same = build_profile(emails=["dana.king@gmail.com"])
    ranked = _standing([("C-1", score(compare(same, DANA))), ("C-2", score(compare(same, DANA)))])
    status, shown = decide(ranked)
    assert status == "ambiguous"
    assert [cid for cid, _ in shown] == ["C-1", "C-2"]


def test_nothing_above_review_is_no_match() -> None:
    assert decide(_ranked(build_profile(name="Olga Nowak"))) == ("no_match", [])
    assert decide([]) == ("no_match", [])
    assert decide(_ranked(build_profile(name="Dana King")))[0] == "ambiguous"


def test_a_name_stands_out_by_its_share_of_the_candidates_not_its_probability() -> None:
    # An exact full name alone is far from linking, and is still the one to show.
    [(_, alone)] = _ranked(build_profile(name="Dana King"), book_size=1_000)
    assert alone.match_probability < 0.05
    assert alone.share > 0.5
    # Among namesakes the share is divided; someone who agrees on less gets less.
    ranked = _ranked(
        build_profile(name="Dana King"),
        build_profile(name="Dana King"),
        build_profile(name="Dana Kingsley"),
        book_size=1_000,
    )
    shares = [s.share for _, s in ranked]
    assert shares[0] == shares[1] > shares[2]
    assert sum(shares) < 1  # "not a customer" keeps its part
    # The bigger the book, the less a name alone stands out.
    [(_, in_a_million)] = _ranked(build_profile(name="Dana King"), book_size=1_000_000)
    assert in_a_million.share < alone.share


def test_strong_identifier_rule() -> None:
    assert has_strong_identifier([Evidence(field="phone", level="exact", weight=1)])
    assert not has_strong_identifier([Evidence(field="handle", level="spells the name", weight=9)])


def test_a_records_own_handle_does_not_favour_it_over_a_namesake() -> None:
    query = build_profile(name="Theo Miskro", phones=["0113 207 7692"])
    parent = build_profile(name="Theo Miskro", phones=["0113 207 7692"], handles=["theomiskro"])
    child = build_profile(name="Theo Miskro", phones=["0113 207 7692"], handles=["junior1417"])
    assert score(compare(query, parent)).match_weight == score(compare(query, child)).match_weight
    ranked = _standing([("P", score(compare(query, parent))), ("C", score(compare(query, child)))])
    assert decide(ranked)[0] == "ambiguous"


def test_the_same_handle_elsewhere_is_evidence_but_not_strong() -> None:
    query = build_profile(handles=["@cyclist99"])
    record = build_profile(name="Dana King", handles=["cyclist99"])
    outcome = {o.field: o.level for o in compare(query, record)}
    assert outcome["handle"] == "same handle"
    assert decide([("C-1", score(compare(query, record)))])[0] != "matched"


def test_a_packed_profile_reads_back_equal() -> None:
    full = build_profile(
        name="Dr Dana K. King",
        emails=["Dana.King+x@gmail.com"],
        phones=["07911 123456"],
        date_of_birth="1984-05-03",
        places=[Place("LS6 3AG")],
        accounts=["55-1234-88"],
        handles=["@dana_king84"],
        mentioned=[("account_number", "55-1234-88")],
    )
    for profile in (full, Profile()):
        line = pack(profile)
        assert "\n" not in line
        assert unpack(line) == profile
        assert unpack(line.encode()) == profile


@pytest.mark.parametrize("line", ["p0[null]", "p1[1, 2", "p1[]", "p1{}", "", "dana"])
def test_a_profile_packed_otherwise_or_damaged_is_not_read(line: str) -> None:
    assert unpack(line) is None


def test_comparing_many_against_one_query_agrees_with_compare() -> None:
    records = [
        DANA,
        build_profile(given="Dan", family="Kingston", places=[Place("LS6 1AA")]),
        build_profile(handles=["dana_k"]),
        Profile(),
    ]
    for query in (
        build_profile(name="Dana King", places=[Place("LS6 3AG")]),
        build_profile(handles=["@dana_k"], mentioned=[("account_number", "55123488")]),
        Profile(),
    ):
        against = comparer(query)
        for record in records:
            assert against(record) == compare(query, record)
