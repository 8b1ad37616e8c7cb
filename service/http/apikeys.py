"""API keys: issued once, stored only as a SHA-256 hash, checked in constant time.

A token reads ``sid_<key id>_<secret>``; the key id finds the record without a scan,
the hash of the whole token proves it. SHA-256 (not a slow password hash) is right for
tokens with 256 bits of randomness: nothing to brute-force.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import UTC, datetime
from enum import StrEnum

import redis.asyncio as aioredis
from pydantic import BaseModel, Field

from service.store.keynames import KeySchema
from service.store.redistypes import fields, text_map, texts

_TOKEN = re.compile(r"^sid_([0-9a-f]{12})_[A-Za-z0-9_-]{43}$")


class Scope(StrEnum):
    REP = "rep"  # read customers, work conversations
    INTEGRATION = "integration"  # lookup and ingest
    ADMIN = "admin"  # import, erase, keys


ALL_SCOPES = frozenset(Scope)


class Principal(BaseModel, frozen=True):
    key_id: str
    name: str
    scopes: frozenset[Scope]
    rep: str | None = Field(default=None, description="The rep this key acts as, if bound.")


class _Stored(BaseModel):
    """An API key's record as kept in its Redis hash."""

    name: str
    scopes: str
    hash: str
    created_at: datetime
    rep: str = ""  # "": not bound to a rep

    @property
    def scope_set(self) -> frozenset[Scope]:
        return frozenset(Scope(s) for s in self.scopes.split(",") if s)


class ApiKeyInfo(BaseModel):
    key_id: str
    name: str
    scopes: list[Scope]
    rep: str | None = Field(default=None, description="The rep the key acts as, if bound.")
    created_at: datetime


class IssuedKey(ApiKeyInfo):
    token: str = Field(description="Shown once; only its hash is kept.")


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def bootstrap_principal() -> Principal:
    return Principal(key_id="bootstrap", name="SOCIALID_ADMIN_TOKEN", scopes=ALL_SCOPES)


class ApiKeyStore:
    def __init__(self, redis: aioredis.Redis, keys: KeySchema, admin_token: str | None) -> None:
        self._redis = redis
        self._keys = keys
        self._admin = admin_token.encode() if admin_token else None

    async def create(
        self, name: str, scopes: frozenset[Scope], rep: str | None = None
    ) -> IssuedKey:
        """``rep``: the rep every request made with the key acts as."""
        key_id = secrets.token_hex(6)
        token = f"sid_{key_id}_{secrets.token_urlsafe(32)}"
        created = datetime.now(UTC)
        record = _Stored(
            name=name,
            scopes=",".join(sorted(scopes)),
            hash=_digest(token),
            created_at=created,
            rep=rep or "",
        )
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(self._keys.api_key(key_id), mapping=fields(record.model_dump(mode="json")))
            pipe.sadd(self._keys.api_key_index(), key_id)
            await pipe.execute()
        return IssuedKey(
            key_id=key_id,
            name=name,
            scopes=sorted(scopes),
            rep=rep,
            created_at=created,
            token=token,
        )

    async def list_keys(self) -> list[ApiKeyInfo]:
        ids = sorted(texts(await self._redis.smembers(self._keys.api_key_index())))
        async with self._redis.pipeline(transaction=False) as pipe:
            for key_id in ids:
                pipe.hgetall(self._keys.api_key(key_id))
            records = [text_map(r) for r in await pipe.execute()]
        infos = []
        for key_id, raw in zip(ids, records, strict=True):
            if raw:
                rec = _Stored.model_validate(raw)
                infos.append(
                    ApiKeyInfo(
                        key_id=key_id,
                        name=rec.name,
                        scopes=sorted(rec.scope_set),
                        rep=rec.rep or None,
                        created_at=rec.created_at,
                    )
                )
        return infos

    async def count(self) -> int:
        return int(await self._redis.scard(self._keys.api_key_index()))

    async def revoke(self, key_id: str) -> bool:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.delete(self._keys.api_key(key_id))
            pipe.srem(self._keys.api_key_index(), key_id)
            deleted, _ = await pipe.execute()
        return bool(deleted)

    async def authenticate(self, token: str) -> Principal | None:
        if self._admin is not None and hmac.compare_digest(token.encode(), self._admin):
            return bootstrap_principal()
        match = _TOKEN.match(token)
        if match is None:
            return None
        key_id = match.group(1)
        raw = text_map(await self._redis.hgetall(self._keys.api_key(key_id)))
        if not raw:
            return None
        rec = _Stored.model_validate(raw)
        if not hmac.compare_digest(rec.hash, _digest(token)):
            return None
        return Principal(key_id=key_id, name=rec.name, scopes=rec.scope_set, rep=rec.rep or None)
