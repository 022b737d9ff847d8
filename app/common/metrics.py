"""Prometheus metrics (SPEC §14): requests, latency, logins, SMS, tokens, lockouts.

With several workers each process writes its own memory-mapped files under
PROMETHEUS_MULTIPROC_DIR (prometheus_client's multiprocess mode, set up by the serve command
before any worker starts), and `/metrics` sums them, so the counts are the server's, not one
worker's. Without that variable (an app built in a test) the process's own registry is read.

Requests are counted by (route, status), where `route` is the route's pattern, never the raw
path, so the number of series stays bounded whatever paths clients invent; see RequestMetrics
for how little that costs a request.
"""
from __future__ import annotations

import asyncio
import os
from bisect import bisect_left
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST as CONTENT_TYPE_LATEST,  # re-exported for the controller
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)

from app.common.metrics_files import MULTIPROC_ENV

# Seconds a worker may hold request counts before writing them (RequestMetrics).
FLUSH_EVERY = 1.0

REQUESTS = Counter("login_api_requests_total", "HTTP requests by route pattern and status", ["route", "status"])
_BOUNDS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)  # and +Inf
LATENCY = Histogram("login_api_request_duration_seconds", "Time from the request's start to its answer, by route",
                    ["route"], buckets=_BOUNDS)
LOGINS = Counter("login_api_logins_total", "Password logins by outcome (ok, failed, locked)", ["outcome"])
SMS = Counter("login_api_sms_total", "SMS codes sent, and refused by reason", ["outcome", "reason"])
TOKENS = Counter("login_api_tokens_total", "Tokens issued, refreshed and revoked", ["action"])
LOCKOUTS = Counter("login_api_lockouts_total", "Accounts locked after repeated failed logins")


def process_exiting() -> None:
    """Mark this worker's live files dead (gauges); its counters stay, they are history."""
    RECENT.flush()
    path = os.environ.get(MULTIPROC_ENV)
    if path:
        multiprocess.mark_process_dead(os.getpid(), path)


def exposition() -> bytes:
    """The text format of every metric of every worker (reads files: run it off the event loop)."""
    path = os.environ.get(MULTIPROC_ENV)
    if not path:
        return generate_latest(REGISTRY)
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path)
    return generate_latest(registry)


class RequestMetrics:
    """The hot path's instrumentation: counted in plain Python, written to the metrics each second.

    In multiprocess mode every increment is a locked write to a memory-mapped file (about 3 µs
    each, three per request: the counter, the histogram's sum and its bucket). Here a request
    costs a bucket lookup and three integer or float additions in a dict; `flush()` writes the
    totals at most a second later (a timer on the event loop), and `/metrics` flushes the
    answering worker's first. Prometheus scrapes every 15 s or so: a second's delay is invisible.
    """

    __slots__ = ("_pending", "_children", "_timer")

    def __init__(self) -> None:
        # (route, status) → [requests, seconds summed, count per histogram bucket ...]
        self._pending: dict[tuple[str, int], list[float]] = {}
        self._children: dict[tuple[str, int], tuple[Any, Any]] = {}
        self._timer: asyncio.TimerHandle | None = None

    def observe(self, route: str, status: int, seconds: float) -> None:
        entry = self._pending.get((route, status))
        if entry is None:
            entry = self._pending[(route, status)] = [0, 0.0] + [0] * (len(_BOUNDS) + 1)
            if self._timer is None:
                self._timer = asyncio.get_running_loop().call_later(FLUSH_EVERY, self.flush)
        entry[0] += 1
        entry[1] += seconds
        entry[2 + bisect_left(_BOUNDS, seconds)] += 1

    def flush(self) -> None:
        """Write what was counted since the last flush (the histogram's values directly, as
        Histogram.observe would, one write per bucket touched instead of one per request)."""
        if self._timer is not None:
            self._timer.cancel()
        pending, self._pending, self._timer = self._pending, {}, None
        for key, (count, total, *buckets) in pending.items():
            children = self._children.get(key)
            if children is None:
                children = self._children[key] = (REQUESTS.labels(key[0], str(key[1])), LATENCY.labels(key[0]))
            children[0].inc(count)
            children[1]._sum.inc(total)
            for index, hits in enumerate(buckets):
                if hits:
                    children[1]._buckets[index].inc(hits)


# This process's request counts: the dispatcher adds to them, /metrics and shutdown flush them.
RECENT = RequestMetrics()


def audited(event: str, outcome: str, detail: str | None) -> None:
    """Count an audited decision (app/service/audit.py): every login, SMS and token decision is one."""
    if event == "login":
        LOGINS.labels(outcome).inc()
    elif event == "sms":
        SMS.labels(outcome, detail if outcome == "refused" and detail else "").inc()
    elif event == "token":
        TOKENS.labels(outcome).inc()
