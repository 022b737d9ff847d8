"""Outages: Redis going away mid-run answers 503 and recovers; an unreachable database fails start-up clearly.

The Redis here is a private `redis-server` on a free port, started and stopped by the test.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.scale.helpers import FAST, port_open
from tests.support import (
    ROOT,
    Client,
    LiveServer,
    expect_error,
    expect_ok,
    free_port,
    phone_index,
    register_user,
    server_env,
)

ACCOUNT, PHONE, PASSWORD = "Outage", "13812340000", "outage_pw1"


class PrivateRedis:
    def __init__(self, folder: Path):
        if shutil.which("redis-server") is None:
            pytest.skip("needs the redis-server binary (Debian package redis-server): not on PATH")
        self.folder = folder
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--daemonize", "no", "--dir", str(self.folder)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while not port_open(self.port):
            assert self.process.poll() is None, f"redis-server exited with {self.process.returncode}"
            assert time.monotonic() < deadline, "redis-server did not open its port in 10 s"
            time.sleep(0.02)

    def stop(self) -> None:
        """Gone at once, as in a crash (SIGKILL)."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[PrivateRedis]:
    redis = PrivateRedis(tmp_path / "redis")
    redis.start()
    try:
        yield redis
    finally:
        redis.stop()


def unavailable(response: requests.Response, version: str = "v2") -> None:
    """HTTP 503 in the version's envelope: SERVICE_UNAVAILABLE (v1 60019, v2 9915)."""
    expect_error(response, version, 60019, 9915, 503)


def test_redis_going_away_answers_503_and_recovers_when_it_returns(redis_server: PrivateRedis,
                                                                    tmp_path: Path) -> None:
    settings = {"REDIS_URL": redis_server.url, "APP_DEBUG": 1, **FAST}
    signed = LiveServer(tmp_path / "signed", **settings)
    # A second instance on the same database and Redis with signing off: its login and SMS checks
    # (lockout, throttling, the per-phone lock) are the ones that meet the cache first.
    database = signed.env.get("DATABASE_URL") or f"sqlite:///{signed.db_path}"
    unsigned = LiveServer(tmp_path / "unsigned", DATABASE_URL=database, SIGN_REQUIRED=0, **settings)
    client, plain = Client(signed.url), Client(unsigned.url)
    try:
        register_user(client, ACCOUNT, PHONE, PASSWORD)
        token = expect_ok(client.post("/v2/login", {"username": ACCOUNT, "password": PASSWORD}), "v2")["token"]
        expect_ok(client.post("/v2/test", token=token), "v2")
        expect_ok(plain.post("/v2/test", token=token, sign=False), "v2")
        tokens_before = signed.query("SELECT COUNT(*) FROM auth_token")

        redis_server.stop()
        for _ in range(3):
            unavailable(client.post("/v2/test", token=token))
            unavailable(client.post("/v1/test", token=token), "v1")
            unavailable(client.post("/v2/login", {"username": ACCOUNT, "password": PASSWORD}))
            unavailable(plain.post("/v2/login", {"username": ACCOUNT, "password": PASSWORD}, sign=False))
            unavailable(plain.post("/login/jwt/get", {"account": ACCOUNT, "pwd": PASSWORD}, sign=False))
            unavailable(plain.post("/login/send/sms", {"phone": "13812349999"}, sign=False))
        # nothing was issued or sent while the checks could not run
        assert signed.query("SELECT COUNT(*) FROM sms_code WHERE phone = ?", phone_index('13812349999')) == [(0,)]
        assert signed.query("SELECT COUNT(*) FROM auth_token") == tokens_before

        redis_server.start()  # the same port, empty (it keeps nothing)
        deadline = time.monotonic() + 10
        while True:
            response = client.post("/v2/test", token=token)
            if response.status_code == 200:
                break
            unavailable(response)  # until it reconnects, still an honest 503
            assert time.monotonic() < deadline, "no recovery within 10 s of Redis coming back"
            time.sleep(0.1)
        expect_ok(client.post("/v2/test", token=token), "v2")
        expect_ok(client.post("/v2/login", {"username": ACCOUNT, "password": PASSWORD}), "v2")
        expect_ok(plain.post("/v2/login", {"username": ACCOUNT, "password": PASSWORD}, sign=False), "v2")
        expect_ok(plain.post("/login/send/sms", {"phone": "13812349999"}, sign=False), "v2")
    finally:
        client.http.close()
        plain.http.close()
        unsigned.stop()
        signed.stop()


def _run(*args: str, url: str, tmp_path: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "server.py"), *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=60, env=server_env(tmp_path / "runtime", DATABASE_URL=url))


@pytest.mark.parametrize("args", [["migrate"], ["--port", "0"]], ids=["migrate", "serve"])
def test_an_unreachable_mysql_fails_start_up_with_one_clear_error_line(args: list[str], tmp_path: Path) -> None:
    done = _run(*args, url="mysql://root@127.0.0.1:1/x", tmp_path=tmp_path)
    assert done.returncode != 0, (done.stdout, done.stderr)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    assert "127.0.0.1" in lines[0] or "connect" in lines[0].lower(), lines[0]


def test_an_unreachable_postgresql_fails_start_up_with_a_clear_error(tmp_path: Path) -> None:
    done = _run("migrate", url="postgresql://postgres@127.0.0.1:1/x", tmp_path=tmp_path)
    assert done.returncode != 0, (done.stdout, done.stderr)
    assert done.stderr.startswith("error: "), done.stderr
    assert [line for line in done.stderr.splitlines() if line.startswith("error:")] == \
        done.stderr.splitlines()[:1]
    assert "Traceback" not in done.stdout + done.stderr
