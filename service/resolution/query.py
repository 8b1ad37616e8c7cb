"""A resolution query as callers send it (a sender, a rep's structured query, the search
box), and the matching profile made of it. Pure: no I/O."""

from __future__ import annotations

from pydantic import Field

from matchers.contact import normalize_dob, normalize_email, normalize_phone
from matchers.extract import extract
from matchers.names import name_of, split_display
from matchers.places import Place, region_of
from matchers.postcodes import read_postcode
from matchers.profile import Profile, build_profile
from matchers.textnames import speaker
from service.errors import DomainError, FieldIssue
from service.schemas import Channel, ExternalId, LongText, ShortText, Strict


class AddressQuery(Strict):
    line1: ShortText | None = None
    line2: ShortText | None = None
    city: ShortText | None = None
    postcode: ShortText | None = None
    region: ShortText | None = None
    country: ShortText | None = Field(
        default=None,
        description="ISO 3166 code or name; decides how the postcode is read "
        "(SOCIALID_DEFAULT_REGION when absent).",
    )


class ResolveQuery(Strict):
    given_name: ShortText | None = None
    family_name: ShortText | None = None
    name: ShortText | None = None
    email: ShortText | None = None
    phone: ShortText | None = None
    address: AddressQuery | None = None
    date_of_birth: ShortText | None = None
    account_number: ShortText | None = None
    handle: ShortText | None = None
    channel: Channel | None = None
    external_id: ExternalId | None = None
    text: LongText | None = Field(
        default=None,
        description="Free text: identifiers in it (account numbers, e-mail, "
        "phone, postcode) are extracted and weighed on their own, and a name the writer "
        "gives ('Zoe Smith here') names the sender.",
    )


class QueryError(DomainError):
    """Query fields that are present but cannot be read: (JSON Pointer, reason) each."""

    status, slug = 422, "validation-failed"
    default_detail = "Some query fields cannot be read; fix or leave them out."

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        super().__init__(
            title="Validation failed",
            errors=[FieldIssue(pointer=p, message=r, code="unreadable") for p, r in problems],
        )
        self.problems = problems


def query_profile(
    query: ResolveQuery, *, region: str, account_pattern: str, check_digit: str | None
) -> Profile:
    """The query as the matcher sees it: every clue it gives, a name written in its text
    and a town in its display name included. Raises QueryError for a field that is
    present but cannot be read."""
    address = query.address
    display, said_place = split_display(query.name) if query.name else (None, None)
    if said_place and not (address and address.city):
        # The town a display name gives ("Dana | Leeds") is evidence like any other.
        base = address or AddressQuery()
        address = base.model_copy(update={"city": said_place})
    dob = normalize_dob(query.date_of_birth) if query.date_of_birth else None
    email = query.email
    if email is None and query.channel == Channel.EMAIL and query.external_id:
        # The e-mail channel's sender id is the address itself: the webhooks store it so,
        # and chat tools send it so.
        email = query.external_id if normalize_email(query.external_id) else None
    problems = []
    if query.date_of_birth and dob is None:
        problems.append(("/date_of_birth", "not a date as YYYY-MM-DD or YYYYMMDD"))
    if query.email and normalize_email(query.email) is None:
        problems.append(("/email", "not an e-mail address"))
    if query.phone and normalize_phone(query.phone, region) is None:
        problems.append(("/phone", f"not a phone number (default region {region})"))
    place = (
        Place(address.postcode, address.country, address.city, address.line1) if address else None
    )
    if place and place.postcode:
        country = region_of(place.country, region)
        if not read_postcode(place.postcode, country):
            problems.append(("/address/postcode", "not a postcode of any country"))
    if problems:
        # A value the query cannot use must not be dropped silently: the answer would
        # be weaker than the caller believes.
        raise QueryError(problems)
    mentioned = (
        [
            (f.kind, f.value)
            for f in extract(
                query.text,
                region=region,
                account_pattern=account_pattern,
                check_digit=check_digit,
            )
        ]
        if query.text
        else []
    )
    person, from_text = speaker(name_of(query.given_name, query.family_name, display), query.text)
    return build_profile(
        given=person.given,
        family=person.family,
        name_source="text" if from_text else None,
        emails=[email] if email else [],
        phones=[query.phone] if query.phone else [],
        date_of_birth=dob,
        places=[place] if place else [],
        accounts=[query.account_number] if query.account_number else [],
        handles=[query.handle] if query.handle else [],
        mentioned=mentioned,
        region=region,
    )
