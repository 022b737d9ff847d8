"""The Redis cache (REDIS_URL): shared by many instances, every operation atomic on the server."""
from __future__ import annotations

from collections.abc import Awaitable
from typing import TypeVar, cast

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from app.common.cache.base import Cache, CacheUnavailable

_T = TypeVar("_T")

# INCR and set the window's expiry in one step, so a counter can never be left without one.
_INCR = """
local n = redis.call('INCRBY', KEYS[1], ARGV[2])
if redis.call('PTTL', KEYS[1]) < 0 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return n
"""

# Take back from a live counter only, never below zero; DECRBY keeps the key's expiry.
_DECR = """
local n = tonumber(redis.call('GET', KEYS[1]))
if not n then return 0 end
return redis.call('DECRBY', KEYS[1], math.min(n, tonumber(ARGV[1])))
"""

# Compare-and-set: the value is replaced (with a new expiry) only while it is the expected one.
_SWAP = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
  return 1
end
return 0
"""


class RedisCache(Cache):
    """A Redis outage raises CacheUnavailable (answered 503), never a skipped check."""

    def __init__(self, url: str, prefix: str = "login_api:"):
        self._redis = aioredis.Redis.from_url(url, decode_responses=True, socket_timeout=2,
                                              socket_connect_timeout=2)
        self._prefix = prefix
        self._incr = self._redis.register_script(_INCR)
        self._decr = self._redis.register_script(_DECR)
        self._swap = self._redis.register_script(_SWAP)

    async def _call(self, awaitable: Awaitable[_T]) -> _T:
        try:
            return await awaitable
        except (RedisError, OSError) as exc:
            raise CacheUnavailable(f"redis: {exc}") from None

    async def add(self, key: str, value: str, ttl: int) -> bool:
        return bool(await self._call(self._redis.set(self._prefix + key, value, ex=ttl, nx=True)))

    async def get(self, key: str) -> str | None:
        # decode_responses=True: Redis answers str, where the client's types allow bytes | str.
        return cast("str | None", await self._call(self._redis.get(self._prefix + key)))

    async def set(self, key: str, value: str, ttl: int) -> None:
        await self._call(self._redis.set(self._prefix + key, value, ex=ttl))

    async def delete(self, key: str) -> bool:
        return bool(await self._call(self._redis.delete(self._prefix + key)))

    async def incr(self, key: str, ttl: int, amount: int = 1) -> int:
        return int(await self._call(self._incr(keys=[self._prefix + key], args=[ttl, amount])))

    async def decr(self, key: str, amount: int = 1) -> int:
        return int(await self._call(self._decr(keys=[self._prefix + key], args=[amount])))

    async def ttl(self, key: str) -> int:
        left = await self._call(self._redis.ttl(self._prefix + key))
        return max(0, int(left))

    async def swap(self, key: str, expected: str, value: str, ttl: int) -> bool:
        return bool(await self._call(self._swap(keys=[self._prefix + key], args=[expected, value, ttl])))

    async def close(self) -> None:
        await self._redis.aclose()
