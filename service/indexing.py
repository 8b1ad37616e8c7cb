"""Which index entries a customer document implies. Pure: the store applies the diff.

Owned keys are exclusive (one customer per key): the exact identity links. Set entries
are shared (many customers per key); the matching engine's blocking keys will go there.
"""

from __future__ import annotations

import json

from service.keyschema import KeySchema
from service.models import Customer


def owned_keys(keys: KeySchema, customer: Customer | None) -> list[str]:
    if customer is None:
        return []
    return sorted({keys.identity(i.channel, i.external_id) for i in customer.identities})


def owned_keys_of_raw(keys: KeySchema, raw: str) -> list[str]:
    """Identity keys from a stored document that may no longer validate (erasure must
    still find every link)."""
    try:
        doc = json.loads(raw)
        identities = doc.get("identities", []) if isinstance(doc, dict) else []
        return sorted(
            {
                keys.identity(str(i["channel"]), str(i["external_id"]))
                for i in identities
                if isinstance(i, dict) and "channel" in i and "external_id" in i
            }
        )
    except ValueError:
        return []


def set_entries(_keys: KeySchema, customer: Customer | None) -> list[str]:
    if customer is None:
        return []
    return []
