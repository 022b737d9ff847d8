"""Two apps made by create_app() in one process, with different settings, each keeping to its own.

Each app owns its database, sign secret, JWT secret, data key, phone pattern and events switch
(app/common/app_state.py). Driven alternately, from threads at once, and interleaved on one event
loop, neither may see the other's: rows land in its own database, its secrets and pattern are its
own, its events go to its own webhook, and stopping one leaves the other working.
"""
from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx2
import pytest

from app.common import app_state
from app.common.data_crypto import DataKeys
from app.common.error import answer
from app.common.sign import make_sign
from tests.inprocess import InProcessServer
from tests.ops.helpers import wait_for
from tests.ops.webhook_receiver import Receiver
from tests.support import Client, expect_error, expect_ok, phone_index, sms_code

PASSWORD = "right_pass_1"
WEBHOOK_SECRET = "webhook-secret-for-tests-0123456789"
COMMON = {"APP_DEBUG": 1, "SMS_IP_LIMIT": 100000, "LOGIN_IP_LIMIT": 100000}
A = {"SIGN_SECRET": "sign-secret-of-app-a-0123456789abcdef", "JWT_SECRET": "jwt-secret-of-app-a-" + "a" * 40,
     "DATA_KEY": "data-key-of-app-a-" + "a" * 40}
B = {"SIGN_SECRET": "sign-secret-of-app-b-0123456789abcdef", "JWT_SECRET": "jwt-secret-of-app-b-" + "b" * 40,
     "DATA_KEY": "data-key-of-app-b-" + "b" * 40, "PHONE_PATTERN": r"^\+\d{8,15}$"}
PHONE_A, PHONE_B = "13911110001", "+4915112340001"


class App:
    """One in-process app and a client signing with its secret."""

    def __init__(self, server: InProcessServer, keys: dict[str, str]):
        self.server, self.keys = server, keys
        self.client = Client(server.url, secret=keys["SIGN_SECRET"])

    def register(self, account: str, phone: str) -> None:
        code = sms_code(self.client, phone)
        expect_ok(self.client.post("/login/register", {"account": account, "phone": phone, "code": code,
                                                       "password": PASSWORD, "password_confirmation": PASSWORD}),
                  "v2", 201)

    def login(self, account: str) -> str:
        return expect_ok(self.client.post("/v2/login/jwt/get", {"account": account, "pwd": PASSWORD}), "v2")["jwt"]

    def whoami(self, token: str) -> dict[str, Any]:
        return expect_ok(self.client.post("/v2/test", token=token), "v2")

    def accounts(self) -> list[str]:
        return [row[0] for row in self.server.query("SELECT account FROM users ORDER BY id")]


@pytest.fixture
def apps(tmp_path: Path) -> Iterator[tuple[App, App, Receiver]]:
    receiver = Receiver(WEBHOOK_SECRET)
    events = {"WEBHOOK_URL": receiver.url, "WEBHOOK_SECRET": WEBHOOK_SECRET, "EVENTS_POLL": 0.05,
              "WEBHOOK_TIMEOUT": 1.0}
    first = second = None
    before = app_state.default()  # given back at the end: B's phone pattern must not outlive the test
    try:
        first = InProcessServer(tmp_path / "a", **COMMON, **A, **events)
        second = InProcessServer(tmp_path / "b", **COMMON, **B)
        # No process default while they run: whatever a request reaches must come from its own app,
        # so a task or thread that lost its app's context fails here instead of using another's.
        app_state.set_default(None)
        yield App(first, A), App(second, B), receiver
    finally:
        for server in (second, first):
            if server is not None:
                server.stop()
        receiver.stop()
        app_state.set_default(before)


