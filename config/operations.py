"""Operations: health and readiness, Prometheus metrics (README "Operations")."""
from config.setting import Setting

SETTINGS = [
    # Off: no per-request counting at all, and /metrics answers 404.
    Setting("METRICS_ENABLED", True, bool, "count requests, logins, SMS, tokens and lockouts for `GET /metrics`"),
    # Loopback and TRUSTED_PROXIES may always read /metrics; anyone else needs this bearer token.
    Setting("METRICS_TOKEN", "", str,
            "bearer token that lets other addresses read `/metrics` (empty: only loopback and TRUSTED_PROXIES)"),
    # A database or cache slower than this counts as not answering.
    Setting("READY_TIMEOUT", 2.0, float, "seconds `/ready` waits for the database and the cache"),
]
