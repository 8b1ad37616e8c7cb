"""Which index entries a customer document implies. Pure: the store applies the diff.

Owned keys are exclusive (one customer per key): the exact identity links. Set entries
are shared (many customers per key); the matching engine's blocking keys will go there.
"""

from __future__ import annotations

from service.keyschema import KeySchema
from service.models import Customer


def owned_keys(keys: KeySchema, customer: Customer | None) -> list[str]:
    if customer is None:
        return []
    return sorted({keys.identity(i.channel, i.external_id) for i in customer.identities})


def set_entries(_keys: KeySchema, customer: Customer | None) -> list[str]:
    if customer is None:
        return []
    return []
