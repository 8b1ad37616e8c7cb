"""The lookup request chat tools send."""

from __future__ import annotations

from service.models.common import Channel, ExternalId, LongText, ShortText, Strict


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
    thread: ShortText | None = None
