"""Fitted model parameters in Redis, by version; one of them is active.

The resolvers of every process read the active version with each candidate fetch (in the
same script call), so activating or rolling back a version takes effect everywhere
without a restart.
"""

from __future__ import annotations

import time

import redis.asyncio as aioredis

from matchers.model import DEFAULT_PARAMS, ModelParams
from service.store.keynames import KeySchema
from service.store.redistypes import members, text_or_none


class UnknownVersion(LookupError):
    pass


class VersionExists(ValueError):
    """A version's parameters are written once: every process keeps the active version's
    parameters once loaded, and reloads them only when the active version's name changes."""


class ModelStore:
    def __init__(self, redis: aioredis.Redis, keys: KeySchema) -> None:
        self._redis = redis
        self._keys = keys

    async def save(self, params: ModelParams) -> None:
        key = self._keys.model_params(params.version)
        if not await self._redis.set(key, params.model_dump_json(), nx=True):
            raise VersionExists(params.version)
        await self._redis.zadd(self._keys.model_versions(), {params.version: time.time()})

    async def load(self, version: str) -> ModelParams:
        """A stored version; "" is the shipped defaults."""
        if not version:
            return DEFAULT_PARAMS
        raw = text_or_none(await self._redis.get(self._keys.model_params(version)))
        if raw is None:
            raise UnknownVersion(version)
        return ModelParams.model_validate_json(raw)

    async def activate(self, version: str) -> None:
        """Make a stored version active; "" goes back to the shipped defaults."""
        if version:
            await self.load(version)
            await self._redis.set(self._keys.model_active(), version)
        else:
            await self._redis.delete(self._keys.model_active())

    async def active_version(self) -> str:
        return text_or_none(await self._redis.get(self._keys.model_active())) or ""

    async def versions(self) -> list[str]:
        return members(await self._redis.zrange(self._keys.model_versions(), 0, -1))
