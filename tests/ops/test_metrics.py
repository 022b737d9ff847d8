"""GET /metrics (SPEC §14): guarded, Prometheus text format, counts summed over every worker."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.conftest import Server, serving
from tests.ops.helpers import samples, value, wait_for
from tests.support import Client, LiveServer

TOKEN = "metrics-token-0123456789"
OUTSIDE = {"X-Forwarded-For": "203.0.113.7"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    # The test's loopback connection is a trusted proxy, so X-Forwarded-For makes it an outside client.
    with serving(tmp_path_factory, "runtime", TRUSTED_PROXIES="127.0.0.1", METRICS_TOKEN=TOKEN) as server:
        yield server


def test_loopback_reads_the_metrics(server: Server) -> None:
    response = Client(server.url).raw("GET", "/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    assert "# TYPE login_api_requests_total counter" in response.text
    assert "# TYPE login_api_request_duration_seconds histogram" in response.text


@pytest.mark.parametrize("authorization", [None, "Bearer wrong-token", f"Basic {TOKEN}", f"Bearer {TOKEN}x", "Bearer "])
def test_an_outside_address_without_the_token_gets_404(server: Server, authorization: str | None) -> None:
    headers = dict(OUTSIDE, **({"Authorization": authorization} if authorization else {}))
    response = Client(server.url).raw("GET", "/metrics", headers=headers)
    assert response.status_code == 404
    assert response.json()["code"] == 9904  # the same answer as a path that does not exist
    assert "login_api" not in response.text


def test_an_outside_address_with_the_token_reads_them(server: Server) -> None:
    response = Client(server.url).raw("GET", "/metrics", headers=dict(OUTSIDE, Authorization=f"Bearer {TOKEN}"))
    assert response.status_code == 200 and "login_api_requests_total" in response.text


def test_routes_are_counted_by_pattern_and_logins_by_outcome(server: Server) -> None:
    client = Client(server.url)
    before = samples(client.raw("GET", "/metrics").text)
    for path in ("/v2/test", "/V2/Test", "/test"):
        assert client.post(path).status_code == 401  # no token: counted under the route's pattern
    for path in ("/v2/no-such-thing", "/v2/a/b/c/d", "/wp-login.php"):
        assert client.post(path).status_code == 404
    assert client.post("/v2/login/jwt/get", {"account": "nobody", "pwd": "wrong_123"}).json()["code"] == 50006
    found = samples(client.raw("GET", "/metrics").text)

    def grew(name: str, **labels: str) -> float:
        return value(found, name, **labels) - value(before, name, **labels)

    assert grew("login_api_requests_total", route="/v2/test", status="401") == 3
    assert grew("login_api_requests_total", route="unmatched", status="404") == 3
    assert grew("login_api_request_duration_seconds_count", route="/v2/test") == 3
    assert grew("login_api_logins_total", outcome="failed") == 1
    routes = {dict(labels).get("route") for (name, labels) in found if name == "login_api_requests_total"}
    assert not any("wp-login" in str(route) or "a/b" in str(route) for route in routes)


def test_counts_add_up_across_workers(tmp_runtime: Path) -> None:
    server = LiveServer(tmp_runtime, workers=2)
    try:
        # A new connection each time, until both workers have taken some (one metrics file per process):
        # which worker accepts is the kernel's choice, and on a busy machine one may take the first 60.
        folder = tmp_runtime / "metrics" / str(server.port)
        total = 0
        while total < 60 or (len(list(folder.glob("counter_*.db"))) < 2 and total < 1000):
            requests.get(server.url + "/health", headers={"Connection": "close"}, timeout=5)
            total += 1
        files = list(folder.glob("counter_*.db"))
        assert len(files) >= 2, (total, files)  # both workers counted

        def counted() -> bool:  # each worker writes its counts within FLUSH_EVERY (1 s)
            found = samples(requests.get(server.url + "/metrics", timeout=5).text)
            return (value(found, "login_api_requests_total", route="/health", status="200") == total
                    and value(found, "login_api_request_duration_seconds_count", route="/health") == total
                    and value(found, "login_api_request_duration_seconds_bucket", route="/health", le="+Inf") == total)

        wait_for(counted, timeout=5)
    finally:
        server.stop()


def test_metrics_switched_off_are_not_served(tmp_runtime: Path) -> None:
    server = LiveServer(tmp_runtime, METRICS_ENABLED=0)
    try:
        assert requests.get(server.url + "/metrics", timeout=5).status_code == 404
    finally:
        server.stop()
