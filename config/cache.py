"""Cache: short-lived shared state (replay cache, counters, locks), ThinkPHP's config/cache."""
from config.setting import Setting

SETTINGS = [
    Setting("REDIS_URL", "", str, "shared state (nonces, limits, locks) in Redis for many workers or instances"),
    # Several services (or test runs) can share one Redis database under different prefixes.
    Setting("REDIS_PREFIX", "login_api:", str, "prefix of every Redis key this service writes"),
    # Not user data: an LMDB file of its own that does not sync to disk on every write.
    Setting("CACHE_PATH", "", str,
            "LMDB file of the short-lived state when REDIS_URL is unset and the database is SQLite, "
            "with its lock file `<path>-lock` beside it (default `runtime/cache.lmdb`)"),
    # Address space, not disk: the file grows with its entries. About 100 bytes a nonce: 4 GiB holds
    # the nonces of 10,000 signed requests a second over the default 10-minute replay span six times.
    Setting("CACHE_MAP_SIZE", 4096, int,
            "largest size of the CACHE_PATH file, in MiB; when it is full, requests answer 503"),
]
