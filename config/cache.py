"""Cache: short-lived shared state (replay cache, counters, locks), ThinkPHP's config/cache."""
from config.setting import Setting

SETTINGS = [
    Setting("REDIS_URL", "", str, "shared state (nonces, limits, locks) in Redis for many workers or instances"),
    # Several services (or test runs) can share one Redis database under different prefixes.
    Setting("REDIS_PREFIX", "login_api:", str, "prefix of every Redis key this service writes"),
    # Not user data: a separate SQLite file that does not sync to disk on every write.
    Setting("CACHE_PATH", "", str, "SQLite file of the short-lived state when REDIS_URL is unset, with `-1` … `-7` shards beside it (default `runtime/cache.db`)"),
]
