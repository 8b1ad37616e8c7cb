"""Names of Messenger senders from the Graph API: payloads carry only a page-scoped id.

A lookup never holds up ingestion for long: it has a timeout, its answer is cached in
the store, and a failure leaves the message without a name (it still resolves through
links and the identifiers in its text).
"""

from __future__ import annotations

import asyncio
from urllib.parse import quote

import aiohttp
import redis.asyncio as aioredis

from service.ops.logs import get_logger
from service.store.keynames import KeySchema

log = get_logger("socialid.graph")
NAME_TTL = 7 * 86_400
MISS_TTL = 300  # a failed lookup is not repeated for every message of a burst
_KEEP_DONE = 5.0  # seconds a finished lookup still answers callers in this process


class GraphNames:
    def __init__(
        self,
        redis: aioredis.Redis,
        keys: KeySchema,
        session: aiohttp.ClientSession,
        *,
        base_url: str,
        token: str,
    ) -> None:
        self._redis = redis
        self._keys = keys
        self._session = session
        self._base = base_url.rstrip("/")
        self._token = token
        self._pending: dict[str, asyncio.Future[str | None]] = {}

    async def name(self, channel: str, psid: str) -> str | None:
        key = self._keys.sender_name(channel, psid)
        # The worker handles a batch's messages at once: the messages of one sender in a
        # burst share one lookup, rather than each missing the cache and asking again.
        pending = self._pending.get(key)
        if pending is None:
            cached = await self._redis.get(key)
            if cached is not None:
                return str(cached) or None
            pending = self._pending.get(key)  # another began while the cache was read
        if pending is None:
            pending = asyncio.ensure_future(self._lookup(key, psid))
            self._pending[key] = pending
            # Kept a while after it is done: a caller whose cache read was sent before
            # the lookup stored the name may see its miss only after the lookup ended,
            # and must find the answer here rather than ask the Graph API again.
            pending.add_done_callback(
                lambda done: asyncio.get_running_loop().call_later(
                    _KEEP_DONE, self._forget, key, done
                )
            )
        # Shielded: a caller cancelled while waiting leaves the lookup to the others.
        return await asyncio.shield(pending)

    def _forget(self, key: str, done: asyncio.Future[str | None]) -> None:
        if self._pending.get(key) is done:
            del self._pending[key]

    async def _lookup(self, key: str, psid: str) -> str | None:
        found = await self._fetch(psid)
        await self._redis.set(key, found or "", ex=NAME_TTL if found else MISS_TTL)
        return found

    async def _fetch(self, psid: str) -> str | None:
        try:
            async with self._session.get(
                f"{self._base}/{quote(psid, safe='')}",
                params={"fields": "first_name,last_name", "access_token": self._token},
            ) as response:
                if response.status != 200:
                    log.warning("graph_lookup_failed", status=response.status)
                    return None
                data = await response.json(content_type=None)
        except (TimeoutError, aiohttp.ClientError, ValueError) as exc:
            log.warning("graph_lookup_failed", error=type(exc).__name__)
            return None
        if not isinstance(data, dict):
            return None
        parts = [data.get("first_name"), data.get("last_name")]
        name = " ".join(p.strip() for p in parts if isinstance(p, str) and p.strip())
        return name[:200] or None
