"""The lookup request chat tools send."""

from __future__ import annotations

from pydantic import AwareDatetime, Field

from service.schemas.fields import Channel, ExternalId, LongText, ShortText, Strict


class Sender(Strict):
    external_id: ExternalId | None = None
    handle: ShortText | None = None
    display_name: ShortText | None = None
    email: ShortText | None = None
    phone: ShortText | None = None


class LookupRequest(Strict):
    channel: Channel
    sender: Sender
    text: LongText | None = None
    thread: ShortText | None = Field(
        default=None,
        description="A conversation id, or the tool's own thread key: the answer then "
        "carries the conversation's brief.",
    )
    record: bool = Field(
        default=False, description="Store the message as ingestion does (resolved, threaded)."
    )
    message_id: ShortText | None = Field(
        default=None, description="The tool's id of the message: a resend is stored once."
    )
    sent_at: AwareDatetime | None = None
