"""What the scripts that write events need to know: the outbox's key names."""

from __future__ import annotations

from service.store.keynames import KeySchema


def outbox_args(keys: KeySchema) -> list[str]:
    """The two ARGV values ``outbox(at)`` of ``_outbox.lua`` reads, in order."""
    return [keys.event_outbox(), keys.event_types_wanted()]
