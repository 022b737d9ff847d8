"""One contract, every Cache implementation: LmdbCache, RedisCache, and DatabaseCache on MySQL and PostgreSQL.

Concurrent calls come from many threads, each running its own event loop (as many workers or
instances would): LmdbCache and RedisCache get a cache object of their own per thread (LmdbCache
objects on one file share the process's one LMDB environment, as LMDB requires), the
DatabaseCache shares the process's pooled database and runs each call in a worker thread.
Racing processes, as uvicorn's workers are, are in test_cache_lmdb.py.
A backend whose server is down is skipped with a message saying so.
"""
from __future__ import annotations

import asyncio
import secrets
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from app.common.cache.base import Cache
from app.common.clock import ManualClock
from tests.scale.helpers import drop_redis_prefix, require
from tests.support import create_database, drop_database

Op = Callable[[Cache], Awaitable[Any]]


class Backend:
    """Makes the Cache instances of one implementation: one per thread (a "worker"), or one shared."""

    def __init__(self, name: str, new: Callable[[ManualClock], Cache], shared: bool, own_time: bool = False):
        self.name = name
        # The local caches read this clock; Redis keeps its own time (own_time), so it is slept through.
        self.clock = ManualClock()
        self.own_time = own_time
        self._new = lambda: new(self.clock)
        self.shared = self._new() if shared else None

    def pass_time(self, seconds: float) -> None:
        """Let `seconds` go by for the store: the clock moves, or (Redis) the test sleeps."""
        if self.own_time:
            time.sleep(seconds)
        else:
            self.clock.advance(seconds)

    async def _call(self, op: Op, barrier: threading.Barrier | None = None) -> Any:
        cache = self.shared or self._new()
        try:
            if barrier is not None:
                barrier.wait(timeout=30)
            return await op(cache)
        finally:
            if self.shared is None:
                await cache.close()

    def run(self, op: Op) -> Any:
        """One call, from this thread."""
        return asyncio.run(self._call(op))

    def concurrently(self, n: int, op: Op) -> list[Any]:
        """`op` from `n` threads at once (released together by a barrier); the results in order."""
        return self.together([op] * n)

    def together(self, ops: list[Op]) -> list[Any]:
        """Each of `ops` from a thread of its own, all released at once; the results in order."""
        barrier = threading.Barrier(len(ops))
        with ThreadPoolExecutor(max_workers=len(ops)) as pool:
            futures = [pool.submit(lambda op=op: asyncio.run(self._call(op, barrier))) for op in ops]
            return [f.result(timeout=60) for f in futures]


def _lmdb(tmp_path: Path) -> Iterator[Backend]:
    from app.common.cache.lmdb import LmdbCache

    path = str(tmp_path / "cache.lmdb")
    yield Backend("lmdb", lambda clock: LmdbCache(path, map_size_mb=64, clock=clock), shared=False)


def _redis() -> Iterator[Backend]:
    require("redis")
    from app.common.cache.redis import RedisCache

    url, prefix = "redis://127.0.0.1:6379/15", f"test-cache:{secrets.token_hex(6)}:"
    yield Backend("redis", lambda clock: RedisCache(url, prefix), shared=False, own_time=True)
    drop_redis_prefix(url, prefix)


def _database(backend: str) -> Iterator[Backend]:
    require(backend)
    from app.common.cache.database import CacheEntry, DatabaseCache, create_cache_table
    from app.common.database import init_database
    from app.model.base import db

    previous, collation = db.obj, CacheEntry.key.collation
    # create_cache_table() sets the key's collation on the model class for MySQL; a process runs on
    # one database, but this one switches between them, so the field starts clean each time.
    CacheEntry.key.collation = None
    name, url = create_database(backend)
    database = init_database(url, 5000)
    try:
        with db.connection_context():
            create_cache_table()  # migration 5 makes it in a real database
            cache_backend = Backend(backend, lambda clock: DatabaseCache(clock=clock), shared=True)
        yield cache_backend
    finally:
        database.close_all()
        db.initialize(previous)
        CacheEntry.key.collation = collation
        drop_database(backend, name)


