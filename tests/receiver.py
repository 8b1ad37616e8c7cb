"""A tool's webhook endpoint for the events-out tests: a real aiohttp server on loopback.

It checks each delivery's signature with its own code, written from the Standard
Webhooks specification (not with the library the service signs with), and records what
it accepted. It can be told to fail, to see retries and dead letters.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

TOLERANCE = 300  # seconds, as the specification recommends


def verified(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """The specification's check: HMAC-SHA256 of "id.timestamp.body" under the base64
    key after "whsec_", compared with each "v1,<base64>" in the header."""
    msg_id, stamp = headers.get("webhook-id", ""), headers.get("webhook-timestamp", "")
    if not msg_id or not stamp.isdigit() or abs(time.time() - int(stamp)) > TOLERANCE:
        return False
    key = base64.b64decode(secret.removeprefix("whsec_"))
    digest = hmac.new(key, f"{msg_id}.{stamp}.".encode() + body, hashlib.sha256).digest()
    expected = base64.b64encode(digest).decode()
    for signature in headers.get("webhook-signature", "").split(" "):
        version, _, value = signature.partition(",")
        if version == "v1" and hmac.compare_digest(value, expected):
            return True
    return False


@dataclass
class Receiver:
    url: str = ""
    secrets: list[str] = field(default_factory=list)  # any one of them must verify
    fail_with: int | None = None  # answer this status instead of accepting
    failures_left: int = 0  # fail this many attempts first (with fail_with or 503)
    events: list[dict[str, Any]] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    bodies: list[bytes] = field(default_factory=list)
    refused: int = 0
    attempts: int = 0
    arrived: asyncio.Condition = field(default_factory=asyncio.Condition)

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        headers = {k.lower(): v for k, v in request.headers.items()}
        self.attempts += 1
        if self.failures_left > 0 or self.fail_with is not None:
            self.failures_left = max(0, self.failures_left - 1)
            return web.Response(status=self.fail_with or 503)
        if not any(verified(s, headers, body) for s in self.secrets):
            self.refused += 1
            return web.Response(status=401)
        async with self.arrived:
            self.events.append(json.loads(body))
            self.ids.append(headers["webhook-id"])
            self.headers.append(headers)
            self.bodies.append(body)
            self.arrived.notify_all()
        return web.Response(status=204)

    async def wait_for(self, count: int) -> list[dict[str, Any]]:
        """The first ``count`` events accepted, once they have come (10 s at most)."""
        async with asyncio.timeout(10), self.arrived:
            await self.arrived.wait_for(lambda: len(self.events) >= count)
        return self.events[:count]

    def of_type(self, event_type: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e["type"] == event_type]


@asynccontextmanager
async def receiving() -> AsyncIterator[Receiver]:
    receiver = Receiver()
    app = web.Application()
    app.router.add_post("/hooks/socialid", receiver.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    receiver.url = f"http://127.0.0.1:{port}/hooks/socialid"
    try:
        yield receiver
    finally:
        await runner.cleanup()
