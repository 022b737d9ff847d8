"""/{ver}/login and /{ver}/test against a live server (ThinkPHP document), in both envelopes."""
from __future__ import annotations

import hashlib
import itertools
import re
import secrets
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from app.common.clock import ManualClock
from tests.api import codes
from tests.inprocess import InProcessServer
from tests.support import Client, LiveServer, expect_error, expect_ok

VERSIONS = ["v1", "v2"]


@pytest.fixture(scope="module")
def short_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcessServer]:
    """A server whose md5 tokens live two seconds, in-process on a clock the test moves.

    Expiry is in whole seconds from the second of issue (as a JWT's `exp`), so a token's life is
    between TOKEN_TTL - 1 and TOKEN_TTL seconds: with 1, a login late in a second gave a token
    already expired by the next request (seen once in CI, on PostgreSQL).
    """
    app = InProcessServer(tmp_path_factory.mktemp("runtime-short"), clock=ManualClock(), TOKEN_TTL=2)
    yield app
    app.stop()


_numbers = itertools.count(1)


def fresh_user(server: LiveServer, password: str = "secret_123") -> dict:
    """A user of its own, so that failed logins of one test never add up with another's."""
    n = next(_numbers)
    account, phone = f"Fresh{n}", f"1370000{n:04d}"
    return {"uid": server.create_user(account, phone, password), "account": account, "phone": phone,
            "password": password}


def login(client: Client, user: dict, version: str = "v1", identity: str | None = None) -> str:
    data = expect_ok(client.post(f"/{version}/login", {"username": identity or user["account"],
                                                        "password": user["password"]}), version)
    return data["token"]


