"""GET /health and GET /ready (SPEC §14): unsigned probes; /ready is 503 when a store is away."""
from __future__ import annotations

from pathlib import Path

import requests

from tests.inprocess import InProcessServer
from tests.ops.helpers import Relay
from tests.support import TEST_BACKEND, Client, LiveServer, create_database, drop_database


def test_health_and_ready_answer_unsigned(tmp_runtime: Path) -> None:
    server = InProcessServer(tmp_runtime)
    try:
        client = Client(server.url)
        health = client.raw("GET", "/health")
        assert health.status_code == 200 and health.json() == {"status": "ok"}
        assert health.headers["content-type"] == "application/json"
        assert len(health.headers["x-request-id"]) == 16
        ready = client.raw("GET", "/ready")
        assert ready.status_code == 200 and ready.json() == {"status": "ready"}
        # GET only: a POST is the default version's 405 envelope.
        post = client.raw("POST", "/health")
        assert post.status_code == 405 and post.json()["code"] == 9905
    finally:
        server.stop()


# The stores taken away below are outages of a running `python server.py`: those servers stay live.


def test_ready_is_503_when_the_cache_is_away(tmp_runtime: Path) -> None:
    """Redis behind a relay the test cuts: the process lives on (/health), but is not ready."""
    relay = Relay(("127.0.0.1", 6379))
    live = LiveServer(tmp_runtime, REDIS_URL=f"redis://127.0.0.1:{relay.port}/0", REDIS_PREFIX="test:ready:",
                      READY_TIMEOUT=1)
    try:
        assert requests.get(live.url + "/ready", timeout=5).status_code == 200
        relay.cut()
        ready = requests.get(live.url + "/ready", timeout=5)
        assert ready.status_code == 503
        assert ready.json() == {"code": 9915, "msg": "服务暂不可用，请稍后再试", "status": False, "data": []}
        assert ready.headers["retry-after"] == "1"
        assert requests.get(live.url + "/health", timeout=5).status_code == 200
        assert "not ready" in live.log()
    finally:
        live.stop()


def test_ready_is_503_when_the_database_is_dropped(tmp_runtime: Path) -> None:
    """A network database dropped under the running server (SQLite's open file cannot honestly be
    taken away from a process, so this runs on PostgreSQL unless the suite runs on MySQL)."""
    backend = "mysql" if TEST_BACKEND == "mysql" else "postgres"
    name, url = create_database(backend)
    live = LiveServer(tmp_runtime, DATABASE_URL=url, READY_TIMEOUT=1)
    try:
        assert requests.get(live.url + "/ready", timeout=5).status_code == 200
        drop_database(backend, name)
        ready = requests.get(live.url + "/ready", timeout=5)
        assert ready.status_code == 503 and ready.json()["code"] == 9915
        assert requests.get(live.url + "/health", timeout=5).json() == {"status": "ok"}
    finally:
        live.stop()
        drop_database(backend, name)
