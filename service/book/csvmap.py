"""The documented CSV column mapping for imports (README, "Bulk import").

CSV is flat, so a customer row carries at most one address, one account (without
products) and one identity per channel; lists such as emails are ``;``-separated. Use
NDJSON for anything richer. Empty cells mean "absent". An unknown column stops the import
before the first row: a misspelt header must not silently drop a column of data.
"""

from __future__ import annotations

from typing import Any

CUSTOMER_COLUMNS = frozenset(
    """
    id given_name family_name name emails phones date_of_birth address_line1 address_line2
    city postcode region country account_number account_status account_opened_at
    household_id household_role preferred_channel twitter_id twitter_handle facebook_id
    forum_id forum_handle email_id
    """.split()
)
ATTRIBUTE_PREFIX = "attr."
EVENT_COLUMNS = frozenset(
    """
    customer_id id type at kind channel direction case_id category status ref account
    summary amount currency due by
    """.split()
)
_ADDRESS = {
    "address_line1": "line1",
    "address_line2": "line2",
    "city": "city",
    "postcode": "postcode",
    "region": "region",
    "country": "country",
}
_IDENTITIES = (
    ("twitter", "twitter_id", "twitter_handle"),
    ("facebook", "facebook_id", None),
    ("forum", "forum_id", "forum_handle"),
    ("email", "email_id", None),
)


class BadHeader(ValueError):
    pass


def check_header(columns: list[str], known: frozenset[str], attributes: bool) -> None:
    repeated = sorted({c for c in columns if columns.count(c) > 1})
    if repeated:
        raise BadHeader(f"repeated CSV columns: {', '.join(repeated)}")
    unknown = [
        c for c in columns if c not in known and not (attributes and c.startswith(ATTRIBUTE_PREFIX))
    ]
    if unknown:
        raise BadHeader(f"unknown CSV columns: {', '.join(unknown)}")
    required = "id" if attributes else "customer_id"
    if required not in columns:
        raise BadHeader(f"the CSV header needs a {required} column")


# Columns that mean nothing without another: a row with one but not the other is refused
# rather than silently losing the value.
_NEEDS = {
    "twitter_handle": "twitter_id",
    "forum_handle": "forum_id",
    "account_status": "account_number",
    "account_opened_at": "account_number",
    "household_role": "household_id",
}


def _cells(row: dict[str | None, Any]) -> dict[str, str]:
    if row.get(None):
        raise ValueError("the row has more cells than the header has columns")
    cells = {k: v.strip() for k, v in row.items() if k and isinstance(v, str) and v.strip()}
    orphans = sorted(c for c, needed in _NEEDS.items() if c in cells and needed not in cells)
    if orphans:
        raise ValueError(", ".join(f"{c} needs {_NEEDS[c]}" for c in orphans))
    return cells


def _split(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(";") if part.strip()]


def customer_from_row(row: dict[str | None, Any]) -> dict[str, Any]:
    cells = _cells(row)
    doc: dict[str, Any] = {
        k: cells[k]
        for k in ("id", "given_name", "family_name", "name", "date_of_birth", "preferred_channel")
        if k in cells
    }
    for key in ("emails", "phones"):
        if key in cells:
            doc[key] = _split(cells[key])
    address = {field: cells[col] for col, field in _ADDRESS.items() if col in cells}
    if address:
        doc["addresses"] = [address]
    if "account_number" in cells:
        account = {"number": cells["account_number"]}
        if "account_status" in cells:
            account["status"] = cells["account_status"]
        if "account_opened_at" in cells:
            account["opened_at"] = cells["account_opened_at"]
        doc["accounts"] = [account]
    if "household_id" in cells:
        doc["household"] = {"id": cells["household_id"], "role": cells.get("household_role")}
    identities = []
    for channel, id_col, handle_col in _IDENTITIES:
        if id_col in cells:
            identity = {"channel": channel, "external_id": cells[id_col]}
            if handle_col and handle_col in cells:
                identity["handle"] = cells[handle_col]
            identities.append(identity)
    if identities:
        doc["identities"] = identities
    attributes = {
        k.removeprefix(ATTRIBUTE_PREFIX): v
        for k, v in cells.items()
        if k.startswith(ATTRIBUTE_PREFIX)
    }
    if attributes:
        doc["attributes"] = attributes
    return doc


def event_from_row(row: dict[str | None, Any]) -> dict[str, Any]:
    return _cells(row)
