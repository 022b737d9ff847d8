"""Authentication: token drivers, lifetimes, password hashing cost, login answers."""
from config.setting import Setting

SETTINGS = [
    Setting("AUTH_DRIVER", "md5", str, "the token driver of `/{ver}/login`: `md5` or `jwt`"),
    Setting("TOKEN_TTL", 7200, int, "lifetime of an md5 token in seconds"),
    Setting("JWT_SECRET", "", str,
            "HS256 key (at least 32 bytes); generated into `runtime/secrets/` on first start", secret=True),
    # HS256 is a shared secret; the others publish public keys at /.well-known/jwks.json so other
    # services verify tokens without it. Their keys are made into runtime/secrets/jwt/ on first start.
    Setting("JWT_ALG", "HS256", str, "JWT signing algorithm: `HS256`, `EdDSA`, `ES256` or `RS256`"),
    # Checked on every token; a token of another issuer (or without one) is refused.
    Setting("JWT_ISSUER", "login-api", str, "the `iss` claim of every JWT"),
    Setting("JWT_AUDIENCE", "", str, "the `aud` claim of every JWT, checked when set"),
    Setting("JWT_TTL", 86400, int, "lifetime of an access JWT in seconds"),
    Setting("REFRESH_TTL", 2592000, int, "lifetime of a refresh JWT in seconds"),
    # Clocks of other services may drift; 0 keeps expiry exact.
    Setting("JWT_LEEWAY", 0, int, "seconds of leeway when checking a JWT's expiry"),
    # argon2id; OWASP's minimum is 19 MiB, 2 iterations, parallelism 1. Raising these rehashes on next login.
    Setting("PASSWORD_TIME_COST", 2, int, "argon2id iterations"),
    Setting("PASSWORD_MEMORY_COST", 19456, int, "argon2id memory in KiB"),
    Setting("PASSWORD_PARALLELISM", 1, int, "argon2id lanes"),
    # Hashes run in their own small thread pool so logins cannot starve other requests.
    Setting("PASSWORD_HASH_WORKERS", 1, int, "password hashes computed at once per worker process"),
    # The seed answers 60009 for an unknown user, which tells strangers who has an account.
    Setting("LOGIN_REVEAL_UNKNOWN", False, bool,
            "`1` answers an unknown user with 60009 (v1) / 用户不存在 instead of the wrong-password answer"),
    # SPEC §11: what a new login does to the user's other sessions.
    Setting("SESSION_POLICY", "multi", str,
            "`multi` (any number of sessions), `single` (a login ends the user's other sessions) or "
            "`per_platform` (ends those of the same platform)"),
    # Rotation uses up each refresh token; a reused one (after the grace) ends its session.
    Setting("REFRESH_ROTATE", False, bool,
            "`1` makes every `login/jwt/refresh` rotate: it answers `{jwt, refresh_jwt}` and uses up the refresh token "
            "presented"),
    # A client that lost the answer may retry within this many seconds and gets the same pair.
    Setting("REFRESH_REUSE_GRACE", 10, int,
            "seconds in which a rotated refresh token presented again answers the same new pair"),
    # Refresh without rotation keeps this many live access tokens per session; older ones are revoked.
    Setting("REFRESH_LIMIT", 60, int, "live access tokens per session; refreshing past it revokes the oldest"),
]
