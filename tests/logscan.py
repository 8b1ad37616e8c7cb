"""What must never be in a log line, checked over every line a whole suite run wrote.

The suite's tests put e-mail addresses, phone numbers, names, tokens and channel user ids
through every path of the service; whatever of that reaches a log line is a leak.
"""

from __future__ import annotations

import re

_PATTERNS = {
    "e-mail address": re.compile(r"[\w.+%-]+@[\w-]+(?:\.[\w-]+)+"),
    "API token": re.compile(r"sid_[0-9a-f]{12}_[\w-]{20,}"),
    "bearer credential": re.compile(r"(?i)bearer\s+(?!\[)[^\s\"']{8,}"),
    "phone number": re.compile(r"(?<![\w-])(?:\+\d{10,15}|07\d{3} ?\d{6})(?![\w-])"),
    "channel user id in a path": re.compile(r"/v1/identities/\w+/(?!\{external_id\})[^\s\"/?]+"),
}
# Names the suite's customers carry (tests/ data); a log line must hold none.
NAMES = ("Dana King", "Rosalind Achterberg", "Mark Osei", "Marcus Lee", "Amara Lee")
_STREAM_ID = re.compile(r"\b\d{13}-\d{1,5}\b")


def leaks(text: str) -> list[str]:
    """What leaked, as "kind: example" (the example cut short), first of each kind."""
    found = [
        f"{kind}: {match.group(0)[:40]}"
        for kind, pattern in _PATTERNS.items()
        if (match := pattern.search(text))
    ]
    found += [f"name: {name}" for name in NAMES if name in text]
    return found


def traceable(text: str) -> bool:
    """Stream entry ids (deliveries traced from webhook to worker) are in clear."""
    return _STREAM_ID.search(text) is not None
