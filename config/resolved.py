"""The resolved settings: one typed, frozen attribute per key of the config modules.

Names, defaults and docs stay in the config modules' `SETTINGS` lists (the README's table is
rendered from them); this class only says each key's type after `load_settings()` has cast and
derived it. tests/unit/test_config_types.py checks that the two never drift apart.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from ipaddress import IPv4Network, IPv6Network
from pathlib import Path


# slots: attribute reads on the request path cost what a plain instance's do; frozen: a service
# cannot change a setting under the others' feet (assignment raises FrozenInstanceError);
# eq=False: compared and hashed by identity, as before (its lists and dicts are not hashable).
@dataclass(frozen=True, slots=True, kw_only=True, repr=False, eq=False)
class Settings:
    """Resolved settings: attribute access by key name (`settings.APP_DEBUG`)."""

    # config/app.py
    APP_DEBUG: bool
    APP_TIMEZONE: str
    VERSIONS: list[str]  # parsed from "v1,v2", lowercased
    DEFAULT_VERSION: str
    RUNTIME_DIR: str  # made absolute under the project root
    MAX_BODY_SIZE: int
    LOG_LEVEL: str
    LOG_FORMAT: str
    HTTP_COALESCE_WRITES: bool
    # config/database.py
    DATABASE_URL: str
    DB_BUSY_TIMEOUT: int
    # config/cache.py
    REDIS_URL: str
    REDIS_PREFIX: str
    CACHE_PATH: str
    CACHE_MAP_SIZE: int
    # config/sign.py
    SIGN_REQUIRED: bool
    SIGN_SECRET: str
    SIGN_APPS: dict[str, str]  # appid → secret
    SIGN_APP_METHODS: dict[str, str]  # derived from SIGN_APPS: appid → the one method it may use
    SIGN_METHODS: frozenset[str]
    SIGN_WINDOW: int
    PASSWORD_TRANSPORT: str
    RSA_KEY_TTL: int
    # config/auth.py
    AUTH_DRIVER: str
    TOKEN_TTL: int
    JWT_SECRET: str
    JWT_ALG: str
    JWT_ISSUER: str
    JWT_AUDIENCE: str
    JWT_TTL: int
    REFRESH_TTL: int
    JWT_LEEWAY: int
    PASSWORD_TIME_COST: int
    PASSWORD_MEMORY_COST: int
    PASSWORD_PARALLELISM: int
    PASSWORD_HASH_WORKERS: int
    LOGIN_REVEAL_UNKNOWN: bool
    SESSION_POLICY: str
    REFRESH_ROTATE: bool
    REFRESH_REUSE_GRACE: int
    REFRESH_LIMIT: int
    # config/sms.py
    SMS_TTL: int
    SMS_DRIVER: str
    SMS_WEBHOOK_URL: str
    SMS_WEBHOOK_TIMEOUT: int
    SMS_DAILY_LIMIT: int
    SMS_VERIFY_ATTEMPTS: int
    PHONE_PATTERN: str
    SMS_LOGIN_REGISTER: bool
    # config/security.py
    TRUSTED_PROXIES: list[IPv4Network | IPv6Network]
    LOGIN_CAPTCHA_AFTER: int
    LOGIN_LOCK_AFTER: int
    LOGIN_WINDOW: int
    LOGIN_LOCK_STEPS: list[int]  # seconds, parsed from "60,300,900"
    LOGIN_IP_LIMIT: int
    SMS_IP_LIMIT: int
    SMS_VERIFY_IP_LIMIT: int
    SMS_HOURLY_LIMIT: int
    SMS_CAPTCHA: bool
    DATA_KEY: str
    CAPTCHA_TTL: int
    CAPTCHA_TEST_ANSWER: str
    # config/qrlogin.py
    QR_LOGIN_TTL: int
    QR_LOGIN_URL: str
    MEMBER_CODE_TTL: int
    # config/operations.py
    METRICS_ENABLED: bool
    METRICS_TOKEN: str
    READY_TIMEOUT: float
    # config/events.py
    WEBHOOK_URL: str
    WEBHOOK_SECRET: str
    WEBHOOK_TIMEOUT: float
    WEBHOOK_RETRY_MIN: float
    WEBHOOK_RETRY_MAX: float
    EVENTS_LEASE_TTL: float
    EVENTS_POLL: float

    # Not keys: where each generated-or-read secret lives, and which of them this start wrote
    # (first start), so the log says "generated", not "read".
    secret_files: dict[str, Path] = field(default_factory=dict)
    generated_secrets: frozenset[str] = frozenset()

    def __repr__(self) -> str:  # never show secrets in a log or a traceback
        return f"<Settings debug={self.APP_DEBUG} db={self.DATABASE_URL!r}>"
