"""Masks personal data in log events before they are rendered.

Applied to every log line (ours and the standard library's). Fields that hold free text
or identity values are replaced whole; any other string is scanned for e-mail
addresses, phone-number-like digit runs and @handles. Over-masking is acceptable;
a customer's address in a log file is not.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, MutableMapping
from typing import Any

from pydantic import BaseModel

# Free text and identity fields: the value never appears, only its length.
SENSITIVE_KEYS = frozenset(
    {
        "text",
        "body",
        "message",
        "content",
        "subject",
        "note",
        "bio",
        "location",
        "name",
        "given_name",
        "family_name",
        "display_name",
        "handle",
        "email",
        "emails",
        "phone",
        "phones",
        "address",
        "addresses",
        "date_of_birth",
        "external_id",
        "sender",
        "authorization",
        "token",
        "password",
    }
)
# Fields that socialid itself fills with non-personal values; scanning them would only
# mangle timestamps and ids that happen to look like phone numbers.
TRUSTED_KEYS = frozenset(
    {
        "timestamp",
        "level",
        "logger",
        "request_id",
        "status",
        "duration_ms",
        "method",
        "route",
        "version",
        "pid",
        "event",
        "principal",
        "channel",
        "delivery",
        "entry",
        "entries",
        "accepted",
        "duplicates",
        "dead_letter",
    }
)

_EMAIL = re.compile(r"[\w.+%-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
# Seven or more digits, optionally with +, spaces, dots, dashes or brackets between them,
# not glued to letters (so hex ids and hashes are left alone).
_PHONE = re.compile(r"(?<![\w+])\+?\(?\d(?:[\s().-]{0,2}\d){6,16}(?![\w])")
_HANDLE = re.compile(r"(?<![\w@])@\w{1,30}")
# A Redis stream entry id (milliseconds, a dash, a sequence): digits a phone pattern
# matches, but what tracing a delivery through the logs needs in clear.
_STREAM_ID = re.compile(r"\d{13}-\d{1,5}")
_DIGIT = re.compile(r"\d")
# Credentials that end up in exception text (e.g. a malformed header echoed by aiohttp).
_SECRET = re.compile(r"(?i)\b(bearer|basic)\s+[^\s'\"]+|\bsid_[0-9a-f]{12}_[\w-]+")


def _phone_unless_stream_id(match: re.Match[str]) -> str:
    found = match.group(0)
    return found if _STREAM_ID.fullmatch(found) else "[phone]"


def mask_text(value: str) -> str:
    # Each pattern runs only where it could match (every request line passes here, and
    # most of its strings hold no "@", no digit and no credential word).
    lower = value.casefold()
    if "bearer" in lower or "basic" in lower or "sid_" in lower:
        value = _SECRET.sub("[credential]", value)
    if "@" in value:
        value = _EMAIL.sub("[email]", value)
    if _DIGIT.search(value):
        value = _PHONE.sub(_phone_unless_stream_id, value)
    if "@" in value:
        value = _HANDLE.sub("@[handle]", value)
    return value


# Tuples, not "int | float" unions: a union in isinstance() is built on every call, and
# this runs for every field of every line.
_PLAIN_TYPES = (bool, int, float)
_SEQUENCES = (list, tuple, set, frozenset)
_BYTES = (bytes, bytearray)


def _mask_value(key: str, value: Any) -> Any:
    if value is None or isinstance(value, _PLAIN_TYPES):
        return value
    if key.lower() in SENSITIVE_KEYS:
        if isinstance(value, str):
            return f"[redacted {len(value)} chars]"
        return "[redacted]"
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="json")
    if isinstance(value, Mapping):
        return {k: _mask_value(str(k), v) for k, v in value.items()}
    if isinstance(value, _SEQUENCES):
        return [_mask_value(key, v) for v in value]
    if isinstance(value, _BYTES):
        value = bytes(value).decode("utf-8", "replace")
    # Anything else (exceptions, enums, dates, objects) is rendered as text: mask that.
    return mask_text(str(value))


def redact_processor(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    for key in event_dict.keys() - TRUSTED_KEYS:
        event_dict[key] = _mask_value(key, event_dict[key])
    return event_dict
