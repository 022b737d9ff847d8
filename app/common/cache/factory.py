"""Choose the cache from settings: Redis when REDIS_URL is set, else the local SQLite file."""
from __future__ import annotations

from typing import Any

from app.common.cache.base import Cache


def make_cache(settings: Any) -> Cache:
    """The cache the settings ask for."""
    if settings.REDIS_URL:
        from app.common.cache.redis import RedisCache
        return RedisCache(settings.REDIS_URL)
    from app.common.cache.sqlite import SqliteCache
    return SqliteCache(settings.CACHE_PATH, busy_timeout_ms=settings.DB_BUSY_TIMEOUT)
