"""Choose the cache: Redis when REDIS_URL is set, else a local LMDB file beside a SQLite database, else the main database."""
from __future__ import annotations

from typing import Any

from app.common.cache.base import Cache


def make_cache(settings: Any) -> Cache:
    """The cache the settings ask for."""
    if settings.REDIS_URL:
        from app.common.cache.redis import RedisCache
        return RedisCache(settings.REDIS_URL, settings.REDIS_PREFIX)
    if settings.DATABASE_URL.startswith("sqlite"):
        from app.common.cache.lmdb import LmdbCache
        return LmdbCache(settings.CACHE_PATH, map_size_mb=settings.CACHE_MAP_SIZE)
    # Several instances on one MySQL/PostgreSQL share state through it when there is no Redis.
    from app.common.cache.database import DatabaseCache
    return DatabaseCache()
