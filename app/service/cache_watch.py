"""Long polls wait here for a cache value to change, holding no thread and no database connection.

A waiter is a future, not a loop of its own: one task per process reads every watched key once a
tick and resolves the futures whose value moved, so thousands of waiting requests cost one sweep
a tick instead of thousands of timers. A change made in this process is handed to its waiters at
once (`notify`); one made by another worker or instance is seen at the next tick.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Any

log = logging.getLogger("login_api.cache_watch")
# Keys read between two yields of the loop to other requests.
_BATCH = 64


class CacheWatch:
    def __init__(self, cache: Any, tick: float):
        self.cache = cache
        self.tick = tick
        self._waiters: dict[str, list[tuple[str | None, asyncio.Future[str | None]]]] = {}
        self._task: asyncio.Task[None] | None = None

    @property
    def waiting(self) -> int:
        """How many requests wait now (for the curious and the bench)."""
        return sum(len(entries) for entries in self._waiters.values())

    async def changed(self, key: str, seen: str | None, timeout: float) -> str | None:
        """The value of `key` once it is no longer `seen`, or `seen` when `timeout` seconds pass first."""
        if timeout <= 0:
            return seen
        loop = asyncio.get_running_loop()
        future: asyncio.Future[str | None] = loop.create_future()
        entry = (seen, future)
        self._waiters.setdefault(key, []).append(entry)
        if self._task is None or self._task.done() or self._task.get_loop() is not loop:
            self._task = loop.create_task(self._sweep())
        try:
            async with asyncio.timeout(timeout):
                return await future
        except TimeoutError:
            return seen
        finally:
            entries = self._waiters.get(key)
            if entries is not None:
                entries.remove(entry)
                if not entries:
                    del self._waiters[key]

    def notify(self, key: str, value: str | None) -> None:
        """`key` now holds `value` (a change made in this process): its waiters answer at once."""
        for seen, future in self._waiters.get(key, ()):
            if value != seen and not future.done():
                future.set_result(value)

    async def _sweep(self) -> None:
        while self._waiters:
            await asyncio.sleep(self.tick)
            for done, key in enumerate(list(self._waiters), 1):
                # One get after another, no task each (LMDB answers inline, in microseconds); other
                # requests get the loop back every _BATCH keys.
                if done % _BATCH == 0:
                    await asyncio.sleep(0)
                try:
                    value = await self.cache.get(key)
                except Exception as exc:  # noqa: BLE001 - a cache outage: waiters run out their time
                    log.debug("watching %s failed: %r", key, exc)
                    continue
                self.notify(key, value)
