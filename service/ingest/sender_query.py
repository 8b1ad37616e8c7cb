"""What an inbound message tells the resolver: the sender's identity, profile hints and
the identifiers mentioned in the text."""

from __future__ import annotations

from adapters.message import InboundMessage
from matchers.contact import normalize_email
from matchers.places import town_of_location
from service.resolution.query import AddressQuery, ResolveQuery

_SHORT = 200
_LONG = 10_000


def _short(value: str | None) -> str | None:
    return value[:_SHORT] if value else None


def message_query(message: InboundMessage) -> ResolveQuery:
    sender = message.sender
    # Identifiers in the subject, the text and the profile (a location may hold a
    # postcode) are all evidence; the text is cut to what the extractors read anyway.
    text = "\n".join(p for p in (message.subject, message.text, sender.location, sender.bio) if p)
    email = sender.email if sender.email and normalize_email(sender.email) else None
    town = town_of_location(sender.location)
    return ResolveQuery(
        channel=message.channel,
        external_id=sender.external_id[:320],
        handle=_short(sender.handle),
        name=_short(sender.display_name),
        email=_short(email),
        address=AddressQuery(city=_short(town)) if town else None,
        text=text[:_LONG] or None,
    )
