"""Two databases, one runtime folder and one Redis: neither sees the other's short-lived state (SPEC §10).

Each database gets an identity at its migration 6, and the shared state (nonces, signatures,
counters, locks, captchas) is kept under it. Without it, user 1 locked on one database was
locked on the other, and a nonce used on one was a replay on the other.
"""
from __future__ import annotations

import secrets
import time
from collections.abc import Iterator

import pytest
import requests

from tests.scale.helpers import FAST, drop_redis_prefix, fresh_database, require
from tests.support import REDIS_URL, TEST_BACKEND, Client, LiveServer, expect_error, expect_ok

SETTINGS = {**FAST, "APP_DEBUG": 1, "LOGIN_LOCK_AFTER": 3, "LOGIN_CAPTCHA_AFTER": 100}
PASSWORD = "right_pass_1"
LOGIN_FAILED = (60001, 50006, 401)
REPLAY = (60016, 9912, 401)


@pytest.fixture(scope="module", params=["lmdb", pytest.param("redis", marks=pytest.mark.redis)])
def servers(request: pytest.FixtureRequest,
            tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, LiveServer]]:
    """Two servers on two databases sharing one runtime folder (and so cache.lmdb) or one Redis prefix."""
    if request.param == "redis":
        require("redis")
        shared = {"REDIS_URL": REDIS_URL, "REDIS_PREFIX": f"test:{secrets.token_hex(6)}:"}
    else:
        # The shared LMDB file serves SQLite databases; MySQL/PostgreSQL without Redis keep it in themselves.
        shared = {"REDIS_URL": ""}
    runtime = tmp_path_factory.mktemp("shared") / "runtime"
    # Two empty databases of TEST_BACKEND (two SQLite files by default), one runtime folder.
    with fresh_database(TEST_BACKEND, runtime / "first") as first, \
            fresh_database(TEST_BACKEND, runtime / "second") as second:
        started: list[LiveServer] = []
        try:
            for url in (first, second):
                started.append(LiveServer(runtime, DATABASE_URL=url, **shared, **SETTINGS))
            yield started[0], started[1]
        finally:
            for server in started:
                server.stop()
            if request.param == "redis":
                drop_redis_prefix(REDIS_URL, shared["REDIS_PREFIX"])


def login(client: Client, password: str) -> requests.Response:
    return client.post("/v2/login/jwt/get", {"account": "Same", "pwd": password})


def test_a_user_locked_on_one_database_logs_in_on_the_other(servers: tuple[LiveServer, LiveServer]) -> None:
    a, b = servers
    # The same account on each, and the same id: the first user of a fresh database.
    assert a.create_user("Same", "13900000088", PASSWORD) == b.create_user("Same", "13900000088", PASSWORD)
    ca, cb = Client(a.url), Client(b.url)
    for _ in range(3):
        expect_error(login(ca, "wrong_pass_1"), "v2", *LOGIN_FAILED)
    expect_error(login(ca, PASSWORD), "v2", *LOGIN_FAILED)  # locked on A: the right password fails there
    expect_ok(login(cb, PASSWORD), "v2")


def test_a_nonce_used_on_one_database_is_fresh_on_the_other(servers: tuple[LiveServer, LiveServer]) -> None:
    a, b = servers
    body = {"account": "nobody", "pwd": "wrong_pass_1", "timestamp": int(time.time()),
            "nonce": secrets.token_hex(8)}
    ca, cb = Client(a.url), Client(b.url)
    expect_error(ca.send("/v2/login/jwt/get", body), "v2", *LOGIN_FAILED)
    expect_error(ca.send("/v2/login/jwt/get", body), "v2", *REPLAY)  # the same request again on A
    expect_error(cb.send("/v2/login/jwt/get", body), "v2", *LOGIN_FAILED)  # B never saw it
