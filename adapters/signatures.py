"""HMAC checks of webhook deliveries, always over the raw bytes, in constant time."""

from __future__ import annotations

import base64
import hashlib
import hmac


def hmac_sha256(secret: str, data: bytes) -> bytes:
    return hmac.new(secret.encode(), data, hashlib.sha256).digest()


def matches(expected: str, given: str | None) -> bool:
    """Constant-time comparison of a computed signature with the header's."""
    if given is None:
        return False
    # aiohttp hands a header's bytes that are not UTF-8 over as lone surrogates: they
    # cannot be encoded strictly, and can match no signature.
    return hmac.compare_digest(expected.encode(), given.strip().encode(errors="surrogatepass"))


def sha256_base64(secret: str, data: bytes) -> str:
    return "sha256=" + base64.b64encode(hmac_sha256(secret, data)).decode()


def sha256_hex(secret: str, data: bytes) -> str:
    return "sha256=" + hmac_sha256(secret, data).hex()
