"""Two worker processes share every decision: revocation in the database, nonces in the shared cache."""
from __future__ import annotations

import hashlib
import secrets
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.api import codes
from tests.conftest import PASSWORD, serving
from tests.support import SIGN_SECRET, LiveServer, expect_error, expect_ok, make_sign


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with serving(tmp_path_factory, "runtime-workers", live=True, workers=2) as live:
        yield live


def signed_post(url: str, params: dict, headers: dict | None = None) -> requests.Response:
    """One request on a connection of its own, so the kernel may hand it to either worker."""
    with requests.Session() as session:
        return session.post(url, json=params, headers={"sign": make_sign(params, SIGN_SECRET), **(headers or {})},
                            timeout=30)


def fresh(**params: object) -> dict:
    return {"timestamp": int(time.time()), "nonce": secrets.token_hex(8), **params}


def worker_processes(pid: int) -> list[int]:
    """The pids of uvicorn's worker processes under the server process `pid` (Linux /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            command = (entry / "cmdline").read_bytes()
        except (OSError, IndexError, ValueError):
            continue
        if parent == pid and b"multiprocessing" in command and b"resource_tracker" not in command:
            found.append(int(entry.name))
    return found


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc to count worker processes")
def test_two_workers_serve(server: LiveServer) -> None:
    assert len(worker_processes(server.process.pid)) == 2


def test_a_revoked_token_is_refused_by_every_worker(server: LiveServer, user: dict) -> None:
    data = expect_ok(signed_post(f"{server.url}/v1/login", fresh(username="Foo", password=PASSWORD)), "v1")
    token = data["token"]
    for _ in range(20):
        expect_ok(signed_post(f"{server.url}/v1/test", fresh(), {"Authorization": f"Bearer {token}"}), "v1")
    key = hashlib.sha256(token.encode()).hexdigest()
    # As an operator (or another instance) would: straight in the database, no API call.
    server.query("UPDATE auth_token SET revoked = 1 WHERE token_key = ?", key)
    assert server.query("SELECT revoked FROM auth_token WHERE token_key = ?", key) == [(1,)]
    for i in range(20):
        version = ("v1", "v2")[i % 2]
        response = signed_post(f"{server.url}/{version}/test", fresh(), {"Authorization": f"Bearer {token}"})
        expect_error(response, version, *codes.TOKEN_INVALID)


def test_the_same_nonce_in_parallel_is_accepted_once(server: LiveServer, user: dict) -> None:
    token = expect_ok(signed_post(f"{server.url}/v1/login", fresh(username="Foo", password=PASSWORD)), "v1")["token"]
    for _ in range(5):
        params = fresh(token=token)
        barrier = threading.Barrier(2)
        results: list[requests.Response] = []
        lock = threading.Lock()

        # B023 below: the threads run, and are joined, within this iteration.
        def send() -> None:
            with requests.Session() as session:
                prepared = session.prepare_request(requests.Request(
                    "POST", f"{server.url}/v1/test", json=params, headers={"sign": make_sign(params, SIGN_SECRET)}))  # noqa: B023
                barrier.wait()  # noqa: B023
                response = session.send(prepared, timeout=30)
            with lock:  # noqa: B023
                results.append(response)  # noqa: B023

        threads = [threading.Thread(target=send) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert len(results) == 2
        statuses = sorted(r.status_code for r in results)
        assert statuses == [200, 401], [r.text for r in results]
        refused = next(r for r in results if r.status_code == 401)
        expect_error(refused, "v1", *codes.REQUEST_REPLAYED)
