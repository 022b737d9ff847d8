"""The default cache: a SQLite file of its own under runtime/, WAL, no sync on every write.

It is not user data (a lost nonce after a power cut only means a replay window of one
SIGN_WINDOW), so it trades durability for a write that costs microseconds. Calls run inline
on the event loop: each is a single indexed statement, cheaper than a thread hop.
"""
from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

from app.common.cache.base import Cache

_SCHEMA = """
CREATE TABLE IF NOT EXISTS cache (key TEXT PRIMARY KEY, value TEXT NOT NULL, expire_at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS cache_expire_at ON cache (expire_at);
"""
_ADD = ("INSERT INTO cache (key, value, expire_at) VALUES (?, ?, ?) "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value, expire_at = excluded.expire_at "
        "WHERE cache.expire_at <= ?")
_SET = ("INSERT INTO cache (key, value, expire_at) VALUES (?, ?, ?) "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value, expire_at = excluded.expire_at")
_INCR = ("INSERT INTO cache (key, value, expire_at) VALUES (?, CAST(? AS TEXT), ?) "
         "ON CONFLICT (key) DO UPDATE SET "
         "value = CASE WHEN cache.expire_at <= ? THEN excluded.value "
         "ELSE CAST(CAST(cache.value AS INTEGER) + CAST(excluded.value AS INTEGER) AS TEXT) END, "
         "expire_at = CASE WHEN cache.expire_at <= ? THEN excluded.expire_at ELSE cache.expire_at END "
         "RETURNING value")
_GET = "SELECT value, expire_at FROM cache WHERE key = ? AND expire_at > ?"
_DELETE = "DELETE FROM cache WHERE key = ? AND expire_at > ?"
_PURGE = "DELETE FROM cache WHERE expire_at <= ?"
# Expired rows are swept every this many writes, so the file stays small without a timer.
_PURGE_EVERY = 2000


class SqliteCache(Cache):
    """Shared by every worker on this machine through one file."""

    def __init__(self, path: str, busy_timeout_ms: int = 5000):
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False,
                                     timeout=busy_timeout_ms / 1000)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=OFF")
        self._conn.executescript(_SCHEMA)
        # The connection is shared by the event loop and, rarely, test threads.
        self._lock = threading.Lock()
        self._writes = 0

    def _write(self, sql: str, params: tuple) -> sqlite3.Cursor:
        with self._lock:
            self._writes += 1
            if self._writes % _PURGE_EVERY == 0:
                self._conn.execute(_PURGE, (time.time(),))
            return self._conn.execute(sql, params)

    async def add(self, key: str, value: str, ttl: int) -> bool:
        now = time.time()
        return self._write(_ADD, (key, value, now + ttl, now)).rowcount == 1

    async def get(self, key: str) -> str | None:
        with self._lock:
            row = self._conn.execute(_GET, (key, time.time())).fetchone()
        return row[0] if row else None

    async def set(self, key: str, value: str, ttl: int) -> None:
        self._write(_SET, (key, value, time.time() + ttl))

    async def delete(self, key: str) -> bool:
        return self._write(_DELETE, (key, time.time())).rowcount == 1

    async def incr(self, key: str, ttl: int, amount: int = 1) -> int:
        now = time.time()
        with self._lock:
            self._writes += 1
            row = self._conn.execute(_INCR, (key, amount, now + ttl, now, now)).fetchone()
        return int(row[0])

    async def ttl(self, key: str) -> int:
        with self._lock:
            row = self._conn.execute(_GET, (key, time.time())).fetchone()
        return max(0, int(row[1] - time.time() + 0.999)) if row else 0

    async def close(self) -> None:
        with self._lock:
            self._conn.close()
