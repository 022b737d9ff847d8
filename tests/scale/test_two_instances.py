"""Two server processes on two ports, one database and one Redis: they behave as one service.

Variants: MariaDB + Redis (the shared short-lived state in Redis), and PostgreSQL without Redis
(the shared short-lived state in the database, DatabaseCache). Each is skipped, saying why,
when its servers are down.
"""
from __future__ import annotations

import secrets
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from itertools import count
from typing import Any

import pytest
import requests

from tests.scale.helpers import FAST, drop_redis_prefix, fresh_database, require, run_sql
from tests.support import REDIS_URL, Client, LiveServer, expect_error, expect_ok, phone_index, register_user

SETTINGS = {**FAST, "APP_DEBUG": 1, "LOGIN_LOCK_AFTER": 5, "LOGIN_CAPTCHA_AFTER": 100}
_numbers = count(1)


class Pair:
    def __init__(self, a: LiveServer, b: LiveServer, url: str):
        self.a, self.b, self.url = a, b, url
        self.ca, self.cb = Client(a.url), Client(b.url)

    def client(self, i: int) -> Client:
        """Alternately A and B."""
        return self.ca if i % 2 == 0 else self.cb

    def query(self, sql: str, *params: Any) -> list[tuple]:
        return run_sql(self.url, sql, *params)

    def user(self) -> dict[str, str]:
        """A new user, registered through A."""
        n = next(_numbers)
        user = {"account": f"Two{n}", "phone": f"1370000{n:04d}", "password": f"pass_{n:04d}"}
        register_user(self.ca, user["account"], user["phone"], user["password"])
        return user


@pytest.fixture(scope="module", params=[
    pytest.param("mysql+redis", marks=[pytest.mark.mysql, pytest.mark.redis]),
    pytest.param("postgres", marks=pytest.mark.postgres)])
