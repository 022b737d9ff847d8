"""A deactivation made through one worker is refused by the other at once (`--workers 2`, SPEC §5).

To know which worker answers, the test keeps its own keep-alive connections and reads from
/proc which worker process holds the server end of each, so it can speak to both workers on
purpose rather than hoping the kernel spreads the requests.
"""
from __future__ import annotations

import http.client
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support import Client, LiveServer, register_user

pytestmark = pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="needs Linux /proc to tell workers apart")

SERVER_SETTINGS = {"SMS_IP_LIMIT": 100000, "SMS_VERIFY_IP_LIMIT": 100000, "LOGIN_IP_LIMIT": 100000}
ACCOUNT, PHONE, PASSWORD = "Worker", "13600009999", "worker_pass"


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            # pid (comm) state ppid ...: comm may hold spaces, so split after its closing parenthesis.
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _socket_inodes(pid: int) -> set[str]:
    inodes = set()
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    except OSError:
        pass
    return inodes


def _inode_of_connection(server_port: int, client_port: int) -> str | None:
    """The inode of the server's end of the TCP connection from `client_port`."""
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            local_port = int(fields[1].rsplit(":", 1)[1], 16)
            remote_port = int(fields[2].rsplit(":", 1)[1], 16)
            if local_port == server_port and remote_port == client_port and fields[3] == "01":
                return fields[9]
    return None


class Connection:
    """One keep-alive connection to the server, and the worker process that holds its other end."""

    def __init__(self, server: LiveServer, signer: Client):
        self.server = server
        self.signer = signer
        self.http = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        self.http.connect()
        self.local_port = self.http.sock.getsockname()[1]
        self.worker: int | None = None

    def find_worker(self, workers: list[int]) -> int | None:
        inode = _inode_of_connection(self.server.port, self.local_port)
        if inode is None:
            return None
        for pid in workers:
            if inode in _socket_inodes(pid):
                self.worker = pid
                return pid
        return None

    def post(self, path: str, params: dict[str, Any] | None = None, token: str | None = None) -> tuple[int, dict]:
        body, sign = self.signer.signed(params)
        headers = {"Content-Type": "application/json", "sign": sign}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self.http.request("POST", path, json.dumps(body), headers)
        response = self.http.getresponse()
        payload = json.loads(response.read())
        # Still the same connection, so still the same worker.
        assert self.http.sock is not None and self.http.sock.getsockname()[1] == self.local_port
        return response.status, payload

    def close(self) -> None:
        self.http.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    live = LiveServer(tmp_path_factory.mktemp("workers"), workers=2, APP_DEBUG=1, **SERVER_SETTINGS)
    try:
        c = Client(live.url)
        try:
            register_user(c, ACCOUNT, PHONE, PASSWORD)
        finally:
            c.http.close()
        yield live
    finally:
        live.stop()


@pytest.fixture
def by_worker(server: LiveServer) -> Iterator[dict[int, list[Connection]]]:
    """Three fresh keep-alive connections held by each of the two workers."""
    signer = Client(server.url)
    per_worker: dict[int, list[Connection]] = {}
    spare: list[Connection] = []
    deadline = time.monotonic() + 30
    try:
        while time.monotonic() < deadline:
            workers = _children(server.process.pid)
            connection = Connection(server, signer)
            # The worker accepts the connection a moment after the handshake.
            for _ in range(50):
                if connection.find_worker(workers) is not None:
                    break
                time.sleep(0.01)
            if connection.worker is None:
                spare.append(connection)
                continue
            held = per_worker.setdefault(connection.worker, [])
            held.append(connection)
            if len(held) > 3:  # keep the newest three (idle keep-alive connections time out)
                spare.append(held.pop(0))
            if len(per_worker) >= 2 and all(len(c) == 3 for c in per_worker.values()):
                break
        assert len(per_worker) == 2 and all(len(c) == 3 for c in per_worker.values()), \
            f"could not reach both workers: {[(pid, len(c)) for pid, c in per_worker.items()]}"
        for connection in spare:
            connection.close()
        spare.clear()
        yield per_worker
    finally:
        for connection in spare + [c for held in per_worker.values() for c in held]:
            connection.close()
        signer.http.close()


def _login(connection: Connection, driver: str) -> tuple[str, str | None]:
    if driver == "jwt":
        status, body = connection.post("/login/jwt/get", {"account": ACCOUNT, "pwd": PASSWORD})
        assert status == 200, body
        return body["data"]["jwt"], body["data"]["refresh_jwt"]
    status, body = connection.post("/v2/login", {"username": ACCOUNT, "password": PASSWORD})
    assert status == 200, body
    return body["data"]["token"], None


@pytest.mark.parametrize("driver", ["jwt", "md5"])
@pytest.mark.parametrize("through", [0, 1])
def test_deactivation_through_one_worker_holds_in_the_other(by_worker: dict[int, list[Connection]],
                                                            driver: str, through: int) -> None:
    pids = sorted(by_worker)
    first, other = by_worker[pids[through]], by_worker[pids[1 - through]]
    access, refresh = _login(first[0], driver)
    # Both workers accept the token first (so any per-worker memory of it would be warm).
    for connection in first + other:
        status, body = connection.post("/v2/test", token=access)
        assert (status, body["code"], body["data"]["account"]) == (200, 200, ACCOUNT), body

    status, body = first[0].post("/login/jwt/deactivate", {"jwt": access})
    assert (status, body) == (200, {"code": 200, "msg": "ok", "status": True, "data": []})

    # At once: 30 requests spread over both workers (two of every three to the other one).
    answered_by: set[int] = set()
    for i in range(30):
        connection = first[(i // 3) % 3] if i % 3 == 0 else other[(i + i // 3) % 3]
        status, body = connection.post("/v2/test", token=access)
        assert status == 401 and body["code"] == 9908 and body["data"] == [], body
        answered_by.add(connection.worker)
    assert answered_by == set(pids)

    for connection in other:
        status, body = connection.post("/login/jwt/status", {"jwt": access})
        assert status == 401 and body["code"] == 9908, body
        status, body = connection.post("/v1/test", token=access)
        assert status == 401 and body["errorcode"] == 60010, body
        if refresh:
            status, body = connection.post("/login/jwt/refresh", {"jwt": refresh})
            assert (status, body) == (401, {"code": 9908, "msg": "认证失败：refresh jwt expred or others",
                                            "status": False, "data": []})
