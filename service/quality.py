"""``socialid bench quality``: how often resolution is right, on queries with known truth.

A synthetic book with the hard cases of real customer bases (households sharing a
surname, address and landline; parents and children with the same name; nicknames;
typos; transposed dates; maiden names; handles unrelated to the name) and queries made
from its people, plus strangers who are not customers at all. Resolution runs through
the real resolver against the real store; the figures printed are the quality goals of
the matching issue.
"""

from __future__ import annotations

import random
import string
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from nicknames import NickNamer, name_triplets

from service.resolve import AddressQuery, ResolveQuery, Resolver

COMMON_SURNAMES = [
    "Smith",
    "Jones",
    "Taylor",
    "Brown",
    "Williams",
    "Wilson",
    "Johnson",
    "Davies",
    "Patel",
    "Wright",
    "Robinson",
    "Thompson",
    "Evans",
    "Walker",
    "White",
    "Roberts",
    "Green",
    "Hall",
    "Thomas",
    "Clarke",
    "Jackson",
    "Wood",
    "Harris",
    "Edwards",
    "Turner",
    "Martin",
    "Cooper",
    "Hill",
    "Ward",
    "Hughes",
    "Moore",
    "Clark",
    "King",
    "Harrison",
    "Lewis",
    "Baker",
    "Lee",
    "Allen",
    "Morris",
    "Khan",
    "Scott",
    "Watson",
    "Davis",
    "Parker",
    "James",
    "Bennett",
    "Young",
    "Phillips",
    "Richardson",
    "Mitchell",
    "Bailey",
    "Carter",
    "Cook",
    "Singh",
    "Shaw",
    "Bell",
    "Collins",
    "Morgan",
    "Kelly",
    "Begum",
    "Miller",
    "Cox",
    "Hussain",
    "Marshall",
]
_NICK = NickNamer()


@dataclass
class Person:
    customer_id: str
    given: str
    family: str
    dob: str
    postcode: str
    email: str
    mobile: str
    landline: str
    account: str
    handle: str
    maiden: str | None = None


@dataclass
class Query:
    kind: str
    truth: str | None  # None: a stranger
    query: ResolveQuery
    agreeing_fields: int


@dataclass
class Book:
    people: list[Person] = field(default_factory=list)
    queries: list[Query] = field(default_factory=list)


def surname(rng: random.Random) -> str:
    if rng.random() < 0.6:  # a Zipf-like head of common names, a long tail of rare ones
        return COMMON_SURNAMES[min(int(rng.paretovariate(1.2)) - 1, len(COMMON_SURNAMES) - 1)]
    syllables = ["ka", "ro", "mi", "ten", "dor", "vel", "an", "sk", "ow", "ley", "ford", "by"]
    return "".join(rng.choice(syllables) for _ in range(rng.randint(2, 3))).capitalize()


def postcode(rng: random.Random) -> str:
    area = rng.choice(["LS", "M", "B", "G", "CF", "BS", "SW", "NE", "L", "S"])
    return f"{area}{rng.randint(1, 29)} {rng.randint(1, 9)}{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}" \
        f"{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}"  # fmt: skip


def _typo(rng: random.Random, word: str) -> str:
    if len(word) < 4:
        return word
    i = rng.randrange(1, len(word) - 1)
    return word[:i] + rng.choice(string.ascii_lowercase) + word[i + 1 :]


def _nickname(given: str) -> str | None:
    options = sorted(_NICK.nicknames_of(given.lower()))
    return options[0].capitalize() if options else None


def generate(count: int, seed: int = 11) -> Book:
    rng = random.Random(seed)  # noqa: S311 - test data
    givens = sorted({t.name1 for t in name_triplets()})
    book = Book()
    n = 0
    while len(book.people) < count:
        n += 1
        given, family = rng.choice(givens).capitalize(), surname(rng)
        year = rng.randint(1940, 2004)
        person = Person(
            customer_id=f"Q-{n:06d}", given=given, family=family,
            dob=f"{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
            postcode=postcode(rng), email=f"{given}.{family}{n}@example.com".lower(),
            mobile=f"+447{rng.randint(100, 999)}{rng.randint(100000, 999999)}",
            landline=f"+44113{rng.randint(1000000, 9999999)}",
            account=f"{10 + n // 10000:02d}-{n % 10000:04d}-{rng.randint(10, 99)}",
            handle=rng.choice([f"{given}{family}".lower(), f"{given}_{family[0]}".lower(),
                               f"cyclist{rng.randint(1, 999)}"]),
            maiden=surname(rng) if rng.random() < 0.1 else None,
        )  # fmt: skip
        book.people.append(person)
        if rng.random() < 0.15:  # a household: same surname, address and landline
            n += 1
            other = rng.choice(givens).capitalize()
            book.people.append(
                _relative(rng, person, n, other, f"{rng.randint(1940, 2010)}-01-15", "member", "11")
            )
        if rng.random() < 0.05:  # a child with the parent's name at the same address
            n += 1
            book.people.append(
                _relative(rng, person, n, given, f"{min(year + 28, 2015)}-06-01", "junior", "12")
            )
    for person in rng.sample(book.people, min(len(book.people), 2000)):
        book.queries.extend(_queries_for(rng, person))
    for i in range(500):
        stranger = generate_stranger(rng, givens, i)
        book.queries.append(stranger)
    return book