def pair(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    backend, _, with_redis = request.param.partition("+")
    require(backend, *(["redis"] if with_redis else []))
    shared = {"REDIS_URL": REDIS_URL, "REDIS_PREFIX": f"test:{secrets.token_hex(6)}:"} if with_redis \
        else {"REDIS_URL": ""}
    with fresh_database(backend, tmp_path_factory.mktemp("unused")) as url:
        # Started at the same moment: both migrate the empty database at start, one after the other.
        with ThreadPoolExecutor(max_workers=2) as pool:
            starting = [pool.submit(LiveServer, tmp_path_factory.mktemp(n), DATABASE_URL=url, **shared, **SETTINGS)
                        for n in ("a", "b")]
        started = [f.result() for f in starting if f.exception() is None]
        if len(started) < 2:
            for server in started:
                server.stop()
            raise next(f.exception() for f in starting if f.exception() is not None)
        a, b = started
        p = Pair(a, b, url)
        try:
            yield p
        finally:
            p.ca.http.close()
            p.cb.http.close()
            a.stop()
            b.stop()
            if with_redis:
                drop_redis_prefix(REDIS_URL, shared["REDIS_PREFIX"])


def _login(client: Client, user: dict[str, str], jwt: bool) -> tuple[str, str | None]:
    """(access token, refresh token or None): an md5 token from /v2/login or a JWT pair from jwt/get."""
    if jwt:
        data = expect_ok(client.post("/login/jwt/get", {"account": user["account"], "pwd": user["password"]}), "v2")
        return data["jwt"], data["refresh_jwt"]
    data = expect_ok(client.post("/v2/login", {"username": user["account"], "password": user["password"]}), "v2")
    return data["token"], None


def refused(response: requests.Response) -> None:
    expect_error(response, "v2", 60010, 9908, 401)


def test_a_token_revoked_on_one_instance_is_refused_by_the_other_200_times(pair: Pair) -> None:
    user = pair.user()
    local, opened = threading.local(), []

    def trial(i: int) -> None:
        if not hasattr(local, "clients"):
            local.clients = (Client(pair.a.url), Client(pair.b.url))
            opened.extend(local.clients)
        a, b = local.clients
        # log in on A or B; revoke on A or B; use the token on the instance that did not revoke it
        login_on, revoke_on = (a, b)[i % 2], (a, b)[i // 2 % 2]
        use_on = b if revoke_on is a else a
        token, refresh = _login(login_on, user, jwt=i % 8 >= 4)
        expect_ok(use_on.post("/v2/test", token=token), "v2")  # it works there before the revoke
        expect_ok(revoke_on.post("/login/jwt/deactivate", {"jwt": token}), "v2")
        refused(use_on.post("/v2/test", token=token))
        if refresh is not None:
            refused(use_on.post("/login/jwt/refresh", {"jwt": refresh}))

    # Trials run eight at a time (each one in order), so 200 of them take a few seconds.
    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(trial, range(200)))
    finally:
        for client in opened:
            client.http.close()
    assert pair.query("SELECT COUNT(*) FROM auth_token t JOIN users u ON u.id = t.uid "
                      "WHERE u.account = ?", user["account"]) == [(200 + 100,)]  # 100 JWT trials: 2 tokens
    assert pair.query("SELECT COUNT(*) FROM auth_token t JOIN users u ON u.id = t.uid "
                      "WHERE u.account = ? AND t.revoked = 0", user["account"]) == [(0,)]


def test_an_sms_code_sent_through_one_instance_registers_through_the_other(pair: Pair) -> None:
    n = next(_numbers)
    account, phone, password = f"Sms{n}", f"1360000{n:04d}", "pass_word1"
    code = expect_ok(pair.ca.post("/login/send/sms", {"phone": phone}), "v2")["code"]
    # the phone's code is live everywhere: B refuses a second send
    expect_error(pair.cb.post("/login/send/sms", {"phone": phone}), "v2", 60025, 50017, 400)
    body = {"account": account, "password": password, "password_confirmation": password, "phone": phone}
    expect_ok(pair.cb.post("/login/register", {**body, "code": code}), "v2", 201)
    # the code is used up, in the one database both instances read
    assert pair.query("SELECT COUNT(*) FROM sms_code WHERE phone = ? AND used_at IS NOT NULL",
                      phone_index(phone)) == [(1,)]
    token, _ = _login(pair.ca, {"account": account, "password": password}, jwt=False)
    expect_ok(pair.cb.post("/v2/test", token=token), "v2")


def test_fifty_concurrent_sends_for_one_phone_through_both_instances_send_one_code(pair: Pair) -> None:
    phone = f"1350000{next(_numbers):04d}"
    barrier = threading.Barrier(50)

    def send(i: int) -> requests.Response:
        client = Client((pair.a if i % 2 == 0 else pair.b).url)
        try:
            params, sign = client.signed({"phone": phone})
            barrier.wait(timeout=30)
            return client.http.post(client.base_url + "/login/send/sms", json=params, headers={"sign": sign},
                                    timeout=30)
        finally:
            client.http.close()

    with ThreadPoolExecutor(max_workers=50) as pool:
        responses = list(pool.map(send, range(50)))
    ok = [r for r in responses if r.status_code == 200]
    assert len(ok) == 1, [(r.status_code, r.text) for r in responses]
    for r in responses:
        if r.status_code != 200:
            expect_error(r, "v2", 60025, 50017, 400)
    assert pair.query("SELECT COUNT(*) FROM sms_code WHERE phone = ?", phone_index(phone)) == [(1,)]


def test_a_lockout_is_reached_with_failures_split_across_both_instances(pair: Pair) -> None:
    user = pair.user()
    wrong = {"username": user["account"], "password": "wrong_pass1"}
    for i in range(5):  # 3 on A, 2 on B: neither instance alone saw 5
        expect_error(pair.client(i).post("/v2/login", wrong), "v2", 60001, 50006, 401)
    right = {"username": user["account"], "password": user["password"]}
    expect_error(pair.ca.post("/v2/login", right), "v2", 60001, 50006, 401)
    expect_error(pair.cb.post("/v2/login", right), "v2", 60001, 50006, 401)
    expect_error(pair.cb.post("/login/jwt/get", {"account": user["phone"], "pwd": user["password"]}),
                 "v2", 60001, 50006, 401)


def test_four_failures_split_across_both_instances_do_not_lock(pair: Pair) -> None:
    """The control of the lockout test: below the threshold the right password still works."""
    user = pair.user()
    for i in range(4):
        expect_error(pair.client(i).post("/v2/login", {"username": user["account"], "password": "wrong_pass1"}),
                     "v2", 60001, 50006, 401)
    _login(pair.cb, user, jwt=False)


def test_a_request_replayed_to_the_other_instance_is_refused(pair: Pair) -> None:
    user = pair.user()
    token, _ = _login(pair.ca, user, jwt=False)
    params, sign = pair.ca.signed({})
    first = pair.ca.http.post(pair.a.url + "/v2/test", json=params,
                              headers={"sign": sign, "Authorization": f"Bearer {token}"}, timeout=30)
    expect_ok(first, "v2")
    again = pair.cb.http.post(pair.b.url + "/v2/test", json=params,
                              headers={"sign": sign, "Authorization": f"Bearer {token}"}, timeout=30)
    expect_error(again, "v2", 60016, 9912, 401)
