"""Field comparisons, each an ordered list of levels (Splink's comparison library shape).

A comparison answers the first level whose test passes: ``null`` when either side lacks
the field, then from the strongest agreement to the weakest, then ``else``. The label of
the level reached is exactly what the evidence shows a rep.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import date

from rapidfuzz.distance import DamerauLevenshtein, JaroWinkler

from matchers.contact import phone_tail
from matchers.dates import one_part_off, transposed
from matchers.givennames import is_known_given_name
from matchers.names import family_parts, nickname_match, spelling_key
from matchers.places import house_number, street_name
from matchers.profile import Profile

NULL, ELSE = "null", "else"
Test = Callable[[Profile, Profile], bool]


@dataclass(frozen=True, slots=True)
class Outcome:
    field: str
    level: str


@dataclass(frozen=True, slots=True)
class Comparison:
    field: str
    applies: Test  # False: the pair says nothing about this field (level "null")
    levels: tuple[tuple[str, Test], ...]
    # Whether a query side alone can let the comparison apply: a query without e-mail
    # never reaches an e-mail level, whatever the candidate, so it is not asked.
    query_side: Callable[[Profile], bool] = lambda _p: True
    outcomes: dict[str, Outcome] = dataclass_field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # One Outcome per label, shared by every pair: a query compares hundreds.
        shared = {label: Outcome(self.field, label) for label in self.labels}
        object.__setattr__(self, "outcomes", shared)

    @property
    def labels(self) -> tuple[str, ...]:
        return (NULL, *(label for label, _ in self.levels), ELSE)

    def compare(self, a: Profile, b: Profile) -> Outcome:
        if not self.applies(a, b):
            return self.outcomes[NULL]
        for label, test in self.levels:
            if test(a, b):
                return self.outcomes[label]
        return self.outcomes[ELSE]


def both(present: Callable[[Profile], object]) -> Test:
    return lambda a, b: bool(present(a)) and bool(present(b))


def _field(
    name: str, present: Callable[[Profile], object], levels: tuple[tuple[str, Test], ...]
) -> Comparison:
    """A comparison that applies when both sides have the field."""
    return Comparison(name, both(present), levels, query_side=lambda p: bool(present(p)))


def _query_handle(a: Profile, b: Profile) -> bool:
    """The first profile (the query) gives a handle; the record has a name or handles.
    Deliberately one-way: a record's own handles spelling the query's name would favour
    whichever family member chose a handle, not the person asked about."""
    return bool((a.handles or a.handle_ids) and (b.given or b.handle_ids))


def _same_handle(a: Profile, b: Profile) -> bool:
    """The whole handle, digits included: @jsmyth2 is not @jsmyth."""
    return bool(a.handle_ids & b.handle_ids)


def _something_mentioned(a: Profile, b: Profile) -> bool:
    return bool(a.mentioned or b.mentioned)


def _jw(a: str | None, b: str | None, cutoff: float) -> bool:
    return (
        bool(a and b)
        and JaroWinkler.normalized_similarity(a or "", b or "", processor=None, score_cutoff=cutoff)
        >= cutoff
    )


def _initial(x: str | None, y: str | None) -> bool:
    """One side is a single letter that starts the other ("Dana K" vs "Dana King")."""
    short, long_ = sorted((x or "", y or ""), key=len)
    return len(short) == 1 and long_.startswith(short)


def _same_family(a: Profile, b: Profile) -> bool:
    """Spaces aside: Mac Donald is MacDonald, O Brien is O'Brien."""
    fa, fb = a.family or "", b.family or ""
    return fa == fb or fa.replace(" ", "") == fb.replace(" ", "")


def _respelt(x: str | None, y: str | None) -> bool:
    return bool(x and y) and spelling_key(x or "") == spelling_key(y or "")


def _swapped(a: Profile, b: Profile) -> bool:
    """Given and family name the other way round ("Kowalski Rachel")."""
    return a.given == b.family and a.family == b.given


def _given_typo(a: Profile, b: Profile) -> bool:
    """A slip in writing the same name: spelled alike ("Emiily", "Rachle") and at least
    one side no given name at all. Two real names spelled alike (Andrew and Andrea,
    Daniel and Danielle) are two names, whoever bears them."""
    x, y = a.given or "", b.given or ""
    if is_known_given_name(x) and is_known_given_name(y):
        return False
    edits = DamerauLevenshtein.distance(x, y, processor=None, score_cutoff=2)
    return edits <= 1 or (edits == 2 and min(len(x), len(y)) >= 7) or _jw(x, y, 0.92)


def _given_initial(a: Profile, b: Profile) -> bool:
    return _initial(a.given, b.given)


def _family_tokens(a: Profile, b: Profile) -> bool:
    """Double-barrelled or married names: "king lee" vs "king"."""
    ta, tb = set(family_parts(a.family or "")), set(family_parts(b.family or ""))
    return bool(ta & tb)


def _family_typo(a: Profile, b: Profile) -> bool:
    fa, fb = a.family or "", b.family or ""
    return (
        min(len(fa), len(fb)) >= 4
        and DamerauLevenshtein.distance(fa, fb, processor=None, score_cutoff=1) <= 1
    )


def _dates(test: Callable[[date, date], bool], a: Profile, b: Profile) -> bool:
    return a.dob is not None and b.dob is not None and test(a.dob, b.dob)


def _phone_tail(a: Profile, b: Profile) -> bool:
    return bool({phone_tail(p) for p in a.phones} & {phone_tail(p) for p in b.phones})


def _email_local(a: Profile, b: Profile) -> bool:
    """Same mailbox name at another provider: dana.king84@gmail vs dana.king84@outlook."""
    la = {e.rpartition("@")[0] for e in a.emails}
    lb = {e.rpartition("@")[0] for e in b.emails}
    return bool({x for x in la if len(x) >= 6} & lb)


