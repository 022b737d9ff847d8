"""The default cache: SQLite files of its own under runtime/, WAL, no sync on every write.

It is not user data (a lost nonce after a power cut only means a replay window of one
SIGN_WINDOW), so it trades durability for a write that costs microseconds. Calls run inline
on the event loop: each is a single indexed statement, cheaper than a thread hop.

SQLite has one writer per file, and every signed request writes a nonce, so workers would
queue on one file. Keys are spread over SHARDS files by a hash (every operation touches one
key, so each stays atomic), and two workers rarely want the same file at once.
"""
from __future__ import annotations

import sqlite3
import threading
import time
import zlib
from pathlib import Path

from app.common.cache.base import Cache

# No index on expire_at: it would cost every write a third page. Rows sit in rowid order, which
# is insertion order, so the oldest (and first expired) are found at the front of a plain scan.
_SCHEMA = """
CREATE TABLE IF NOT EXISTS cache (key TEXT PRIMARY KEY, value TEXT NOT NULL, expire_at REAL NOT NULL);
DROP INDEX IF EXISTS cache_expire_at;
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
_PURGE = "DELETE FROM cache WHERE rowid IN (SELECT rowid FROM cache WHERE expire_at <= ? LIMIT 500)"
# Expired rows are swept, a few hundred at a time, every this many writes: the file stays small
# without a timer, and no sweep holds the event loop for long.
_PURGE_EVERY = 250
# A write holds the lock for microseconds. SQLite's own busy handler sleeps 1 ms, then 2, 5 …
# before it looks again, which costs every worker far more than the wait; retrying from 50 µs,
# doubling up to 5 ms, keeps several workers writing one file at full speed.
_FIRST_WAIT = 0.00005
_LONGEST_WAIT = 0.005
SHARDS = 8


def shard_paths(path: str) -> list[str]:
    """CACHE_PATH itself, then `<stem>-1<suffix>` … for the other shards."""
    base = Path(path)
    return [path] + [str(base.with_name(f"{base.stem}-{i}{base.suffix}")) for i in range(1, SHARDS)]


class _Shard:
    """One cache file and this process's connection to it."""

    def __init__(self, path: str, busy_timeout_ms: int):
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.conn.execute("PRAGMA busy_timeout=0")  # waits are ours: see execute
        self.busy_budget = max(busy_timeout_ms / 1000, 10)
        # Workers start together: switching to WAL and creating the table may meet a lock too.
        for statement in ("PRAGMA journal_mode=WAL", "PRAGMA synchronous=OFF", *_SCHEMA.strip().splitlines()):
            self.execute(statement, ())
        self.busy_budget = busy_timeout_ms / 1000
        # The connection is shared by the event loop and, rarely, test threads.
        self.lock = threading.Lock()
        self.writes = 0

    def execute(self, sql: str, params: tuple) -> sqlite3.Cursor:
        wait, waited = _FIRST_WAIT, 0.0
        while True:
            try:
                return self.conn.execute(sql, params)
            except sqlite3.OperationalError as exc:
                if ("locked" not in str(exc) and "busy" not in str(exc)) or waited >= self.busy_budget:
                    raise
            time.sleep(wait)
            waited += wait
            wait = min(wait * 2, _LONGEST_WAIT)

    def write(self, sql: str, params: tuple) -> sqlite3.Cursor:
        """Run a write under the lock; the caller reads its result before releasing (see fetch)."""
        self.writes += 1
        if self.writes % _PURGE_EVERY == 0:
            self.execute(_PURGE, (time.time(),))
        return self.execute(sql, params)


class SqliteCache(Cache):
    """Shared by every worker on this machine through SHARDS files."""

    def __init__(self, path: str, busy_timeout_ms: int = 5000):
        self._shards = [_Shard(p, busy_timeout_ms) for p in shard_paths(path)]

    def _shard(self, key: str) -> _Shard:
        return self._shards[zlib.crc32(key.encode("utf-8")) % len(self._shards)]

    async def add(self, key: str, value: str, ttl: int) -> bool:
        now, shard = time.time(), self._shard(key)
        with shard.lock:
            return shard.write(_ADD, (key, value, now + ttl, now)).rowcount == 1

    async def get(self, key: str) -> str | None:
        shard = self._shard(key)
        with shard.lock:
            row = shard.execute(_GET, (key, time.time())).fetchone()
        return row[0] if row else None

    async def set(self, key: str, value: str, ttl: int) -> None:
        shard = self._shard(key)
        with shard.lock:
            shard.write(_SET, (key, value, time.time() + ttl))

    async def delete(self, key: str) -> bool:
        shard = self._shard(key)
        with shard.lock:
            return shard.write(_DELETE, (key, time.time())).rowcount == 1

    async def incr(self, key: str, ttl: int, amount: int = 1) -> int:
        now, shard = time.time(), self._shard(key)
        with shard.lock:
            row = shard.write(_INCR, (key, amount, now + ttl, now, now)).fetchone()
        return int(row[0])

    async def ttl(self, key: str) -> int:
        shard = self._shard(key)
        with shard.lock:
            row = shard.execute(_GET, (key, time.time())).fetchone()
        return max(0, int(row[1] - time.time() + 0.999)) if row else 0

    async def close(self) -> None:
        for shard in self._shards:
            with shard.lock:
                shard.conn.close()
