"""Short-lived shared state behind one interface (ThinkPHP's Cache facade)."""
from app.common.cache.base import Cache, CacheUnavailable
from app.common.cache.factory import make_cache

__all__ = ["Cache", "CacheUnavailable", "make_cache"]
