"""The default cache: an LMDB file of its own under runtime/, shared by every worker on this machine.

Every signed request writes its nonce here, so this write is on the hot path of the whole
service. LMDB is a memory-mapped B-tree made for many processes: readers take no lock, writers
take turns on a robust process-shared mutex (a writer killed mid-transaction does not wedge the
others), and a write transaction costs a few microseconds, where an SQLite commit in WAL mode
costs 15-30. Each operation below is one write transaction, so it is atomic across workers and
across instances that share the runtime directory.

It is not user data, so commits write into the shared memory map and never wait for the disk
(writemap, sync=False): a killed process loses nothing (its writes are in the OS's pages), but
after a power cut or a kernel crash the file may be torn. So the file belongs to one boot of the
machine: the boot id (/proc/sys/kernel/random/boot_id) is kept beside it, and the first process
of a new boot starts the cache afresh. After a reboot, nonces, counters and lockouts start over;
the reboot itself outlasts most of a SIGN_WINDOW. Where no boot id can be read, the map is not
written directly (LMDB then keeps the file consistent through a crash, at some cost per write).

Values are stored as an 8-byte big-endian expiry (Unix seconds, a double) followed by the value
in UTF-8. Expired entries are swept _SWEEP_BATCH at a time every _SWEEP_EVERY writes, each
process resuming where its last sweep stopped. Looking at r entries per write keeps the file
within r/(r-1) times its live entries (here r = 2: twice) without an expiry index, which would
double the cost of every write; the sweep costs about 1 µs a write.
"""
from __future__ import annotations

import fcntl
import logging
import os
import struct
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeAlias, TypeVar, TypeVarTuple

import lmdb

from app.common.cache.base import LONGEST_KEY, Cache, CacheUnavailable, stored_key
from app.common.clock import SYSTEM_CLOCK, Clock

log = logging.getLogger("login_api.cache")
_EXPIRY = struct.Struct(">d")
_SWEEP_EVERY = 128
_SWEEP_BATCH = 256
_T = TypeVar("_T")
_Args = TypeVarTuple("_Args")
# Transactions are begun without `buffers`, so every key and value they read is bytes. (A string:
# the C type takes no subscript at run time.)
_Txn: TypeAlias = "lmdb.Transaction[bytes]"


# LMDB's locks are per process: an environment opened twice in one process breaks them (its
# documentation: "do not have open an LMDB database twice in the same process"). Every cache on
# one path in this process shares one environment, counted so the last close closes it. The pid
# is part of the key: a forked child must open its own.
@dataclass
class _Shared:
    """One environment open in this process, and how many caches use it."""

    env: lmdb.Environment
    users: int = 0


_open: dict[tuple[int, str], _Shared] = {}
_open_lock = threading.Lock()


def _boot_id() -> str | None:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip() or None
    except OSError:
        return None


def _open_for_this_boot(path: str, map_size: int) -> lmdb.Environment:
    """Open `path`, first removing it if it was written before the machine's last boot."""
    boot = _boot_id()
    with open(f"{path}-boot", "a+") as marker:
        # Workers start together: one of them checks and clears while the others wait here.
        fcntl.flock(marker, fcntl.LOCK_EX)
        marker.seek(0)
        if boot is not None and marker.read().strip() != boot:
            for stale in (path, f"{path}-lock"):
                Path(stale).unlink(missing_ok=True)
            marker.seek(0)
            marker.truncate()
            marker.write(boot)
            marker.flush()
        env = lmdb.open(path, subdir=False, map_size=map_size, sync=False, metasync=False,
                        writemap=boot is not None, readahead=False, max_dbs=0, max_readers=1024)
    # Reader slots left by killed processes would keep old pages from being reused.
    env.reader_check()
    return env


def _acquire(path: str, map_size: int) -> lmdb.Environment:
    key = (os.getpid(), os.path.realpath(path))
    with _open_lock:
        entry = _open.get(key)
        if entry is None:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            entry = _open[key] = _Shared(_open_for_this_boot(path, map_size))
        entry.users += 1
        return entry.env


def _release(path: str) -> None:
    key = (os.getpid(), os.path.realpath(path))
    with _open_lock:
        entry = _open.get(key)
        if entry is None:
            return
        entry.users -= 1
        if entry.users == 0:
            del _open[key]
            entry.env.close()


def _pack(value: str, expire_at: float) -> bytes:
    return _EXPIRY.pack(expire_at) + value.encode("utf-8")


def _expiry(stored: bytes) -> float:
    expire_at: float = _EXPIRY.unpack_from(stored)[0]
    return expire_at


