"""What identifies a customer in other people's text, read from their stored record:
the terms an erasure redacts wherever the customer is named but not the owner."""

from __future__ import annotations

from typing import Any

from matchers.redact import Person


def _strings(value: Any) -> list[str]:
    items = value if isinstance(value, list) else [value]
    return [v for v in items if isinstance(v, str) and v.strip()]


def erased_person(customer_id: str, doc: dict[str, Any] | None) -> Person:
    """From the record as stored, validated or not (an erasure must work on one that no
    longer validates): the names as written and in either order of given and family
    name ("King, Dana"), e-mails, phones, account numbers and the handles of linked
    identities. ``doc``
    None: the record is gone, and only the id is left to find."""
    doc = doc or {}
    given, family = (" ".join(_strings(doc.get(f))) for f in ("given_name", "family_name"))
    names = [*_strings(doc.get("name"))]
    if given and family:
        names += (f"{given} {family}", f"{family} {given}")
    else:
        names += _strings(given or family)
    identities = [i for i in doc.get("identities") or [] if isinstance(i, dict)]
    emails = _strings(doc.get("emails"))
    emails += [
        e for i in identities if i.get("channel") == "email" for e in _strings(i.get("external_id"))
    ]
    return Person(
        customer_id=customer_id,
        names=tuple(names),
        emails=tuple(emails),
        phones=tuple(_strings(doc.get("phones"))),
        handles=tuple(h for i in identities for h in _strings(i.get("handle"))),
        accounts=tuple(
            n
            for a in doc.get("accounts") or []
            if isinstance(a, dict)
            for n in _strings(a.get("number"))
        ),
    )
