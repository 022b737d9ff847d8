"""The service as the benchmarks run it: its settings, its bench user and the rows its database starts with.

Every service process gets known secrets, a RUNTIME_DIR of its own and none of the developer's
settings; users are made the supported way (`python server.py user:create`), and bulk rows
(extra login accounts, live token rows) go straight into its SQLite file before it starts.
"""
from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from processes import ROOT

SIGN_SECRET = "bench-sign-secret-0123456789abcdef"
JWT_SECRET = "bench-jwt-secret-0123456789abcdef0123456789abcdef"
ACCOUNT, PHONE, PASSWORD = "bench", "13800000000", "bench_pass_123456"
# Settings a developer's shell or .env might carry, which must not leak into the servers.
ENV_PREFIXES = ("APP_", "SIGN_", "JWT_", "DATABASE_", "REDIS_", "CACHE_", "AUTH_", "TOKEN_", "REFRESH_",
                "PASSWORD_", "LOGIN_", "SMS_", "CAPTCHA_", "DB_", "LOG_", "RUNTIME_", "VERSIONS",
                "DEFAULT_VERSION", "MAX_BODY", "TRUSTED_", "PHONE_")


# Settings for every service process of this run (--server-env JWT_ALG=EdDSA), to compare configurations.
EXTRA_SERVER_ENV: dict[str, str] = {}


def server_env(runtime: Path, **settings: Any) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(ENV_PREFIXES)}
    env.update(RUNTIME_DIR=str(runtime), SIGN_SECRET=SIGN_SECRET, JWT_SECRET=JWT_SECRET, LOG_LEVEL="warning",
               DATABASE_URL="", REDIS_URL="", CACHE_PATH="", APP_DEBUG="0")
    env.update(EXTRA_SERVER_ENV)
    env.update({k: str(v) for k, v in settings.items()})
    return env


def admin(runtime: Path, *args: str, **settings: Any) -> str:
    """Run `python server.py ARGS` (an admin command) on the runtime folder; its output."""
    done = subprocess.run([sys.executable, str(ROOT / "server.py"), *args], cwd=ROOT,
                          env=server_env(runtime, **settings), capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise RuntimeError(f"server.py {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    return done.stdout


def create_user(runtime: Path) -> int:
    """The bench user, made with `python server.py user:create` (which also creates the schema)."""
    out = admin(runtime, "user:create", "--account", ACCOUNT, "--phone", PHONE, "--password", PASSWORD)
    match = re.search(r"user (\d+)", out)
    if not match:
        raise RuntimeError(f"unexpected user:create output: {out!r}")
    return int(match.group(1))


def login_account(k: int) -> str:
    """The k-th login account: `bench`, then `bench_1`, `bench_2`, ... (same password)."""
    return ACCOUNT if k == 0 else f"{ACCOUNT}_{k}"


def add_login_accounts(db_path: Path, uid: int, count: int) -> None:
    """Accounts 1..count-1 beside user `uid`, copies of its row (so of its password hash), so that
    logins spread over accounts as real ones do instead of all queueing on one account's counters."""
    with sqlite3.connect(db_path) as conn:
        columns = [row[1] for row in conn.execute("PRAGMA table_info(users)") if row[1] != "id"]
        phone = int(PHONE)
        for k in range(1, count):
            # `phone` holds a blind index (SPEC §13.3): a unique 32-hex stand-in; they log in by account.
            values = {"account": login_account(k), "account_key": login_account(k), "phone": f"{phone + k:032x}"}
            names = ", ".join(f'"{c}"' for c in columns)
            picked = ", ".join("?" if c in values else f'"{c}"' for c in columns)
            conn.execute(f"INSERT INTO users ({names}) SELECT {picked} FROM users WHERE id = ?",
                         [values[c] for c in columns if c in values] + [uid])


def add_token_rows(db_path: Path, count: int, uid: int) -> float:
    """`count` live rows in auth_token, inserted directly; the indexes are rebuilt after (fast)."""
    started = time.monotonic()
    conn = sqlite3.connect(db_path, isolation_level=None)
    try:
        conn.execute("PRAGMA synchronous=OFF")
        conn.execute("PRAGMA cache_size=-400000")
        indexes = conn.execute("SELECT name, sql FROM sqlite_master WHERE type='index' AND tbl_name='auth_token' "
                               "AND sql IS NOT NULL").fetchall()
        now = int(time.time())
        urandom = os.urandom

        def rows():
            # Shaped as the drivers store them: sha256 hex of md5-driver tokens, 32-hex jti of JWTs
            # (an access and a refresh row per session), all live for 30 days.
            for k in range(count):
                kind = ("md5", "access", "refresh")[k % 3]
                key = urandom(32).hex() if kind == "md5" else urandom(16).hex()
                yield key, kind, uid, urandom(16).hex(), now, now + 30 * 86400, 0

        conn.execute("BEGIN")
        for name, _ in indexes:
            conn.execute(f'DROP INDEX "{name}"')
        conn.executemany("INSERT INTO auth_token (token_key, kind, uid, sid, issued_at, expire_at, revoked) "
                         "VALUES (?, ?, ?, ?, ?, ?, ?)", rows())
        for _, sql in indexes:
            conn.execute(sql)
        conn.execute("COMMIT")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.execute("ANALYZE")
    finally:
        conn.close()
    return time.monotonic() - started

