"""Choose the cache: Redis when REDIS_URL is set, else a local LMDB file beside a SQLite database, else the
main database."""
from __future__ import annotations

from app.common.cache.base import Cache
from app.common.clock import SYSTEM_CLOCK, Clock
from config import Settings


def make_cache(settings: Settings, identity: str, clock: Clock = SYSTEM_CLOCK) -> Cache:
    """The cache the settings ask for, its keys under the identity of the database they belong to.

    A runtime folder or a Redis may serve several databases (a second SQLite file, a restored
    backup, staging beside production): the identity keeps each one's locks and counters its own.
    Redis keeps its own time (its TTLs); the local caches read `clock`.
    """
    prefix = f"{identity}:"
    if settings.REDIS_URL:
        from app.common.cache.redis import RedisCache
        return RedisCache(settings.REDIS_URL, settings.REDIS_PREFIX + prefix)
    if settings.DATABASE_URL.startswith("sqlite"):
        from app.common.cache.lmdb import LmdbCache
        return LmdbCache(settings.CACHE_PATH, map_size_mb=settings.CACHE_MAP_SIZE, prefix=prefix, clock=clock)
    # Several instances on one MySQL/PostgreSQL share state through it when there is no Redis.
    from app.common.cache.database import DatabaseCache
    return DatabaseCache(prefix, clock)
