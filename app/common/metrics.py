"""Prometheus metrics (SPEC §14): requests, latency, logins, SMS, tokens, lockouts.

With several workers each process writes its own memory-mapped files under
PROMETHEUS_MULTIPROC_DIR (prometheus_client's multiprocess mode, set up by the serve command
before any worker starts), and `/metrics` sums them, so the counts are the server's, not one
worker's. Without that variable (an app built in a test) the process's own registry is read.

Per request: one counter increment and one histogram observation on a child cached by
(route, status), where `route` is the route's pattern, never the raw path, so the number of
series stays bounded whatever paths clients invent.
"""
from __future__ import annotations

import os

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest, multiprocess
from prometheus_client import CONTENT_TYPE_LATEST  # noqa: F401 - re-exported for the controller

from app.common.metrics_files import MULTIPROC_ENV

REQUESTS = Counter("login_api_requests_total", "HTTP requests by route pattern and status", ["route", "status"])
LATENCY = Histogram("login_api_request_duration_seconds", "Time from the request's start to its answer, by route",
                    ["route"], buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0))
LOGINS = Counter("login_api_logins_total", "Password logins by outcome (ok, failed, locked)", ["outcome"])
SMS = Counter("login_api_sms_total", "SMS codes sent, and refused by reason", ["outcome", "reason"])
TOKENS = Counter("login_api_tokens_total", "Tokens issued, refreshed and revoked", ["action"])
LOCKOUTS = Counter("login_api_lockouts_total", "Accounts locked after repeated failed logins")


def process_exiting() -> None:
    """Mark this worker's live files dead (gauges); its counters stay, they are history."""
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
    """The hot path's instrumentation: children cached by (route, status) to skip label lookups."""

    __slots__ = ("_children",)

    def __init__(self) -> None:
        self._children: dict[tuple[str, int], tuple[object, object]] = {}

    def observe(self, route: str, status: int, seconds: float) -> None:
        pair = self._children.get((route, status))
        if pair is None:
            pair = self._children[(route, status)] = (REQUESTS.labels(route, str(status)), LATENCY.labels(route))
        pair[0].inc()  # type: ignore[attr-defined]
        pair[1].observe(seconds)  # type: ignore[attr-defined]


def audited(event: str, outcome: str, detail: str | None) -> None:
    """Count an audited decision (app/service/audit.py): every login, SMS and token decision is one."""
    if event == "login":
        LOGINS.labels(outcome).inc()
    elif event == "sms":
        SMS.labels(outcome, detail if outcome == "refused" and detail else "").inc()
    elif event == "token":
        TOKENS.labels(outcome).inc()