def _handle_is_name(a: Profile, b: Profile) -> bool:
    """The query's handle spells the record's given and family name (or initial)."""
    if not (b.given and b.family):
        return False
    given, family = b.given.replace(" ", ""), b.family.replace(" ", "")
    for tokens in a.handles:
        joined = "".join(tokens)
        if joined.startswith(given) and (joined.endswith(family) or joined == given + family[0]):
            return True
    return False


def _handle_has_given(a: Profile, b: Profile) -> bool:
    return bool(b.given) and any(b.given in tokens for tokens in a.handles)


def _towns(a: Profile, b: Profile) -> bool:
    """Both give a town and no postcode they share says more already."""
    return bool(a.towns and b.towns and not (a.postcodes & b.postcodes))


def _similar_town(a: Profile, b: Profile) -> bool:
    return any(_jw(x, y, 0.9) for x in a.towns for y in b.towns)


def _same_number_similar_street(a: Profile, b: Profile) -> bool:
    """ "3 Elm Grove" and "3 Elm Grv": the house number agrees and the street is spelled
    alike."""
    for x in a.streets:
        for y in b.streets:
            nx, ny = house_number(x), house_number(y)
            if nx and nx == ny and _jw(street_name(x), street_name(y), 0.85):
                return True
    return False


def _same_street(a: Profile, b: Profile) -> bool:
    """The street agrees, the house number does not (or is missing)."""
    return any(_jw(street_name(x), street_name(y), 0.92) for x in a.streets for y in b.streets)


def _mentioned(kind: str) -> Test:
    def test(a: Profile, b: Profile) -> bool:
        for said, record in ((a, b), (b, a)):
            values = {v for k, v in said.mentioned if k == kind}
            if not values:
                continue
            if kind == "account_number" and values & record.accounts:
                return True
            if kind == "email" and values & record.emails:
                return True
            if kind == "phone" and values & record.phones:
                return True
        return False

    return test


COMPARISONS: tuple[Comparison, ...] = (
    _field(
        "given_name",
        lambda p: p.given,
        (
            ("exact", lambda a, b: a.given == b.given),
            ("swapped with the family name", _swapped),
            ("another romanisation", lambda a, b: _respelt(a.given, b.given)),
            ("nickname", lambda a, b: nickname_match(a.given or "", b.given or "")),
            ("typo", _given_typo),
            ("jaro-winkler >= 0.92", lambda a, b: _jw(a.given, b.given, 0.92)),
            ("initial", _given_initial),
        ),
    ),
    _field(
        "family_name",
        lambda p: p.family,
        (
            ("exact", _same_family),
            ("swapped with the given name", _swapped),
            ("another romanisation", lambda a, b: _respelt(a.family, b.family)),
            ("jaro-winkler >= 0.92", lambda a, b: _jw(a.family, b.family, 0.92)),
            ("one edit", _family_typo),
            ("shared part", _family_tokens),
            ("initial", lambda a, b: _initial(a.family, b.family)),
        ),
    ),
    _field(
        "email",
        lambda p: p.emails,
        (
            ("same mailbox", lambda a, b: bool(a.emails & b.emails)),
            ("same local part", _email_local),
        ),
    ),
    _field(
        "phone",
        lambda p: p.phones,
        (
            ("exact", lambda a, b: bool(a.phones & b.phones)),
            ("last 8 digits", _phone_tail),
        ),
    ),
    _field(
        "date_of_birth",
        lambda p: p.dob,
        (
            ("exact", lambda a, b: a.dob == b.dob),
            ("day and month swapped", lambda a, b: _dates(transposed, a, b)),
            ("one part off", lambda a, b: _dates(one_part_off, a, b)),
        ),
    ),
    _field(
        "postcode",
        lambda p: p.postcodes,
        (
            ("exact", lambda a, b: bool(a.postcodes & b.postcodes)),
            ("same district", lambda a, b: bool(a.districts & b.districts)),
        ),
    ),
    Comparison(
        "town",
        _towns,
        (("exact", lambda a, b: bool(a.towns & b.towns)), ("similar", _similar_town)),
        query_side=lambda p: bool(p.towns),
    ),
    _field(
        "street",
        lambda p: p.streets,
        (
            ("exact", lambda a, b: bool(a.streets & b.streets)),
            ("same number, similar street", _same_number_similar_street),
            ("same street, another number", _same_street),
        ),
    ),
    _field(
        "account_number",
        lambda p: p.accounts,
        (("exact", lambda a, b: bool(a.accounts & b.accounts)),),
    ),
    Comparison(
        "handle",
        _query_handle,
        (
            ("same handle", _same_handle),
            ("spells the name", _handle_is_name),
            ("contains the given name", _handle_has_given),
        ),
        query_side=lambda p: bool(p.handles or p.handle_ids),
    ),
    Comparison(
        "mentioned",
        _something_mentioned,
        (
            ("account number in text", _mentioned("account_number")),
            ("e-mail in text", _mentioned("email")),
            ("phone in text", _mentioned("phone")),
        ),
    ),
)


def compare(a: Profile, b: Profile) -> list[Outcome]:
    return [c.compare(a, b) for c in COMPARISONS]


def comparer(query: Profile) -> Callable[[Profile], list[Outcome]]:
    """``compare(query, b)`` for many ``b``: what the query lacks is null for every
    candidate, so it is decided once."""
    plan = [(c, c.query_side(query)) for c in COMPARISONS]
    return lambda b: [c.compare(query, b) if asked else c.outcomes[NULL] for c, asked in plan]
