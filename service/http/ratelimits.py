"""Rate limits on Redis, with the ``limits`` library: per API key, and per client address
for failed authentication.

``limits`` offers windows rather than a token bucket: a sliding window of ``burst``
requests over ``burst / rate`` seconds allows the burst at once and the rate sustained,
which is what a bucket of that size filled at that rate allows.
"""

from __future__ import annotations

import math
import time
from typing import Any

import redis.asyncio as aioredis
from limits import RateLimitItem, RateLimitItemPerMinute, RateLimitItemPerSecond
from limits.aio.storage import RedisClusterStorage, RedisStorage
from limits.aio.strategies import SlidingWindowCounterRateLimiter

from service.http.problems import ProblemError
from service.store.keynames import KeySchema


class RateLimited(ProblemError):
    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(
            429, detail, slug="rate-limited", headers={"Retry-After": str(retry_after)}
        )


class RateLimits:
    def __init__(
        self,
        redis: aioredis.Redis,
        keys: KeySchema,
        *,
        per_second: float,
        burst: int,
        failures_per_minute: int,
        cluster_url: str | None = None,
    ) -> None:
        storage: RedisStorage | RedisClusterStorage
        if cluster_url is not None:
            # limits' cluster storage makes its own cluster client (it takes no pool).
            secure = cluster_url.startswith("rediss://")
            storage = RedisClusterStorage(
                "async+redis+cluster://" + cluster_url.split("://", 1)[1],
                implementation="redispy",
                key_prefix=keys.rate_limits(),
                **({"ssl": True} if secure else {}),
            )
        else:
            # Our pool, not a connection of its own: one client, one set of timeouts.
            pool: Any = redis.connection_pool  # limits types its options narrowly
            storage = RedisStorage(
                "async+redis://",
                implementation="redispy",
                connection_pool=pool,
                key_prefix=keys.rate_limits(),
            )
        self._limiter = SlidingWindowCounterRateLimiter(storage)
        window = max(1, math.ceil(burst / per_second))
        self._per_key = RateLimitItemPerSecond(burst, window)
        self._failures = RateLimitItemPerMinute(failures_per_minute)

    async def request(self, key_id: str) -> None:
        """Count a request made with an API key; ``RateLimited`` past its limit."""
        await self._hit(
            self._per_key,
            ("key", key_id),
            "This key is over its rate limit (SOCIALID_RATE_LIMIT_PER_SECOND, "
            "SOCIALID_RATE_LIMIT_BURST): slow down.",
        )

    async def failure(self, address: str) -> None:
        """Count a failed authentication from an address; ``RateLimited`` past the limit."""
        await self._hit(
            self._failures,
            ("auth", address),
            "Too many failed authentications from this address: wait, and check the credentials.",
        )

    async def _hit(self, item: RateLimitItem, who: tuple[str, str], detail: str) -> None:
        if not await self._limiter.hit(item, *who):
            raise RateLimited(detail, await self._retry_after(item, *who))

    async def _retry_after(self, item: RateLimitItem, *identifiers: str) -> int:
        stats = await self._limiter.get_window_stats(item, *identifiers)
        return max(1, math.ceil(stats.reset_time - time.time()))
