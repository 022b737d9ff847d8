"""The app's clock, and dates as the documents write them: `YYYY-MM-DD HH:MM:SS` in the configured zone.

Every read of the time of day goes through the `Clock` the app was built with (create_app(clock=...)),
so a test moves a `ManualClock` past an expiry instead of sleeping through it. `time.monotonic()` stays
where only elapsed time is measured (latency, the wait for a lock), which no test needs to move.
"""
from __future__ import annotations

import time
from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo


@lru_cache(maxsize=8)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def format_time(timestamp: int, zone: str) -> str:
    """`timestamp` (Unix seconds) as local time in `zone`."""
    return datetime.fromtimestamp(timestamp, _zone(zone)).strftime("%Y-%m-%d %H:%M:%S")


class Clock:
    """The system's clock. Its reads are the builtins themselves (no Python frame on the hot path)."""

    now = staticmethod(time.time)  # Unix time, float seconds

    def seconds(self) -> int:
        """Unix time in whole seconds: the one time format stored, the same on every database."""
        return int(time.time())

    def millis(self) -> int:
        """Unix time in whole milliseconds (the events outbox orders by it)."""
        return int(time.time() * 1000)


class ManualClock(Clock):
    """A clock that moves only when told: tests advance it past an expiry instead of sleeping."""

    def __init__(self, start: float | None = None):
        self._now = time.time() if start is None else float(start)

    def now(self) -> float:
        return self._now

    def seconds(self) -> int:
        return int(self._now)

    def millis(self) -> int:
        return int(self._now * 1000)

    def advance(self, seconds: float) -> float:
        """Move forward by `seconds` (never backward: that is what set() is for); the new time."""
        if seconds < 0:
            raise ValueError("advance() moves forward; use set() to go back")
        self._now += seconds
        return self._now

    def set(self, t: float) -> None:
        self._now = float(t)


# The system clock, for code that runs outside an app (the admin commands, the models' column
# defaults). It holds no state, so sharing it is not sharing a mutable global.
SYSTEM_CLOCK = Clock()
