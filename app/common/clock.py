"""Dates as the documents write them: `YYYY-MM-DD HH:MM:SS` in the configured time zone."""
from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo


@lru_cache(maxsize=8)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def format_time(timestamp: int, zone: str) -> str:
    """`timestamp` (Unix seconds) as local time in `zone`."""
    return datetime.fromtimestamp(timestamp, _zone(zone)).strftime("%Y-%m-%d %H:%M:%S")