def _relative(
    rng: random.Random, person: Person, n: int, given: str, dob: str, tag: str, suffix: str
) -> Person:
    """Someone at the person's address, with their surname and landline."""
    return Person(
        customer_id=f"Q-{n:06d}",
        given=given,
        family=person.family,
        dob=dob,
        postcode=person.postcode,
        email=f"{tag}{n}@example.com",
        mobile=f"+447{rng.randint(100, 999)}{rng.randint(100000, 999999)}",
        landline=person.landline,
        account=f"{10 + n // 10000:02d}-{n % 10000:04d}-{suffix}",
        handle=f"{tag}{n}",
    )


def generate_stranger(rng: random.Random, givens: list[str], i: int) -> Query:
    given, family = rng.choice(givens).capitalize(), surname(rng)
    query = rng.choice(
        [
            ResolveQuery(name=f"{given} {family}", address=AddressQuery(postcode=postcode(rng))),
            ResolveQuery(name=f"{given} {family}", email=f"{given}{i}@elsewhere.org"),
            ResolveQuery(handle=f"@{given}{family}".lower(), name=f"{given} {family[0]}"),
            ResolveQuery(name=f"{given} {family}", date_of_birth="1980-01-01"),
        ]
    )
    return Query("stranger", None, query, 0)


def _queries_for(rng: random.Random, p: Person) -> list[Query]:
    full = f"{p.given} {p.family}"
    nick = _nickname(p.given)
    d = p.dob.split("-")
    swapped = f"{d[0]}-{d[2]}-{d[1]}" if int(d[2]) <= 12 else p.dob
    made = [
        Query("name+email", p.customer_id, ResolveQuery(name=full, email=p.email), 2),
        Query("email only", p.customer_id, ResolveQuery(email=p.email.upper()), 1),
        Query("name+mobile", p.customer_id, ResolveQuery(name=full, phone=p.mobile), 2),
        Query("name+landline", p.customer_id, ResolveQuery(name=full, phone=p.landline), 2),
        Query("name+dob+postcode", p.customer_id,
              ResolveQuery(name=full, date_of_birth=p.dob,
                           address=AddressQuery(postcode=p.postcode)), 3),
        Query("typo+swapped dob+postcode", p.customer_id,
              ResolveQuery(given_name=p.given, family_name=_typo(rng, p.family),
                           date_of_birth=swapped, address=AddressQuery(postcode=p.postcode)), 3),
        Query("tweet with account", p.customer_id,
              ResolveQuery(handle="@" + p.handle, name=f"{p.given} {p.family[0]}",
                           text=f"still waiting, account {p.account}!"), 2),
        Query("name+postcode", p.customer_id,
              ResolveQuery(name=full, address=AddressQuery(postcode=p.postcode)), 2),
        Query("handle only", p.customer_id, ResolveQuery(handle="@" + p.handle), 1),
    ]  # fmt: skip
    if nick:
        made.append(
            Query(
                "nickname+dob+postcode",
                p.customer_id,
                ResolveQuery(
                    name=f"{nick} {p.family}",
                    date_of_birth=p.dob,
                    address=AddressQuery(postcode=p.postcode),
                ),
                3,
            )
        )
    if p.maiden:
        made.append(
            Query(
                "maiden name+email",
                p.customer_id,
                ResolveQuery(name=f"{p.given} {p.maiden}", email=p.email),
                2,
            )
        )
    return made


def customer_doc(p: Person) -> dict[str, Any]:
    return {
        "id": p.customer_id, "given_name": p.given, "family_name": p.family,
        "emails": [p.email], "phones": [p.mobile, p.landline], "date_of_birth": p.dob,
        "addresses": [{"postcode": p.postcode}], "accounts": [{"number": p.account}],
        "identities": [{"channel": "twitter", "external_id": f"tw-{p.customer_id}",
                        "handle": p.handle}],
    }  # fmt: skip


@dataclass
class Tally:
    matched: int = 0
    matched_right: int = 0
    ambiguous: int = 0
    top3: int = 0
    with_truth: int = 0
    multi_field: int = 0
    multi_field_top3: int = 0
    strangers: int = 0
    strangers_matched: int = 0
    by_kind: Counter[str] = field(default_factory=Counter)
    by_kind_right: Counter[str] = field(default_factory=Counter)


async def evaluate(resolver: Resolver, queries: list[Query]) -> Tally:
    tally = Tally()
    for q in queries:
        answer = await resolver.resolve(q.query)
        top = [c.customer_id for c in answer.candidates[:3]]
        if q.truth is None:
            tally.strangers += 1
            tally.strangers_matched += answer.status == "matched"
            continue
        tally.with_truth += 1
        tally.by_kind[q.kind] += 1
        if answer.status == "matched":
            tally.matched += 1
            tally.matched_right += answer.customer_id == q.truth
        tally.ambiguous += answer.status == "ambiguous"
        found = q.truth in top
        tally.top3 += found
        tally.by_kind_right[q.kind] += found
        if q.agreeing_fields >= 2:
            tally.multi_field += 1
            tally.multi_field_top3 += found
    return tally
