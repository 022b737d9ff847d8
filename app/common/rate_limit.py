"""Counters with a window in the shared cache, and the 429 answer when one is full."""
from __future__ import annotations

from app.common.cache.base import Cache
from app.common.error import ApiException

# The window of every per-hour limit (per address, per account, SMS in total).
HOUR = 3600


class RateLimiter:
    def __init__(self, cache: Cache):
        self.cache = cache

    async def refuse(self, key: str, error: str) -> None:
        """Raise `error` (HTTP 429) with the seconds until counter `key` starts over."""
        wait = max(1, await self.cache.ttl(key))
        raise ApiException(error, headers={"Retry-After": str(wait)})

    async def check(self, key: str, limit: int, error: str) -> None:
        """Refuse with `error` (HTTP 429, Retry-After) while counter `key` stands at `limit` or more."""
        count = await self.cache.get(key)
        if count is not None and int(count) >= limit:
            await self.refuse(key, error)

    async def hit(self, key: str, limit: int, window: int, error: str) -> None:
        """Count one use and refuse it if it is past `limit`: atomic, so parallel uses cannot overshoot."""
        if await self.cache.incr(key, window) > limit:
            await self.refuse(key, error)

    async def take(self, key: str, limit: int, window: int, error: str) -> None:
        """Take one slot of counter `key` before the work it guards; past `limit`, give it back and
        refuse with `error`. Taken up front, a parallel burst cannot pass the limit; the caller gives
        the slot back (give_back) when the work turns out not to count."""
        if await self.cache.incr(key, window) > limit:
            await self.give_back(key, window)
            await self.refuse(key, error)

    async def give_back(self, key: str, window: int | None = None) -> None:
        """Return a slot taken with take() or count(). A counter whose window ended meanwhile is left
        alone, so a give-back never opens a window (`window` is not needed for that; kept for callers)."""
        await self.cache.decr(key)

    async def count(self, key: str, window: int, amount: int = 1) -> int:
        """Count an event (a failure) without refusing anything."""
        return await self.cache.incr(key, window, amount)
