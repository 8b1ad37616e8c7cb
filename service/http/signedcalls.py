"""Calls signed instead of carrying a token (chat tools calling ``/v1/lookup``).

``X-Socialid-Timestamp: <unix seconds>`` and ``X-Socialid-Signature: sha256=<hex
HMAC-SHA256(secret, timestamp + "." + raw body)>``. A signature older than the allowed
age, or seen before, is refused: a captured request cannot be sent again.
"""

from __future__ import annotations

import time

import redis.asyncio as aioredis

from adapters.signatures import matches, sha256_hex
from service.http.apikeys import Principal, Scope
from service.store.keynames import KeySchema

TIMESTAMP_HEADER = "X-Socialid-Timestamp"
SIGNATURE_HEADER = "X-Socialid-Signature"
SIGNED_PRINCIPAL = Principal(
    key_id="signed", name="SOCIALID_LOOKUP_SIGNING_SECRET", scopes=frozenset({Scope.INTEGRATION})
)


# Why a signature was refused: the metric label, and the sentence the caller reads.
SIGNATURE_REFUSALS = {
    "missing": "No signature came with the call: sign it as the channel's documentation says.",
    "mismatch": "The signature does not match the body: check the shared secret, and sign "
    "the exact bytes sent.",
    "stale": "The signed time is too far from the server's clock: sign each call as it is "
    "sent, and check the clock.",
    "replayed": "This signature was used before: every call needs a signature of its own.",
    "bad_timestamp": "The timestamp is missing or is not Unix time in seconds.",
}


def sign(secret: str, timestamp: str, body: bytes) -> str:
    return sha256_hex(secret, timestamp.encode() + b"." + body)


async def check_signed(
    redis: aioredis.Redis,
    keys: KeySchema,
    *,
    secret: str,
    timestamp: str | None,
    signature: str,
    body: bytes,
    max_age: int,
    now: float | None = None,
) -> str | None:
    """None when the call is signed, fresh and new; else why not."""
    try:
        age = (time.time() if now is None else now) - int(timestamp or "")
    except ValueError:
        return "bad_timestamp"
    if abs(age) > max_age:
        return "stale"
    if not matches(sign(secret, str(timestamp), body), signature):
        return "mismatch"
    nonce = keys.webhook_nonce("lookup", signature)
    if not await redis.set(nonce, "1", nx=True, ex=2 * max_age):
        return "replayed"
    return None