@pytest.fixture(scope="module", params=[
    "lmdb", pytest.param("redis", marks=pytest.mark.redis), pytest.param("mysql", marks=pytest.mark.mysql),
    pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backend]:
    """One store per implementation for the module; every test uses keys of its own."""
    if request.param == "lmdb":
        yield from _lmdb(tmp_path_factory.mktemp("cache"))
    elif request.param == "redis":
        yield from _redis()
    else:
        yield from _database(request.param)


def key() -> str:
    return "k:" + secrets.token_hex(6)


def assert_ttl(backend: Backend, k: str, ttl: int, since: float) -> None:
    """`k` has the seconds left of a `ttl` window that started no earlier than `since` (time.monotonic())."""
    left = backend.run(lambda c: c.ttl(k))
    assert ttl - (time.monotonic() - since) - 1 <= left <= ttl, (left, ttl, time.monotonic() - since)


def test_get_set_delete_ttl(backend: Backend) -> None:
    k = key()
    assert backend.run(lambda c: c.get(k)) is None
    assert backend.run(lambda c: c.ttl(k)) == 0
    assert backend.run(lambda c: c.delete(k)) is False
    since = time.monotonic()
    backend.run(lambda c: c.set(k, "one", 60))
    assert backend.run(lambda c: c.get(k)) == "one"
    assert_ttl(backend, k, 60, since)
    # set replaces the value and the expiry
    since = time.monotonic()
    backend.run(lambda c: c.set(k, "two", 30))
    assert backend.run(lambda c: c.get(k)) == "two"
    assert_ttl(backend, k, 30, since)
    assert backend.run(lambda c: c.delete(k)) is True
    assert backend.run(lambda c: c.delete(k)) is False
    assert backend.run(lambda c: c.get(k)) is None
    assert backend.run(lambda c: c.ttl(k)) == 0
    # keys are case-sensitive (captcha ids are)
    backend.run(lambda c: c.set("Case:" + k, "upper", 60))
    assert backend.run(lambda c: c.get("case:" + k)) is None
    assert backend.run(lambda c: c.add("case:" + k, "lower", 60)) is True
    assert backend.run(lambda c: c.get("Case:" + k)) == "upper"


def test_add_is_set_if_absent(backend: Backend) -> None:
    k, since = key(), time.monotonic()
    assert backend.run(lambda c: c.add(k, "first", 60)) is True
    assert backend.run(lambda c: c.add(k, "second", 60)) is False
    assert backend.run(lambda c: c.get(k)) == "first"
    assert_ttl(backend, k, 60, since)


def test_add_wins_once_from_twenty_threads(backend: Backend) -> None:
    k = key()
    results = backend.concurrently(20, lambda c: c.add(k, secrets.token_hex(4), 60))
    assert results.count(True) == 1 and results.count(False) == 19, results


def test_incr_counts_every_one_of_fifty_concurrent_increments(backend: Backend) -> None:
    k, since = key(), time.monotonic()
    results = backend.concurrently(50, lambda c: c.incr(k, 60))
    assert sorted(results) == list(range(1, 51)), sorted(results)
    assert backend.run(lambda c: c.get(k)) == "50"
    assert_ttl(backend, k, 60, since)
    assert backend.run(lambda c: c.incr(k, 60)) == 51


def test_incr_keeps_its_window(backend: Backend) -> None:
    k = key()
    assert backend.run(lambda c: c.incr(k, 60)) == 1
    # a later increment with another window does not move the expiry of the running one
    assert backend.run(lambda c: c.incr(k, 3600)) == 2
    assert backend.run(lambda c: c.ttl(k)) <= 60


def test_incr_by_an_amount(backend: Backend) -> None:
    k = key()
    assert backend.run(lambda c: c.incr(k, 60, amount=5)) == 5
    assert backend.run(lambda c: c.incr(k, 60)) == 6
    assert backend.run(lambda c: c.incr(k, 60, amount=3)) == 9
    assert backend.run(lambda c: c.get(k)) == "9"
    results = backend.concurrently(10, lambda c: c.incr(k, 60, amount=10))
    assert sorted(results) == list(range(19, 110, 10)), sorted(results)


def test_delete_is_true_exactly_once_for_concurrent_deletes(backend: Backend) -> None:
    k = key()
    backend.run(lambda c: c.set(k, "v", 60))
    results = backend.concurrently(20, lambda c: c.delete(k))
    assert results.count(True) == 1 and results.count(False) == 19, results
    assert backend.run(lambda c: c.get(k)) is None


def test_everything_expires(backend: Backend) -> None:
    """After expiry: get/ttl/delete see nothing, add succeeds again (once under a race), incr restarts at 1."""
    added, raced, counted, plain = key(), key(), key(), key()
    assert backend.run(lambda c: c.add(added, "old", 1)) is True
    assert backend.run(lambda c: c.add(raced, "old", 1)) is True
    # (a window of 2 s, so that three increments fit in it however busy the machine is)
    assert [backend.run(lambda c: c.incr(counted, 2)) for _ in range(3)] == [1, 2, 3]
    backend.run(lambda c: c.set(plain, "v", 1))
    backend.pass_time(2.2)
    assert backend.run(lambda c: c.get(added)) is None
    assert backend.run(lambda c: c.get(plain)) is None
    assert backend.run(lambda c: c.ttl(plain)) == 0
    assert backend.run(lambda c: c.delete(plain)) is False
    assert backend.run(lambda c: c.add(added, "new", 60)) is True
    assert backend.run(lambda c: c.get(added)) == "new"
    # an expired holder is replaced by exactly one of twenty racing adds
    results = backend.concurrently(20, lambda c: c.add(raced, "new", 60))
    assert results.count(True) == 1, results
    since = time.monotonic()
    assert backend.run(lambda c: c.incr(counted, 60)) == 1
    assert backend.run(lambda c: c.get(counted)) == "1"
    assert_ttl(backend, counted, 60, since)


def test_racing_increments_restart_an_expired_window_together(backend: Backend) -> None:
    """Twenty increments at once on a counter whose window just ended: a new window counting 1..20.

    Six counters, raced one after the other, so an interleaving that goes wrong gets several chances
    (on MariaDB this race once raised "Deadlock found" from DatabaseCache.incr).
    """
    counters = [key() for _ in range(6)]
    for k in counters:
        assert backend.run(lambda c, k=k: c.incr(k, 1)) == 1
    backend.pass_time(1.2)
    for k in counters:
        results = backend.concurrently(20, lambda c, k=k: c.incr(k, 60))
        assert sorted(results) == list(range(1, 21)), (k, sorted(results))
        assert backend.run(lambda c, k=k: c.get(k)) == "20"


# -- giving back (SPEC §10: a counter given back never goes below zero, never opens a window) ---------

def test_decr_takes_back_from_a_live_counter_and_keeps_its_window(backend: Backend) -> None:
    k, since = key(), time.monotonic()
    assert backend.run(lambda c: c.incr(k, 60, amount=3)) == 3
    assert backend.run(lambda c: c.decr(k)) == 2
    assert backend.run(lambda c: c.get(k)) == "2"
    assert_ttl(backend, k, 60, since)
    assert backend.run(lambda c: c.decr(k, 5)) == 0  # never below zero
    assert backend.run(lambda c: c.decr(k)) == 0
    assert backend.run(lambda c: c.get(k)) == "0"
    assert backend.run(lambda c: c.incr(k, 60)) == 1
    assert_ttl(backend, k, 60, since)


def test_decr_of_an_absent_counter_leaves_it_absent(backend: Backend) -> None:
    k = key()
    assert backend.run(lambda c: c.decr(k)) == 0
    assert backend.run(lambda c: c.get(k)) is None
    assert backend.run(lambda c: c.ttl(k)) == 0
    assert backend.run(lambda c: c.incr(k, 60)) == 1


def test_twenty_concurrent_give_backs_on_a_counter_of_ten_stop_at_zero(backend: Backend) -> None:
    k = key()
    assert backend.run(lambda c: c.incr(k, 60, amount=10)) == 10
    results = backend.concurrently(20, lambda c: c.decr(k))
    assert sorted(results) == [0] * 11 + list(range(1, 10)), sorted(results)
    assert backend.run(lambda c: c.get(k)) == "0"


def test_give_backs_after_the_window_ended_do_not_raise_the_next_windows_limit(backend: Backend) -> None:
    """Issue 12, item 5: 5 takes, the window ends, 5 give-backs: the next window still allows 5, not 10."""
    from app.common.error import ApiException
    from app.common.rate_limit import RateLimiter

    k = key()

    async def takes(cache: Cache, n: int, window: int) -> int:
        limiter, passed = RateLimiter(cache), 0
        for _ in range(n):
            try:
                await limiter.take(k, 5, window, "LOGIN_THROTTLED")
                passed += 1
            except ApiException:
                pass
        return passed

    async def give_backs(cache: Cache) -> None:
        for _ in range(5):
            await RateLimiter(cache).give_back(k, 1)

    assert backend.run(lambda c: takes(c, 5, 1)) == 5
    backend.pass_time(1.2)
    backend.run(give_backs)
    assert backend.run(lambda c: c.get(k)) in (None, "0")
    assert backend.run(lambda c: takes(c, 10, 60)) == 5


# -- keys of any length (SPEC §10) ------------------------------------------------------------------

LONG_KEYS = [
    "x" * 191, "x" * 192, "y" * 600,
    "acct:" + "ﬃ" * 64,  # 64 ligatures: 192 bytes, or 192 characters once case-folded
    "acct:" + "ﬃ".casefold() * 64,
    "語" * 200,  # 200 characters, 600 bytes
]


@pytest.mark.parametrize("long_key", LONG_KEYS, ids=lambda k: f"{len(k)}chars-{len(k.encode())}bytes")
def test_keys_of_any_length_work(backend: Backend, long_key: str) -> None:
    k = long_key + key()
    assert backend.run(lambda c: c.add(k, "first", 60)) is True
    assert backend.run(lambda c: c.add(k, "second", 60)) is False
    assert backend.run(lambda c: c.get(k)) == "first"
    backend.run(lambda c: c.set(k, "third", 60))
    assert backend.run(lambda c: c.get(k)) == "third"
    assert 0 < backend.run(lambda c: c.ttl(k)) <= 60
    assert backend.run(lambda c: c.delete(k)) is True
    assert backend.run(lambda c: c.incr(k, 60)) == 1
    assert backend.run(lambda c: c.incr(k, 60)) == 2
    assert backend.run(lambda c: c.decr(k)) == 1


def test_long_keys_that_differ_only_at_the_end_stay_apart(backend: Backend) -> None:
    stem = "z" * 400 + key()
    backend.run(lambda c: c.set(stem + "a", "a", 60))
    backend.run(lambda c: c.set(stem + "b", "b", 60))
    assert backend.run(lambda c: c.get(stem + "a")) == "a"
    assert backend.run(lambda c: c.get(stem + "b")) == "b"


def test_swap_replaces_only_the_expected_live_value(backend: Backend) -> None:
    k, since = key(), time.monotonic()
    assert backend.run(lambda c: c.swap(k, "pending", "scanned", 60)) is False  # absent
    assert backend.run(lambda c: c.get(k)) is None
    backend.run(lambda c: c.set(k, "pending", 5))
    assert backend.run(lambda c: c.swap(k, "Pending", "scanned", 60)) is False  # compared exactly
    assert backend.run(lambda c: c.swap(k, "pending ", "scanned", 60)) is False
    assert backend.run(lambda c: c.get(k)) == "pending"
    assert backend.run(lambda c: c.swap(k, "pending", "scanned", 60)) is True
    assert backend.run(lambda c: c.get(k)) == "scanned"
    assert_ttl(backend, k, 60, since)  # the new ttl
    assert backend.run(lambda c: c.swap(k, "pending", "confirmed", 60)) is False
    assert backend.run(lambda c: c.get(k)) == "scanned"


def test_swap_wins_once_from_twenty_threads(backend: Backend) -> None:
    k = key()
    backend.run(lambda c: c.set(k, "scanned", 60))
    results = backend.together([lambda c, i=i: c.swap(k, "scanned", f"confirmed:{i}", 60) for i in range(20)])
    assert results.count(True) == 1, results
    assert backend.run(lambda c: c.get(k)) == f"confirmed:{results.index(True)}"


def test_swap_does_not_revive_an_expired_value(backend: Backend) -> None:
    k = key()
    backend.run(lambda c: c.set(k, "pending", 1))
    backend.pass_time(1.1)
    assert backend.run(lambda c: c.swap(k, "pending", "scanned", 60)) is False
    assert backend.run(lambda c: c.get(k)) is None
