"""LmdbCache beyond the common contract (test_cache.py): processes, boots, sweeping, a full file.

uvicorn's workers are processes, so the races here are between processes started the way
uvicorn starts them (spawn), each opening the file on its own.
"""
from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal
import threading
import time
from pathlib import Path

import pytest

from app.common.cache import CacheUnavailable
from app.common.cache.lmdb import LmdbCache
from app.common.clock import ManualClock

SPAWN = multiprocessing.get_context("spawn")


def _race(path: str, keys: list[str], counter: str, increments: int, barrier, results) -> None:
    """One process: try to add every key, then count `increments` times; report what it got."""
    async def work() -> tuple[list[str], list[int]]:
        cache = LmdbCache(path, map_size_mb=64)
        barrier.wait(timeout=60)
        won = [k for k in keys if await cache.add(k, str(os.getpid()), 60)]
        counts = [await cache.incr(counter, 60) for _ in range(increments)]
        await cache.close()
        return won, counts

    results.put(asyncio.run(work()))


def _hammer(path: str, ready) -> None:
    """Write until killed."""
    async def work() -> None:
        cache = LmdbCache(path, map_size_mb=64)
        ready.set()
        n = 0
        while True:
            n += 1
            await cache.set(f"h:{n % 1000}", "x" * 200, 60)

    asyncio.run(work())


def run(coro):
    return asyncio.run(coro)


def test_processes_racing_each_win_a_key_once_and_count_every_increment(tmp_path: Path) -> None:
    path, processes, increments = str(tmp_path / "cache.lmdb"), 6, 200
    keys = [f"nonce::{i}" for i in range(300)]
    barrier, results = SPAWN.Barrier(processes), SPAWN.Queue()
    workers = [SPAWN.Process(target=_race, args=(path, keys, "counter", increments, barrier, results))
               for _ in range(processes)]
    for worker in workers:
        worker.start()
    reports = [results.get(timeout=120) for _ in workers]
    for worker in workers:
        worker.join(timeout=30)
        assert worker.exitcode == 0
    won = sorted(k for keys_won, _ in reports for k in keys_won)
    assert won == sorted(keys), "every key is won by exactly one process"
    counts = sorted(n for _, got in reports for n in got)
    assert counts == list(range(1, processes * increments + 1)), "no increment lost or seen twice"
    cache = LmdbCache(path)
    try:
        assert run(cache.get("counter")) == str(processes * increments)
    finally:
        run(cache.close())


def test_a_writer_killed_mid_write_does_not_wedge_the_others(tmp_path: Path) -> None:
    path = str(tmp_path / "cache.lmdb")
    for attempt in range(5):
        ready = SPAWN.Event()
        writer = SPAWN.Process(target=_hammer, args=(path, ready))
        writer.start()
        assert ready.wait(timeout=60)
        time.sleep(0.05 + attempt * 0.02)  # somewhere in a write, most of the time
        os.kill(writer.pid, signal.SIGKILL)
        writer.join(timeout=30)
        done: list[bool] = []

        # B023 below: the thread runs, and is joined, within this iteration (the assert ends the loop otherwise).
        def write_once() -> None:
            cache = LmdbCache(path, map_size_mb=64)
            try:
                run(cache.set("after", str(attempt), 60))  # noqa: B023
                done.append(run(cache.get("after")) == str(attempt))  # noqa: B023
            finally:
                run(cache.close())

        thread = threading.Thread(target=write_once, daemon=True)
        thread.start()
        thread.join(timeout=10)
        assert done == [True], f"attempt {attempt}: a write after the kill did not complete"


def test_a_new_boot_starts_afresh_and_the_same_boot_keeps_the_entries(tmp_path: Path) -> None:
    if not Path("/proc/sys/kernel/random/boot_id").exists():
        pytest.skip("no boot id on this system: the cache is then never cleared")
    path = str(tmp_path / "cache.lmdb")
    cache = LmdbCache(path)
    run(cache.set("kept", "1", 600))
    run(cache.close())
    cache = LmdbCache(path)
    assert run(cache.get("kept")) == "1", "reopened within one boot: the entries are there"
    run(cache.close())
    # As after a reboot: the marker names another boot, so the file may be torn and is dropped.
    Path(f"{path}-boot").write_text("a-previous-boot")
    cache = LmdbCache(path)
    try:
        assert run(cache.get("kept")) is None
        assert run(cache.add("kept", "2", 600)) is True
    finally:
        run(cache.close())


def test_expired_entries_are_swept_as_writes_go_on(tmp_path: Path) -> None:
    clock = ManualClock()
    cache = LmdbCache(str(tmp_path / "cache.lmdb"), map_size_mb=64, clock=clock)
    try:
        for i in range(2000):
            run(cache.add(f"old:{i}", "1", 1))
        clock.advance(1.1)
        for i in range(4000):
            run(cache.add(f"new:{i}", "1", 600))
        entries = cache._env.stat()["entries"]
        # 4,000 writes sweep 4,000 / 128 × 256 = 7,936 entries, more than the 6,000 the file ever
        # held: the 2,000 expired ones are gone, the 4,000 live ones are all there.
        assert entries == 4000, entries
        assert run(cache.get("new:0")) == "1" and run(cache.get("old:0")) is None
    finally:
        run(cache.close())


def test_a_full_file_answers_503_and_keeps_what_it_has(tmp_path: Path) -> None:
    cache = LmdbCache(str(tmp_path / "cache.lmdb"), map_size_mb=1)
    try:
        with pytest.raises(CacheUnavailable):  # rendered as SERVICE_UNAVAILABLE (test_exception_handle.py)
            for i in range(1000):  # 2 MB of live entries into a 1 MiB file
                run(cache.set(f"live:{i}", "x" * 2000, 600))
        assert i > 100
        assert run(cache.get("live:0")) == "x" * 2000, "what was written before it filled up is kept"
        assert run(cache.get(f"live:{i - 1}")) == "x" * 2000
    finally:
        run(cache.close())


def test_keys_longer_than_lmdb_allows_are_kept_by_their_hash(tmp_path: Path) -> None:
    cache = LmdbCache(str(tmp_path / "cache.lmdb"), map_size_mb=64)
    try:
        long_key, other = "login:" + "a" * 2000, "login:" + "a" * 1999 + "b"
        assert run(cache.add(long_key, "1", 60)) is True
        assert run(cache.add(long_key, "1", 60)) is False
        assert run(cache.get(other)) is None
        assert run(cache.incr(other, 60)) == 1
    finally:
        run(cache.close())
