"""The customer (account holder) as the CRM knows them.

Contact values are normalised on the way in (e-mail by email-validator, phones to E.164
by libphonenumber, dates of birth to ISO). A value that cannot be parsed is kept exactly
as given and listed in ``data_issues``: the book never silently loses what the CRM sent.
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal, Self

from pydantic import Field, StringConstraints, ValidationError, ValidationInfo, model_validator

from matchers.contact import normalize_dob, normalize_email, normalize_phone
from service.schemas.fields import Channel, CustomerId, ExternalId, ShortText, Strict
from service.schemas.validation import describe

# Validation context keys: the default phone region, and "stored" for documents read back
# from Redis, which were normalised when written and need no second pass.
REGION = "default_region"
STORED = "stored"


class Identity(Strict):
    channel: Channel
    external_id: ExternalId
    handle: ShortText | None = None


class Product(Strict):
    name: ShortText
    kind: ShortText | None = None
    status: Literal["active", "suspended", "ended"] = "active"
    monthly_price: Decimal | None = Field(default=None, ge=0, max_digits=12, decimal_places=2)
    started_at: date | None = None
    ended_at: date | None = None


class Account(Strict):
    number: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    status: Literal["active", "suspended", "closed"] = "active"
    opened_at: date | None = None
    products: list[Product] = Field(default_factory=list, max_length=200)


class Address(Strict):
    line1: ShortText | None = None
    line2: ShortText | None = None
    city: ShortText | None = None
    postcode: Annotated[str, StringConstraints(max_length=16)] | None = None
    region: ShortText | None = None
    country: Annotated[str, StringConstraints(max_length=56)] | None = None


class Household(Strict):
    id: ShortText = Field(min_length=1)
    role: Literal["holder", "member"]


class DataIssue(Strict):
    pointer: str = Field(description="JSON Pointer to the value kept as given")
    reason: str


class CustomerIn(Strict):
    """A customer as sent to ``PUT /v1/customers/{id}`` (the id comes from the path)."""

    given_name: ShortText | None = None
    family_name: ShortText | None = None
    name: ShortText | None = Field(
        default=None, description="The full name when only that is known; kept as given."
    )
    emails: list[ShortText] = Field(default_factory=list, max_length=20)
    phones: list[ShortText] = Field(default_factory=list, max_length=20)
    addresses: list[Address] = Field(default_factory=list, max_length=20)
    date_of_birth: Annotated[str, StringConstraints(max_length=32)] | None = Field(
        default=None, description="YYYY-MM-DD (YYYYMMDD accepted)"
    )
    accounts: list[Account] = Field(default_factory=list, max_length=50)
    identities: list[Identity] = Field(default_factory=list, max_length=50)
    household: Household | None = None
    preferred_channel: ShortText | None = None
    attributes: dict[ShortText, str | int | float | bool | None] = Field(
        default_factory=dict, max_length=100
    )
    data_issues: list[DataIssue] = Field(
        default_factory=list,
        description="Values kept as given because they could not be parsed. Output only: "
        "recomputed on every write, whatever is sent.",
    )

    @model_validator(mode="after")
    def _normalise(self, info: ValidationInfo) -> Self:
        context: dict[str, Any] = info.context or {}
        if context.get(STORED):
            return self
        region = str(context.get(REGION, "GB"))
        issues: list[DataIssue] = []
        # Assigned only when changed: each assignment goes through pydantic's __setattr__,
        # and a bulk import validates tens of thousands of records.
        if self.emails:
            emails = _normalised(self.emails, normalize_email, None, "emails", issues)
            if emails != self.emails:
                self.emails = emails
        if self.phones:
            phones = _normalised(self.phones, normalize_phone, region, "phones", issues)
            if phones != self.phones:
                self.phones = phones
        if self.date_of_birth is not None:
            dob = normalize_dob(self.date_of_birth)
            if dob is None:
                issues.append(DataIssue(pointer="/date_of_birth", reason=_REASONS["dob"]))
            elif dob != self.date_of_birth:
                self.date_of_birth = dob
        if issues or self.data_issues:
            self.data_issues = issues
        return self


_REASONS = {
    "emails": "not a valid e-mail address",
    "phones": "not a phone number libphonenumber can parse (default region {region})",
    "dob": "not a date as YYYY-MM-DD or YYYYMMDD, or in the future",
}


def _normalised(
    values: list[str],
    normalise: Any,
    region: str | None,
    field: str,
    issues: list[DataIssue],
) -> list[str]:
    """Normal forms in the order given, duplicates removed; unparseable values kept.
    ``region``: the default phone region, passed on to ``normalise`` when given."""
    out: list[str] = []
    for raw in values:
        value = normalise(raw) if region is None else normalise(raw, region)
        bad = value is None
        value = raw if value is None else value
        if value in out:
            continue
        if bad:
            reason = _REASONS[field].format(region=region)
            issues.append(DataIssue(pointer=f"/{field}/{len(out)}", reason=reason))
        out.append(value)
    return out


class Customer(CustomerIn):
    id: CustomerId

    @property
    def display_name(self) -> str:
        if self.name:
            return self.name
        return " ".join(p for p in (self.given_name, self.family_name) if p) or self.id


class StoreIntegrityError(RuntimeError):
    """A stored document no longer validates: a bug or a migration gap, never the client's."""


def read_stored(raw: str | bytes) -> Customer:
    """A customer document as written by the store (already normalised)."""
    try:
        return Customer.model_validate_json(raw, context={STORED: True})
    except ValidationError as exc:
        raise StoreIntegrityError(f"stored customer does not validate: {describe(exc)}") from None


def lenient_customer(raw: str | bytes) -> Customer | None:
    """The known, valid fields of a stored document that no longer validates whole."""
    try:
        doc = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(doc, dict):
        return None
    known = {k: v for k, v in doc.items() if k in Customer.model_fields}
    try:
        return Customer.model_validate(known, context={STORED: True})
    except ValidationError:
        return None