class LmdbCache(Cache):
    """Shared by every process that opens the same file; calls run inline (microseconds each)."""

    def __init__(self, path: str, map_size_mb: int = 4096, prefix: str = "", clock: Clock = SYSTEM_CLOCK):
        self._path = path
        self._clock = clock
        self._prefix = prefix
        self._env = _acquire(path, map_size_mb * 1024 * 1024)
        self._writes = 0
        self._sweep_from = b""
        self._closed = False

    def _key(self, key: str) -> bytes:
        # On every signed request (the nonce): the common short key costs no call to stored_key.
        raw = (self._prefix + key).encode("utf-8")
        return raw if len(raw) <= LONGEST_KEY else stored_key(raw)

    def _write(self, operation: Callable[[_Txn, float, *_Args], _T], *args: *_Args) -> _T:
        """Run `operation(txn, now, *args)` in one write transaction; sweep now and then."""
        now = self._clock.now()
        try:
            result = self._transact(operation, now, *args)
        except lmdb.MapFullError:
            # Perhaps full of expired entries: sweep them all, then try once more. (Deleting
            # needs free pages too, so a file full of live entries cannot be helped this way.)
            try:
                self._sweep(now, limit=None)
                result = self._transact(operation, now, *args)
            except lmdb.MapFullError:
                log.error("the cache file %s is full: raise CACHE_MAP_SIZE", self._path)
                raise CacheUnavailable(f"the cache file {self._path} is full") from None
        self._writes += 1
        if self._writes % _SWEEP_EVERY == 0:
            self._sweep(now, limit=_SWEEP_BATCH)
        return result

    def _transact(self, operation: Callable[[_Txn, float, *_Args], _T], now: float, *args: *_Args) -> _T:
        with self._env.begin(write=True) as txn:
            return operation(txn, now, *args)

    def _sweep(self, now: float, limit: int | None) -> None:
        """Delete expired entries among the next `limit` (all when None), from where the last sweep stopped."""
        with self._env.begin(write=True) as txn:
            cursor = txn.cursor()
            positioned = cursor.set_range(self._sweep_from) if self._sweep_from else cursor.first()
            seen = 0
            while positioned and (limit is None or seen < limit):
                seen += 1
                if _expiry(cursor.value()) <= now:
                    # delete() moves to the next entry; an empty key means it deleted the last one.
                    positioned = cursor.delete() and bool(cursor.key())
                else:
                    positioned = cursor.next()
            self._sweep_from = cursor.key() if positioned else b""

    # -- the operations, each inside one write transaction --------------------------------

    @staticmethod
    def _add(txn: _Txn, now: float, key: bytes, value: str, ttl: int) -> bool:
        stored = _pack(value, now + ttl)
        if txn.put(key, stored, overwrite=False):  # the common case: a key never seen
            return True
        # Refused, so the key is there (this transaction holds the write lock); None is for the type.
        existing = txn.get(key)
        if existing is not None and _expiry(existing) > now:
            return False
        return txn.put(key, stored)

    @staticmethod
    def _set(txn: _Txn, now: float, key: bytes, value: str, ttl: int) -> None:
        txn.put(key, _pack(value, now + ttl))

    @staticmethod
    def _delete(txn: _Txn, now: float, key: bytes) -> bool:
        stored = txn.pop(key)
        return stored is not None and _expiry(stored) > now

    @staticmethod
    def _incr(txn: _Txn, now: float, key: bytes, ttl: int, amount: int) -> int:
        stored = txn.get(key)
        if stored is not None and _expiry(stored) > now:
            count, expire_at = int(stored[_EXPIRY.size:]) + amount, _expiry(stored)
        else:
            count, expire_at = amount, now + ttl
        txn.put(key, _pack(str(count), expire_at))
        return count

    @staticmethod
    def _decr(txn: _Txn, now: float, key: bytes, amount: int) -> int:
        stored = txn.get(key)
        if stored is None or _expiry(stored) <= now:
            return 0  # an ended window stays ended
        count = max(0, int(stored[_EXPIRY.size:]) - amount)
        txn.put(key, _pack(str(count), _expiry(stored)))
        return count

    @staticmethod
    def _swap(txn: _Txn, now: float, key: bytes, expected: str, value: str, ttl: int) -> bool:
        stored = txn.get(key)
        if stored is None or _expiry(stored) <= now or stored[_EXPIRY.size:] != expected.encode("utf-8"):
            return False
        return txn.put(key, _pack(value, now + ttl))

    def _live(self, key: str) -> bytes | None:
        with self._env.begin() as txn:
            stored = txn.get(self._key(key))
        return stored if stored is not None and _expiry(stored) > self._clock.now() else None

    # -- the Cache interface ----------------------------------------------------------------

    async def add(self, key: str, value: str, ttl: int) -> bool:
        return self._write(self._add, self._key(key), value, ttl)

    async def get(self, key: str) -> str | None:
        stored = self._live(key)
        return stored[_EXPIRY.size:].decode("utf-8") if stored is not None else None

    async def set(self, key: str, value: str, ttl: int) -> None:
        self._write(self._set, self._key(key), value, ttl)

    async def delete(self, key: str) -> bool:
        return self._write(self._delete, self._key(key))

    async def incr(self, key: str, ttl: int, amount: int = 1) -> int:
        return self._write(self._incr, self._key(key), ttl, amount)

    async def decr(self, key: str, amount: int = 1) -> int:
        return self._write(self._decr, self._key(key), amount)

    async def ttl(self, key: str) -> int:
        stored = self._live(key)
        return max(0, int(_expiry(stored) - self._clock.now() + 0.999)) if stored is not None else 0

    async def swap(self, key: str, expected: str, value: str, ttl: int) -> bool:
        return self._write(self._swap, self._key(key), expected, value, ttl)

    async def close(self) -> None:
        if not self._closed:
            self._closed = True
            _release(self._path)
