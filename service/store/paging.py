"""Newest-first pages of a sorted set scored by time (ms), cut by an opaque cursor.

The cursor names the last (time, id) a page showed, so entries arriving between two
calls neither repeat nor skip any. Used by a customer's history and by the messages.
"""

from __future__ import annotations

import base64
import re
from collections.abc import AsyncIterator
from datetime import datetime

import redis.asyncio as aioredis

from service.errors import DomainError
from service.store.redistypes import scored

_CHUNK = 200


class BadCursor(DomainError):
    status, slug = 400, "bad-cursor"
    default_detail = "This cursor was not issued here."


_MAX_PART = 2**64 - 1
_STREAM_ID = re.compile(r"\d{1,20}-\d{1,20}")
LAST_STREAM_ID = f"{_MAX_PART}-{_MAX_PART}"


def is_stream_id(value: str) -> bool:
    """A Redis stream entry id ("<ms>-<seq>", each part an unsigned 64-bit number)."""
    if not _STREAM_ID.fullmatch(value):
        return False
    return all(int(part) <= _MAX_PART for part in value.split("-"))


def ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)


def encode_cursor(score: float, member: str) -> str:
    return base64.urlsafe_b64encode(f"{int(score)}:{member}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[int, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        score, _, member = raw.partition(":")
        return int(score), member
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadCursor from exc


async def newest_first(
    redis: aioredis.Redis,
    key: str,
    *,
    since: datetime | None,
    until: datetime | None,
    cursor: str | None,
) -> AsyncIterator[list[tuple[str, float]]]:
    """Chunks of (member, score), newest first, after the cursor and within the times;
    the caller stops reading once its page is full."""
    high: float | str = "+inf" if until is None else ms(until)
    low: float | str = "-inf" if since is None else ms(since)
    after = decode_cursor(cursor) if cursor else None
    if after is not None:
        high = after[0] if high == "+inf" else min(float(high), after[0])
    offset = 0
    # Chunks are read by offset: an entry added meanwhile ahead of it pushes what was read
    # into the next chunk. Seen once is enough.
    seen: set[str] = set()
    while True:
        batch = scored(
            await redis.zrange(
                key,
                high,
                low,
                desc=True,
                byscore=True,
                offset=offset,
                num=_CHUNK,
                withscores=True,
            )
        )
        if not batch:
            return
        offset += len(batch)
        if after is not None:
            # Equal times are ordered by member, descending: skip up to the cursor's.
            batch = [(m, s) for m, s in batch if not (s == after[0] and m >= after[1])]
        batch = [(m, s) for m, s in batch if m not in seen]
        seen.update(m for m, _ in batch)
        yield batch
