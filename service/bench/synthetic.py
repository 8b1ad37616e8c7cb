"""A synthetic customer book with a realistic mix of fields, for benchmarks and demos.

Deterministic for a given seed. Names, formats and gaps are mixed the way CRM exports are:
national and international phone formats, a few bad values, some customers with no
e-mail, households, several products, linked social identities for a minority.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from typing import Any

from nicknames import name_triplets

from service.bench.quality import postcode as _postcode
from service.bench.quality import surname as _surname

GIVEN = [
    "Dana",
    "William",
    "Margaret",
    "Priya",
    "Marcus",
    "Tom",
    "Aisha",
    "Chen",
    "Olga",
    "José",
    "Fatima",
    "Liam",
    "Sophie",
    "Kwame",
    "Hannah",
    "Mohammed",
    "Zoë",
    "Ian",
]
FAMILY = [
    "King",
    "Smith",
    "Lee",
    "Shah",
    "Becker",
    "O'Brien",
    "Nowak",
    "García",
    "Okafor",
    "Jones",
    "Patel",
    "Müller",
    "Brown",
    "Williams",
    "Kowalski",
    "Nguyen",
    "Taylor",
]
CITIES = [
    ("Leeds", "LS6 3AG"),
    ("London", "SW1A 1AA"),
    ("Manchester", "M1 1AE"),
    ("Bristol", "BS1 4DJ"),
    ("Glasgow", "G1 1XQ"),
    ("Cardiff", "CF10 1EP"),
]
DOMAINS = ["gmail.com", "example.com", "outlook.com", "yahoo.co.uk", "btinternet.com"]
PRODUCTS = [
    ("Fibre 500 broadband", "broadband", "45.00"),
    ("Mobile 20GB", "mobile", "18.00"),
    ("TV Essentials", "tv", "22.50"),
    ("Landline", "voice", "12.00"),
    ("Family plan, 4 lines", "mobile", "96.00"),
]


def customer(rng: random.Random, n: int) -> dict[str, Any]:
    # Names and postcodes as varied as a real book's: common names recur (Zipf-like),
    # most postcodes are shared by a handful of customers at most.
    given = rng.choice(GIVEN) if rng.random() < 0.3 else rng.choice(_MORE_GIVEN).capitalize()
    family = rng.choice(FAMILY) if rng.random() < 0.3 else _surname(rng)
    doc: dict[str, Any] = {"id": f"C-{n:07d}", "given_name": given, "family_name": family}
    local = f"{given}.{family}{rng.randint(1, 999)}".lower().replace("'", "")
    if rng.random() < 0.9:
        doc["emails"] = [f"{local}@{rng.choice(DOMAINS)}"]
        if rng.random() < 0.15:
            doc["emails"].append(f"{local}+work@{rng.choice(DOMAINS)}")
    if rng.random() < 0.85:
        digits = f"7{rng.randint(100, 999)}{rng.randint(100000, 999999)}"
        doc["phones"] = [
            rng.choice(
                [f"0{digits[:4]} {digits[4:]}", f"+44{digits}", f"+44 {digits[:4]} {digits[4:]}"]
            )
        ]
        if rng.random() < 0.01:
            doc["phones"].append("call after 6pm")  # kept as given, flagged
    if rng.random() < 0.7:
        year, month, day = rng.randint(1940, 2004), rng.randint(1, 12), rng.randint(1, 28)
        doc["date_of_birth"] = rng.choice(
            [f"{year}-{month:02d}-{day:02d}", f"{year}{month:02d}{day:02d}"]
        )
    city, _ = rng.choice(CITIES)
    postcode = _postcode(rng)
    doc["addresses"] = [
        {
            "line1": f"{rng.randint(1, 200)} High Street",
            "city": city,
            "postcode": postcode,
            "country": "GB",
        }
    ]
    products = [
        {"name": name, "kind": kind, "monthly_price": price, "started_at": "2023-04-01"}
        for name, kind, price in rng.sample(PRODUCTS, rng.randint(1, 3))
    ]
    doc["accounts"] = [
        {
            "number": f"{10 + n // 10000:02d}-{n % 10000:04d}-{rng.randint(10, 99)}",
            "opened_at": "2019-04-02",
            "products": products,
        }
    ]
    identities = []
    if rng.random() < 0.3:
        identities.append(
            {
                "channel": "twitter",
                "external_id": f"tw{n}",
                "handle": f"{given.lower()}_{family[:1].lower()}{n % 100}",
            }
        )
    if rng.random() < 0.2:
        identities.append({"channel": "facebook", "external_id": f"fb{n}"})
    if identities:
        doc["identities"] = identities
    if rng.random() < 0.2:
        doc["household"] = {"id": f"H-{n // 3}", "role": rng.choice(["holder", "member"])}
    if rng.random() < 0.5:
        doc["preferred_channel"] = rng.choice(["twitter", "email", "phone", "facebook"])
    return doc


_MORE_GIVEN = sorted({t.name1 for t in name_triplets()})


def book(count: int, seed: int = 7) -> Iterator[bytes]:
    """NDJSON lines of ``count`` customers."""
    rng = random.Random(seed)  # noqa: S311 - test data, not secrets
    for n in range(1, count + 1):
        yield json.dumps(customer(rng, n), ensure_ascii=False).encode()
