"""A webhook delivery as received, and the one function that reads any of them.

The ingestion stream stores deliveries, not parsed messages: a delivery that a fixed
parser reads differently can be replayed from what the provider actually sent.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field

from adapters import discourse, email, email_providers, facebook, lookup, twitter
from adapters.message import Channel, InboundMessage
from adapters.payload import json_object


class Format(StrEnum):
    TWITTER = "twitter"
    FACEBOOK = "facebook"
    DISCOURSE = "discourse"
    FORUM = "forum"  # the documented generic forum JSON
    EMAIL_RAW = "email_raw"
    MAILGUN = "mailgun"
    SENDGRID = "sendgrid"
    POSTMARK = "postmark"
    LOOKUP = "lookup"  # a chat tool's lookup with "record": true


CHANNEL_OF = {
    Format.TWITTER: Channel.TWITTER,
    Format.FACEBOOK: Channel.FACEBOOK,
    Format.DISCOURSE: Channel.FORUM,
    Format.FORUM: Channel.FORUM,
    Format.EMAIL_RAW: Channel.EMAIL,
    Format.MAILGUN: Channel.EMAIL,
    Format.SENDGRID: Channel.EMAIL,
    Format.POSTMARK: Channel.EMAIL,
}


class Delivery(BaseModel, frozen=True):
    format: Format
    received_at: datetime
    body: bytes = Field(description="The raw body; for form posts, the fields as JSON.")
    meta: dict[str, str] = Field(
        default_factory=dict, description="Headers the parser needs (Discourse's event)."
    )


def _form(body: bytes) -> dict[str, str]:
    fields = json_object(body, "the stored form fields")
    return {str(k): str(v) for k, v in fields.items()}


def parse_delivery(delivery: Delivery) -> list[InboundMessage]:
    """The customer messages in a delivery (none for pings, echoes, read receipts).

    Raises ``PayloadError`` with a reason when the delivery is not what its provider
    documents.
    """
    body, at = delivery.body, delivery.received_at
    match delivery.format:
        case Format.TWITTER:
            return twitter.parse(body)
        case Format.FACEBOOK:
            return facebook.parse(body)
        case Format.DISCOURSE:
            return discourse.parse(body, delivery.meta.get("event"), delivery.meta.get("instance"))
        case Format.FORUM:
            return discourse.parse_generic(body)
        case Format.EMAIL_RAW:
            return [email.parse_raw(body, at)]
        case Format.MAILGUN:
            return [email_providers.mailgun(_form(body), at)]
        case Format.SENDGRID:
            return [email_providers.sendgrid(_form(body), at)]
        case Format.POSTMARK:
            return [email_providers.postmark(body, at)]
        case Format.LOOKUP:
            return lookup.parse(body, at)