def test_each_app_keeps_its_own_database_secrets_pattern_and_events(apps: tuple[App, App, Receiver]) -> None:
    a, b, receiver = apps
    assert a.server.db_path != b.server.db_path

    # Each app's phone pattern: a Chinese mobile on A, an international number on B, not the other way.
    invalid = answer("PARAM_INVALID")
    expect_error(a.client.post("/login/send/sms", {"phone": PHONE_B}), "v2", invalid.v1, invalid.v2, invalid.http)
    expect_error(b.client.post("/login/send/sms", {"phone": PHONE_A}), "v2", invalid.v1, invalid.v2, invalid.http)

    # Each app's sign secret: a request signed for one is a wrong signature to the other.
    wrong_sign = answer("SIGN_INVALID")
    for app, other in ((a, b), (b, a)):
        foreign = Client(app.server.url, secret=other.keys["SIGN_SECRET"])
        expect_error(foreign.post("/login/send/sms", {"phone": PHONE_A}), "v2",
                     wrong_sign.v1, wrong_sign.v2, wrong_sign.http)

    # Registered and logged in alternately: each user in its own app's database only.
    a.register("alice", PHONE_A)
    b.register("bob", PHONE_B)
    token_a = a.login("alice")
    token_b = b.login("bob")
    assert a.accounts() == ["alice"] and b.accounts() == ["bob"]

    # Each app's data key: the phone's blind index and ciphertext are under its own key only.
    for app, phone in ((a, PHONE_A), (b, PHONE_B)):
        (index, stored), = app.server.query("SELECT phone, phone_enc FROM users")
        assert index == phone_index(phone, app.keys["DATA_KEY"])
        assert DataKeys(app.keys["DATA_KEY"]).decrypt(stored) == phone
    assert a.whoami(token_a)["account"] == "alice" and a.whoami(token_a)["phone"] == PHONE_A
    assert b.whoami(token_b)["account"] == "bob" and b.whoami(token_b)["phone"] == PHONE_B

    # Each app's JWT secret (and Auth): a token of one is refused by the other.
    refused = answer("TOKEN_INVALID")
    expect_error(b.client.post("/v2/test", token=token_a), "v2", refused.v1, refused.v2, refused.http)
    expect_error(a.client.post("/v2/test", token=token_b), "v2", refused.v1, refused.v2, refused.http)

    # Events on A only (WEBHOOK_URL): its consumer delivers A's events, and B records none.
    wait_for(lambda: len(receiver.accepted) >= 2)
    time.sleep(0.3)  # anything recorded wrongly would be delivered by now
    assert [e["type"] for e in receiver.accepted] == ["user.registered", "login.succeeded"]
    assert b.server.query("SELECT COUNT(*) FROM event_outbox") == [(0,)]


def test_both_apps_at_once_from_threads_and_on_one_event_loop(apps: tuple[App, App, Receiver]) -> None:
    a, b, _ = apps
    a.register("alice", PHONE_A)
    b.register("bob", PHONE_B)

    # From threads: each app's own event loop, both at work at the same time.
    def round_trip(app: App, account: str) -> tuple[str, str]:
        identity = app.whoami(app.login(account))
        return identity["account"], identity["phone"]

    jobs = [(a, "alice"), (b, "bob")] * 6
    with ThreadPoolExecutor(len(jobs)) as pool:
        done = list(pool.map(lambda job: round_trip(*job), jobs))
    assert done == [("alice", PHONE_A), ("bob", PHONE_B)] * 6

    # On one event loop: requests to both apps interleave at every await (and each db_write's thread hop).
    async def signed(client: httpx2.AsyncClient, app: App, path: str, params: dict[str, Any],
                     token: str | None = None) -> dict[str, Any]:
        params = {**params, "timestamp": int(time.time()), "nonce": secrets.token_hex(8)}
        headers = {"sign": make_sign(params, app.keys["SIGN_SECRET"])}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        response = await client.post(path, json=params, headers=headers)
        assert response.status_code == 200, response.text
        return response.json()["data"]

    async def interleaved() -> list[tuple[str, str]]:
        clients = {}
        for app in (a, b):
            transport = httpx2.ASGITransport(app=app.server.app, client=("127.0.0.1", 50000))
            clients[app] = httpx2.AsyncClient(transport=transport, base_url="http://test")

        async def one(app: App, account: str) -> tuple[str, str]:
            got = await signed(clients[app], app, "/v2/login/jwt/get", {"account": account, "pwd": PASSWORD})
            identity = await signed(clients[app], app, "/v2/test", {}, got["jwt"])
            return identity["account"], identity["phone"]

        try:
            return list(await asyncio.gather(*(one(app, account) for app, account in jobs)))
        finally:
            for client in clients.values():
                await client.aclose()

    assert asyncio.run(interleaved()) == [("alice", PHONE_A), ("bob", PHONE_B)] * 6
    sessions = [app.server.query("SELECT COUNT(*) FROM auth_session")[0][0] for app in (a, b)]
    assert sessions == [12, 12]  # each login's session in its own app's database


def test_stopping_one_app_leaves_the_other_working(apps: tuple[App, App, Receiver]) -> None:
    a, b, _ = apps
    a.register("alice", PHONE_A)
    b.register("bob", PHONE_B)
    token_b = b.login("bob")
    a.server.stop()

    assert b.whoami(token_b)["account"] == "bob"
    b.register("carol", "+4915112340002")
    assert b.whoami(b.login("carol"))["phone"] == "+4915112340002"
    assert b.accounts() == ["bob", "carol"]
    assert a.accounts() == ["alice"]
