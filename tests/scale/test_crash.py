"""Durability: what the server acknowledged survives `kill -9` of every one of its processes.

A few client threads keep registering (send/sms, then register), logging in and revoking
tokens against a server with two uvicorn workers; in the middle of that stream every process
of the server (`python server.py` and its workers) is killed with SIGKILL at once. A new
server on the same runtime folder and database must then know every acknowledged (2xx)
registration, accept every acknowledged token, and still refuse every acknowledged revocation.
"""
from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.scale.helpers import FAST, fresh_database, kill_tree, listeners, process_tree, run_sql, wait_gone
from tests.support import Client, LiveServer, expect_error, expect_ok

LOAD_THREADS = 4
LOAD_SECONDS = 2.0


@dataclass
class Ledger:
    """What the server acknowledged, and what went wrong while it was up."""

    users: list[tuple[str, str]] = field(default_factory=list)
    tokens: list[str] = field(default_factory=list)
    revoked: list[str] = field(default_factory=list)
    unexpected: list[Any] = field(default_factory=list)
    cut_off: int = 0  # threads whose request was cut by the kill
    lock: threading.Lock = field(default_factory=threading.Lock)

    def enough(self) -> bool:
        with self.lock:
            return len(self.users) >= 10 and bool(self.tokens) and bool(self.revoked)

    def add(self, name: str, value: Any) -> None:
        with self.lock:
            getattr(self, name).append(value)


def _load(url: str, worker: int, ledger: Ledger, stop: threading.Event) -> None:
    client = Client(url)
    n = 0
    try:
        while not stop.is_set():
            n += 1
            account, phone, password = f"C{worker}x{n}", f"139{worker:02d}{n:06d}", f"pw_{worker}_{n}x"
            try:
                sent = client.post("/login/send/sms", {"phone": phone})
                if sent.status_code != 200:
                    ledger.add("unexpected", ("send/sms", sent.status_code, sent.text))
                    return
                done = client.post("/login/register", {"account": account, "password": password,
                                                       "password_confirmation": password, "phone": phone,
                                                       "code": sent.json()["data"]["code"]})
                if done.status_code != 201:
                    ledger.add("unexpected", ("register", done.status_code, done.text))
                    return
                ledger.add("users", (account, password))
                if n % 2:
                    got = client.post("/v2/login", {"username": account, "password": password})
                    token = got.json()["data"]["token"] if got.status_code == 200 else None
                else:
                    got = client.post("/login/jwt/get", {"account": phone, "pwd": password})
                    token = got.json()["data"]["jwt"] if got.status_code == 200 else None
                if token is None:
                    ledger.add("unexpected", ("login", got.status_code, got.text))
                    return
                if n % 3 == 0:
                    ended = client.post("/login/jwt/deactivate", {"jwt": token})
                    if ended.status_code != 200:
                        ledger.add("unexpected", ("deactivate", ended.status_code, ended.text))
                        return
                    ledger.add("revoked", token)
                else:
                    ledger.add("tokens", token)
            except requests.ConnectionError:
                # The kill cut this request: its outcome is unknown, so nothing of it is claimed.
                with ledger.lock:
                    ledger.cut_off += 1
                return
    finally:
        client.http.close()


def _check(url: str, ledger: Ledger) -> None:
    local, opened = threading.local(), []

    def client() -> Client:
        if not hasattr(local, "client"):
            local.client = Client(url)
            opened.append(local.client)
        return local.client

    def login(user: tuple[str, str]) -> None:
        expect_ok(client().post("/v2/login", {"username": user[0], "password": user[1]}), "v2")

    def live(token: str) -> None:
        expect_ok(client().post("/v2/test", token=token), "v2")

    def revoked(token: str) -> None:
        expect_error(client().post("/v2/test", token=token), "v2", 60010, 9908, 401)

    try:
        with ThreadPoolExecutor(max_workers=4) as pool:
            list(pool.map(login, ledger.users))
            list(pool.map(live, ledger.tokens))
            list(pool.map(revoked, ledger.revoked))
    finally:
        for c in opened:
            c.http.close()


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("mysql", marks=pytest.mark.mysql)])
def test_acknowledged_writes_survive_kill_9_of_every_server_process(backend: str, tmp_path: Path) -> None:
    runtime = tmp_path / "runtime"
    with fresh_database(backend, runtime) as url:
        settings = {"DATABASE_URL": url, "REDIS_URL": "", "APP_DEBUG": 1, **FAST}
        server = LiveServer(runtime, workers=2, **settings)
        try:
            pids = process_tree(server.process.pid)
            assert len(pids) >= 3, f"expected server.py and two workers, found processes {pids}"
            ledger, stop = Ledger(), threading.Event()
            threads = [threading.Thread(target=_load, args=(server.url, i, ledger, stop)) for i in range(LOAD_THREADS)]
            for t in threads:
                t.start()
            time.sleep(LOAD_SECONDS)
            # On a busy machine, a little longer: until there is something of each kind to check.
            deadline = time.monotonic() + 20
            while not ledger.enough() and not ledger.unexpected and time.monotonic() < deadline:
                time.sleep(0.1)
            killed = kill_tree(server.process.pid)
            stop.set()
            wait_gone(killed)
            for t in threads:
                t.join(30)
            # No process may still listen on the port. (Beside other pytest workers, a listening socket
            # that no process holds any more sometimes stays in the kernel's table: one the server was
            # handing to a worker when the kill struck, most likely. It serves no one; it is not a survivor.)
            left = listeners(server.port)
            assert not left, f"a process still listens on the killed server's port {server.port}: {left}"
        finally:
            server.stop()
        assert not ledger.unexpected, ledger.unexpected
        assert ledger.cut_off >= 1, "the kill cut no request: the load was not running when it struck"
        assert ledger.enough(), (len(ledger.users), len(ledger.tokens), len(ledger.revoked))

        print(f"acknowledged: {len(ledger.users)} registrations, {len(ledger.tokens)} tokens, "
              f"{len(ledger.revoked)} revocations; {ledger.cut_off} requests cut by the kill")
        restarted = LiveServer(runtime, **settings)
        try:
            _check(restarted.url, ledger)
            accounts = {a for (a,) in run_sql(url, "SELECT account FROM users")}
            assert {a for a, _ in ledger.users} <= accounts
        finally:
            restarted.stop()