@pytest.mark.parametrize("version", VERSIONS)
def test_login_success(client: Client, user: dict, version: str) -> None:
    before = time.time()
    response = client.post(f"/{version}/login", {"username": "Foo", "password": user["password"]})
    data = expect_ok(response, version)
    body = response.json()
    assert body["message" if version == "v1" else "msg"] == ("登录成功" if version == "v1" else "ok")
    assert set(data) == {"token", "expires_in", "expire_time", "uid"}
    assert re.fullmatch(r"[0-9a-f]{32}", data["token"])
    assert data["expires_in"] == 7200
    assert data["uid"] == user["uid"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", data["expire_time"])
    shanghai = ZoneInfo("Asia/Shanghai")
    expire = datetime.strptime(data["expire_time"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=shanghai)
    expected = datetime.fromtimestamp(before, shanghai) + timedelta(hours=2)
    assert abs((expire - expected).total_seconds()) <= 3


@pytest.mark.parametrize("identity", ["13911119999", "foo", "FOO", "fOo"])
def test_login_by_phone_or_account_in_another_case(client: Client, user: dict, identity: str) -> None:
    token = login(client, user, identity=identity)
    assert expect_ok(client.post("/v1/test", token=token), "v1")["uid"] == user["uid"]


def test_every_login_gets_a_new_token(client: Client, user: dict) -> None:
    assert login(client, user) != login(client, user)


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("where", ["bearer", "bearer-lowercase", "header", "parameter", "form"])
def test_test_with_a_token(client: Client, user: dict, version: str, where: str) -> None:
    token = login(client, user)
    if where == "bearer":
        response = client.post(f"/{version}/test", token=token)
    elif where == "bearer-lowercase":
        response = client.post(f"/{version}/test", headers={"Authorization": f"bearer {token}"})
    elif where == "header":
        response = client.post(f"/{version}/test", headers={"token": token})
    elif where == "parameter":
        response = client.post(f"/{version}/test", {"token": token})
    else:  # a form body; the query string is no place for a token (SPEC §10, tests/api/test_input_rules.py)
        response = client.send(f"/{version}/test", {"token": token, "timestamp": int(time.time()),
                                                    "nonce": secrets.token_hex(8)}, form=True)
    data = expect_ok(response, version)
    assert data == {"uid": user["uid"], "account": "Foo", "phone": "13911119999", "rid": []}


def test_a_token_serves_both_versions(client: Client, user: dict) -> None:
    token = login(client, user, "v2")
    assert expect_ok(client.post("/v1/test", token=token), "v1")["uid"] == user["uid"]
    assert expect_ok(client.post("/v2/test", token=token), "v2")["uid"] == user["uid"]


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("token", ["0123456789abcdef" * 2, "not-a-token", "a" * 31, "g" * 32, "x.y.z"])
def test_wrong_token(client: Client, user: dict, version: str, token: str) -> None:
    login(client, user)          # a live token exists, just not this one
    message = expect_error(client.post(f"/{version}/test", token=token), version, *codes.TOKEN_INVALID)
    if version == "v2":
        assert message.startswith("认证失败：") and len(message) > len("认证失败：")


@pytest.mark.parametrize("version", VERSIONS)
def test_missing_token(client: Client, version: str) -> None:
    expect_error(client.post(f"/{version}/test"), version, *codes.TOKEN_INVALID)
    expect_error(client.post(f"/{version}/test", headers={"Authorization": "Bearer "}), version,
                 *codes.TOKEN_INVALID)
    expect_error(client.post(f"/{version}/test", headers={"Authorization": "Basic Zm9vOmJhcg=="}), version,
                 *codes.TOKEN_INVALID)


@pytest.mark.parametrize("version", VERSIONS)
def test_revoked_token(server: LiveServer, client: Client, user: dict, version: str) -> None:
    token = login(client, user)
    other = login(client, user)
    expect_ok(client.post(f"/{version}/test", token=token), version)
    # The row is keyed by the token's sha256 (SPEC §5: stored as a hash).
    key = hashlib.sha256(token.encode()).hexdigest()
    server.query("UPDATE auth_token SET revoked = 1 WHERE token_key = ?", key)
    assert server.query("SELECT revoked FROM auth_token WHERE token_key = ?", key) == [(1,)]
    expect_error(client.post(f"/{version}/test", token=token), version, *codes.TOKEN_INVALID)
    expect_ok(client.post(f"/{version}/test", token=other), version)


def test_expired_token(short_server: InProcessServer) -> None:
    short_server.create_user("Short", "13800000001", "secret_123")
    client = Client(short_server.url)
    data = expect_ok(client.post("/v1/login", {"username": "Short", "password": "secret_123"}), "v1")
    assert data["expires_in"] == 2
    expect_ok(client.post("/v1/test", token=data["token"]), "v1")
    short_server.clock.advance(2.1)  # past expire_at, which is at most 2 s after the login
    for version in VERSIONS:
        message = expect_error(client.post(f"/{version}/test", token=data["token"]), version, *codes.TOKEN_EXPIRED)
        assert "登录过期" in message
        if version == "v2":
            assert message.startswith("认证失败：")
    # A new login gets a live token again.
    data = expect_ok(client.post("/v2/login", {"username": "Short", "password": "secret_123"}), "v2")
    expect_ok(client.post("/v2/test", token=data["token"]), "v2")


# -- validation ------------------------------------------------------------------------------

@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("params, error, reason", [
    ({"password": "secret_123"}, codes.USERNAME_INVALID, "用户名必填"),
    ({"username": "", "password": "secret_123"}, codes.USERNAME_INVALID, "用户名必填"),
    ({"username": None, "password": "secret_123"}, codes.USERNAME_INVALID, "用户名必填"),
    ({"username": "Foo"}, codes.PASSWORD_INVALID, "密码必填"),
    ({"username": "Foo", "password": ""}, codes.PASSWORD_INVALID, "密码必填"),
    ({}, codes.USERNAME_INVALID, "用户名必填"),
    ({"username": "x" * 65, "password": "secret_123"}, codes.USERNAME_INVALID, None),
    ({"username": ["Foo"], "password": "secret_123"}, codes.USERNAME_INVALID, None),
    ({"username": {"a": "Foo"}, "password": "secret_123"}, codes.USERNAME_INVALID, None),
    ({"username": True, "password": "secret_123"}, codes.USERNAME_INVALID, None),
    ({"username": "Foo", "password": ["secret_123"]}, codes.PASSWORD_INVALID, None),
    ({"username": "Foo", "password": 1.5}, codes.PASSWORD_INVALID, None),
])
def test_validation(client: Client, user: dict, version: str, params: dict, error: tuple, reason: str | None) -> None:
    message = expect_error(client.post(f"/{version}/login", params), version, *error)
    if version == "v2":
        assert message.startswith("数据验证失败，原因如下：") and len(message) > len("数据验证失败，原因如下：")
    if reason is not None:
        assert message == (reason if version == "v1" else f"数据验证失败，原因如下：{reason}")


def test_validation_in_english(client: Client) -> None:
    message = expect_error(client.post("/v2/login", {"password": "x", "lang": "en"}), "v2", *codes.USERNAME_INVALID)
    assert message == "Data validation failed: username is required"
    message = expect_error(client.post("/v1/login", {"username": "Foo"}, headers={"Accept-Language": "en"}), "v1",
                           *codes.PASSWORD_INVALID)
    assert message == "password is required"


def test_a_number_is_read_as_text(client: Client, user: dict) -> None:
    data = expect_ok(client.post("/v1/login", {"username": 13911119999, "password": user["password"]}), "v1")
    assert data["uid"] == user["uid"]


# -- wrong password and unknown user ----------------------------------------------------------

@pytest.mark.parametrize("version", VERSIONS)
def test_wrong_password_and_unknown_user_answer_alike(server: LiveServer, client: Client, version: str) -> None:
    known = fresh_user(server)
    unknown_name = f"Nobody{next(_numbers)}"
    wrong = client.post(f"/{version}/login", {"username": known["account"], "password": "wrong_password"})
    unknown = client.post(f"/{version}/login", {"username": unknown_name, "password": "wrong_password"})
    message = expect_error(wrong, version, *codes.LOGIN_FAILED)
    expect_error(unknown, version, *codes.LOGIN_FAILED)
    if version == "v1":
        assert message == "密码不正确"
        assert wrong.content == unknown.content
    else:
        assert message == f"用户 {known['account']} 未注册或者密码错误"
        # v2's message names the account asked for (Hyperf doc); nothing else differs.
        assert wrong.text.replace(known["account"], "X") == unknown.text.replace(unknown_name, "X")
    # The date, the length (the account is echoed) and the request's own random id differ; nothing else may.
    same_headers = lambda r: {k: v for k, v in r.headers.items()  # noqa: E731
                              if k.lower() not in ("date", "content-length", "x-request-id")}
    assert same_headers(wrong) == same_headers(unknown)
    # The right password still works after one failure.
    login(client, known, version)


def test_wrong_password_in_english(server: LiveServer, client: Client) -> None:
    known = fresh_user(server)
    message = expect_error(client.post("/v2/login", {"username": known["account"], "password": "nope_nope"},
                                       headers={"Accept-Language": "en-US,en;q=0.9"}), "v2", *codes.LOGIN_FAILED)
    assert message == f"User {known['account']} is not registered or the password is wrong"
    message = expect_error(client.post("/v1/login", {"username": known["account"], "password": "nope_nope",
                                                     "lang": "en"}), "v1", *codes.LOGIN_FAILED)
    assert message == "Wrong password"
