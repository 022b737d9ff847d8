"""CacheWatch: long polls wait on futures; a local change wakes them at once, another process's at the next tick."""
from __future__ import annotations

import asyncio
import time
from pathlib import Path

from app.common.cache.lmdb import LmdbCache
from app.service.cache_watch import CacheWatch


def run(tmp_path: Path, scenario) -> None:
    async def main() -> None:
        cache = LmdbCache(str(tmp_path / "cache.lmdb"), map_size_mb=16)
        try:
            await scenario(cache, CacheWatch(cache, tick=0.05))
        finally:
            await cache.close()
    asyncio.run(main())


def test_a_wait_runs_out_with_what_it_saw(tmp_path: Path) -> None:
    async def scenario(cache: LmdbCache, watch: CacheWatch) -> None:
        await cache.set("k", "a", 60)
        started = time.monotonic()
        assert await watch.changed("k", "a", 0.2) == "a"
        assert 0.15 <= time.monotonic() - started < 1
        assert await watch.changed("k", "a", 0) == "a"
        assert watch.waiting == 0
    run(tmp_path, scenario)


def test_a_change_by_another_process_is_seen_at_the_next_tick(tmp_path: Path) -> None:
    async def scenario(cache: LmdbCache, watch: CacheWatch) -> None:
        await cache.set("k", "a", 60)
        other = LmdbCache(str(tmp_path / "cache.lmdb"), map_size_mb=16)  # as another worker would write

        async def change() -> None:
            await asyncio.sleep(0.1)
            await other.swap("k", "a", "b", 60)

        started = time.monotonic()
        waiters = [watch.changed("k", "a", 5) for _ in range(3)] + [watch.changed("gone", None, 0.3)]
        results = await asyncio.gather(change(), *waiters)
        assert results == [None, "b", "b", "b", None]
        assert time.monotonic() - started < 1
        await other.close()
    run(tmp_path, scenario)


def test_a_local_change_wakes_its_waiters_at_once(tmp_path: Path) -> None:
    async def scenario(cache: LmdbCache, _: CacheWatch) -> None:
        watch = CacheWatch(cache, tick=30)  # no sweep within the test: only notify can wake them
        await cache.set("k", "a", 60)
        waiting = [asyncio.ensure_future(watch.changed("k", "a", 5)) for _ in range(1000)]
        await asyncio.sleep(0)
        assert watch.waiting == 1000
        started = time.monotonic()
        watch.notify("k", "a")  # not a change
        watch.notify("k", "b")
        assert set(await asyncio.gather(*waiting)) == {"b"}
        assert time.monotonic() - started < 0.5 and watch.waiting == 0
    run(tmp_path, scenario)
