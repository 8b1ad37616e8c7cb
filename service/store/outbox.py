"""What the scripts that write events need to know: the outbox's key names."""

from __future__ import annotations

from service.store.keynames import KeySchema


def outbox_args(keys: KeySchema) -> list[str]:
    """The two ARGV values ``outbox(at)`` of ``_outbox.lua`` reads, in order."""
    return [keys.event_outbox(), keys.event_types_wanted()]


def emit_call(keys: KeySchema, event_type: str, fields: str) -> tuple[list[str], list[str]]:
    """KEYS and ARGV of ``emit.lua``: an event (its fields as JSON) as a step of its own."""
    outbox = outbox_args(keys)
    return outbox, [*outbox, event_type, fields]
