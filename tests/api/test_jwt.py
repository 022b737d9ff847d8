"""Live-server tests of the Hyperf document's JWT endpoints: get, refresh, deactivate, status (SPEC §5).

Paths are the document's own (`/login/Jwt/get`, `/login/jwt/...`, served as v2) as well as `/v2/`
and `/v1/`. Every request is signed. Users register through the API, as the document's clients do.
"""
from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import jwt as pyjwt
import pytest

from tests.conftest import Server, serving
from tests.support import JWT_SECRET, Client, expect_error, expect_ok, register_user

# Per-address limits are not what this module tests.
SERVER_SETTINGS = {"SMS_IP_LIMIT": 100000, "SMS_VERIFY_IP_LIMIT": 100000, "LOGIN_IP_LIMIT": 100000}
DATE = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}")
REFRESH_FAILED = {"code": 9908, "msg": "认证失败：refresh jwt expred or others", "status": False, "data": []}
WRONG_SEGMENTS = {"code": 9908, "msg": "认证失败：Wrong number of segments", "status": False, "data": []}
CLAIMS = {"uid", "rid", "iat", "exp", "jti", "sid", "type", "iss"}
# The Hyperf document registers Foo; its login example sends pwd 123123 and its cURL 123321.
FOO = {"account": "Foo", "phone": "13911119999", "password": "123123"}


def decode(token: str) -> dict[str, Any]:
    """The claims of a JWT the service issued, checked with the test secret (HS256 only)."""
    return pyjwt.decode(token, JWT_SECRET, algorithms=["HS256"])


def parse_date(text: str) -> datetime:
    assert DATE.fullmatch(text), text
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S")


def is_jwt(text: Any) -> bool:
    return isinstance(text, str) and re.fullmatch(r"[\w-]+\.[\w-]+\.[\w-]+", text) is not None


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with serving(tmp_path_factory, "jwt", APP_DEBUG=1, **SERVER_SETTINGS) as live:
        yield live


@pytest.fixture(scope="module")
def foo(server: Server) -> dict[str, Any]:
    c = Client(server.url)
    try:
        register_user(c, FOO["account"], FOO["phone"], FOO["password"])
    finally:
        c.http.close()
    uid = server.query("SELECT id FROM users WHERE account = 'Foo'")[0][0]
    return {**FOO, "uid": uid}


_seq = iter(range(1, 10**4))


@pytest.fixture
def fresh_user(server: Server, client: Client) -> dict[str, Any]:
    """A user of its own for a test that ends sessions or fails logins."""
    n = next(_seq)
    account, phone, password = f"User{n}", f"1380000{n:04d}", f"pass_{n:04d}"
    register_user(client, account, phone, password)
    uid = server.query("SELECT id FROM users WHERE account = ?", account)[0][0]
    return {"account": account, "phone": phone, "password": password, "uid": uid}


def get_jwt(client: Client, account: str, pwd: str, path: str = "/login/jwt/get") -> dict[str, str]:
    return expect_ok(client.post(path, {"account": account, "pwd": pwd}), "v1" if path.startswith("/v1") else "v2")


# -- login/jwt/get ----------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/login/Jwt/get", "/login/jwt/get", "/v2/login/jwt/get", "/V2/LOGIN/JWT/GET"])
def test_get_document_example(foo: dict[str, Any], client: Client, path: str) -> None:
    response = client.post(path, {"account": "Foo", "pwd": "123123"})
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"code", "msg", "status", "data"}
    assert (body["code"], body["msg"], body["status"]) == (200, "ok", True)
    assert set(body["data"]) == {"jwt", "refresh_jwt"}
    access, refresh = body["data"]["jwt"], body["data"]["refresh_jwt"]
    assert pyjwt.get_unverified_header(access)["alg"] == "HS256"
    a, r = decode(access), decode(refresh)
    assert set(a) == CLAIMS and set(r) == CLAIMS
    assert (a["type"], r["type"]) == ("access", "refresh")
    assert a["uid"] == r["uid"] == foo["uid"]
    assert a["rid"] == [] and a["sid"] == r["sid"] and a["jti"] != r["jti"]
    assert a["exp"] - a["iat"] == 86400 and r["exp"] - r["iat"] == 2592000
    assert abs(a["iat"] - time.time()) < 10


def test_get_wrong_password_is_the_documents_50006(foo: dict[str, Any], client: Client) -> None:
    response = client.post("/login/jwt/get", {"account": "Foo", "pwd": "123321"})  # the cURL example's pwd
    assert response.status_code == 401
    assert response.json() == {"code": 50006, "msg": "用户 Foo 未注册或者密码错误", "status": False, "data": []}


def test_get_unknown_account_answers_the_same(client: Client) -> None:
    response = client.post("/login/jwt/get", {"account": "Nobody", "pwd": "123123"})
    assert response.status_code == 401
    assert response.json() == {"code": 50006, "msg": "用户 Nobody 未注册或者密码错误", "status": False, "data": []}


def test_get_by_phone(foo: dict[str, Any], client: Client) -> None:
    pair = get_jwt(client, foo["phone"], foo["password"])
    assert decode(pair["jwt"])["uid"] == foo["uid"]
    status = expect_ok(client.post("/login/jwt/status", {"jwt": pair["jwt"]}), "v2")
    assert status["uid"] == foo["uid"]


def test_get_in_v1_envelope(foo: dict[str, Any], server: Server, client: Client) -> None:
    response = client.post("/v1/login/jwt/get", {"account": "Foo", "pwd": "123123"})
    data = expect_ok(response, "v1")
    assert set(data) == {"jwt", "refresh_jwt"}
    assert decode(data["jwt"])["type"] == "access" and decode(data["refresh_jwt"])["type"] == "refresh"


def test_get_wrong_password_in_v1(fresh_user: dict[str, Any], client: Client) -> None:
    response = client.post("/v1/login/jwt/get", {"account": fresh_user["account"], "pwd": "wrong_pass"})
    expect_error(response, "v1", 60001, 50006, 401)
    unknown = client.post("/v1/login/jwt/get", {"account": "NobodyV1", "pwd": "wrong_pass"})
    expect_error(unknown, "v1", 60001, 50006, 401)
    assert unknown.json()["message"] == response.json()["message"]


@pytest.mark.parametrize("missing,reason", [("account", "用户名必填"), ("pwd", "密码必填")])
def test_get_missing_field_is_9906(client: Client, missing: str, reason: str) -> None:
    params = {"account": "Foo", "pwd": "123123"}
    params.pop(missing)
    response = client.post("/login/jwt/get", params)
    assert response.status_code == 400
    assert response.json() == {"code": 9906, "msg": f"数据验证失败，原因如下：{reason}", "status": False, "data": []}


# -- the whole chain -------------------------------------------------------------------------


def test_register_get_status_refresh_deactivate_chain(server: Server, client: Client) -> None:
    register_user(client, "Chain", "13800009999", "chain_pass")
    pair = get_jwt(client, "Chain", "chain_pass", "/login/Jwt/get")
    access, refresh = pair["jwt"], pair["refresh_jwt"]
    me = expect_ok(client.post("/v2/test", token=access), "v2")
    uid = me["uid"]
    assert (me["account"], me["phone"], me["rid"]) == ("Chain", "13800009999", [])

    # status: the document's shape.
    status = expect_ok(client.post("/login/jwt/status", {"jwt": access}), "v2")
    assert set(status) == {"exp", "uid", "jwt_data", "exp_date", "iat_date"}
    assert isinstance(status["exp"], int) and 86400 - 5 <= status["exp"] <= 86400
    assert status["uid"] == uid
    assert status["jwt_data"] == {"uid": uid, "rid": []}
    iat, exp = parse_date(status["iat_date"]), parse_date(status["exp_date"])
    assert exp - iat == timedelta(days=1)
    # Dates in APP_TIMEZONE (default Asia/Shanghai).
    now_there = datetime.now(ZoneInfo("Asia/Shanghai")).replace(tzinfo=None)
    assert abs((iat - now_there).total_seconds()) < 10

    # refresh: data is the new access JWT as a string.
    new_access = expect_ok(client.post("/login/jwt/refresh", {"jwt": refresh}), "v2")
    assert is_jwt(new_access)
    claims = decode(new_access)
    assert claims["type"] == "access" and claims["uid"] == uid and claims["sid"] == decode(access)["sid"]
    assert claims["jti"] != decode(access)["jti"]
    new_status = expect_ok(client.post("/login/jwt/status", {"jwt": new_access}), "v2")
    assert new_status["uid"] == uid and new_status["jwt_data"] == {"uid": uid, "rid": []}
    assert 86400 - 5 <= new_status["exp"] <= 86400
    assert expect_ok(client.post("/v2/test", token=new_access), "v2")["uid"] == uid
    # The old access token still works until the session ends.
    assert expect_ok(client.post("/v2/test", token=access), "v2")["uid"] == uid

    # deactivate: data [], and the whole session ends at once.
    response = client.post("/login/jwt/deactivate", {"jwt": access})
    assert response.status_code == 200
    assert response.json() == {"code": 200, "msg": "ok", "status": True, "data": []}
    for token in (access, new_access):
        expect_error(client.post("/login/jwt/status", {"jwt": token}), "v2", 60010, 9908, 401)
        expect_error(client.post("/v2/test", token=token), "v2", 60010, 9908, 401)
        expect_error(client.post("/v1/test", token=token), "v1", 60010, 9908, 401)
    refused = client.post("/login/jwt/refresh", {"jwt": refresh})
    assert refused.status_code == 401 and refused.json() == REFRESH_FAILED
    expect_error(client.post("/login/jwt/status", {"jwt": refresh}), "v2", 60010, 9908, 401)
    # Deactivating again is refused too: the session is already over.
    expect_error(client.post("/login/jwt/deactivate", {"jwt": access}), "v2", 60010, 9908, 401)
    # The user can log in again: a new session.
    again = get_jwt(client, "Chain", "chain_pass")
    assert expect_ok(client.post("/v2/test", token=again["jwt"]), "v2")["uid"] == uid


def test_deactivating_with_the_refresh_token_ends_the_access_token(fresh_user: dict[str, Any],
                                                                   client: Client) -> None:
    pair = get_jwt(client, fresh_user["account"], fresh_user["password"])
    assert expect_ok(client.post("/login/jwt/deactivate", {"jwt": pair["refresh_jwt"]}), "v2") == []
    expect_error(client.post("/v2/test", token=pair["jwt"]), "v2", 60010, 9908, 401)
    assert client.post("/login/jwt/refresh", {"jwt": pair["refresh_jwt"]}).json() == REFRESH_FAILED


def test_deactivating_a_refreshed_token_ends_the_whole_session(fresh_user: dict[str, Any], client: Client) -> None:
    pair = get_jwt(client, fresh_user["account"], fresh_user["password"])
    refreshed = expect_ok(client.post("/login/jwt/refresh", {"jwt": pair["refresh_jwt"]}), "v2")
    assert expect_ok(client.post("/v2/login/jwt/deactivate", {"jwt": refreshed}), "v2") == []
    expect_error(client.post("/v2/test", token=pair["jwt"]), "v2", 60010, 9908, 401)
    assert client.post("/login/jwt/refresh", {"jwt": pair["refresh_jwt"]}).json() == REFRESH_FAILED


def test_sessions_are_independent(fresh_user: dict[str, Any], client: Client) -> None:
    first = get_jwt(client, fresh_user["account"], fresh_user["password"])
    second = get_jwt(client, fresh_user["account"], fresh_user["password"])
    assert decode(first["jwt"])["sid"] != decode(second["jwt"])["sid"]
    expect_ok(client.post("/login/jwt/deactivate", {"jwt": first["jwt"]}), "v2")
    expect_error(client.post("/v2/test", token=first["jwt"]), "v2", 60010, 9908, 401)
    # The other login of the same user is untouched.
    assert expect_ok(client.post("/v2/test", token=second["jwt"]), "v2")["uid"] == fresh_user["uid"]
    assert is_jwt(expect_ok(client.post("/login/jwt/refresh", {"jwt": second["refresh_jwt"]}), "v2"))


# -- the documented failures -------------------------------------------------------------------


def test_refresh_with_an_access_token_is_refused(foo: dict[str, Any], client: Client) -> None:
    pair = get_jwt(client, "Foo", "123123")
    response = client.post("/login/jwt/refresh", {"jwt": pair["jwt"]})
    assert response.status_code == 401
    assert response.json() == REFRESH_FAILED
    # v1 speaks the same refusal as 60010.
    expect_error(client.post("/v1/login/jwt/refresh", {"jwt": pair["jwt"]}), "v1", 60010, 9908, 401)
    # The refused refresh did not end anything.
    assert expect_ok(client.post("/v2/test", token=pair["jwt"]), "v2")["uid"] == foo["uid"]


@pytest.mark.parametrize("token", ["xxx", "a.b", "a.b.c.d", "not a token at all"])
def test_refresh_with_garbage_is_refused(client: Client, token: str) -> None:
    response = client.post("/login/jwt/refresh", {"jwt": token})
    assert response.status_code == 401 and response.json()["code"] == 9908 and response.json()["data"] == []


@pytest.mark.parametrize("endpoint", ["deactivate", "status"])
@pytest.mark.parametrize("token", ["xxx", "a.b", "a.b.c.d"])
def test_malformed_token_is_wrong_number_of_segments(client: Client, endpoint: str, token: str) -> None:
    response = client.post(f"/login/jwt/{endpoint}", {"jwt": token})
    assert response.status_code == 401
    assert response.json() == WRONG_SEGMENTS
    expect_error(client.post(f"/v1/login/jwt/{endpoint}", {"jwt": token}), "v1", 60010, 9908, 401)


@pytest.mark.parametrize("endpoint", ["refresh", "deactivate", "status"])
def test_missing_jwt_is_9906(client: Client, endpoint: str) -> None:
    response = client.post(f"/login/jwt/{endpoint}", {})
    assert response.status_code == 400
    body = response.json()
    assert (body["code"], body["status"], body["data"]) == (9906, False, [])
    assert body["msg"].startswith("数据验证失败，原因如下：") and "jwt" in body["msg"], body


# -- checkLogin with JWTs ----------------------------------------------------------------------


def test_test_endpoint_with_jwt(foo: dict[str, Any], client: Client) -> None:
    pair = get_jwt(client, "Foo", "123123")
    for path, version in (("/v2/test", "v2"), ("/test", "v2"), ("/v1/test", "v1")):
        me = expect_ok(client.post(path, token=pair["jwt"]), version)
        assert me == {"uid": foo["uid"], "account": "Foo", "phone": foo["phone"], "rid": []}
    # The token may come in a `token` header or parameter too.
    assert expect_ok(client.post("/v2/test", headers={"token": pair["jwt"]}), "v2")["uid"] == foo["uid"]
    assert expect_ok(client.post("/v2/test", {"token": pair["jwt"]}), "v2")["uid"] == foo["uid"]


def test_refresh_token_is_not_an_access_token(foo: dict[str, Any], client: Client) -> None:
    pair = get_jwt(client, "Foo", "123123")
    expect_error(client.post("/v2/test", token=pair["refresh_jwt"]), "v2", 60010, 9908, 401)
    expect_error(client.post("/v1/test", token=pair["refresh_jwt"]), "v1", 60010, 9908, 401)
    expect_error(client.post("/v2/test", headers={"token": pair["refresh_jwt"]}), "v2", 60010, 9908, 401)


def test_no_token_at_test_is_refused(client: Client) -> None:
    expect_error(client.post("/v2/test"), "v2", 60010, 9908, 401)
    expect_error(client.post("/v1/test"), "v1", 60010, 9908, 401)


# -- md5 tokens (ThinkPHP login) at status and deactivate --------------------------------------


def test_md5_token_status_and_deactivate(fresh_user: dict[str, Any], client: Client) -> None:
    login = expect_ok(client.post("/v2/login", {"username": fresh_user["account"],
                                                "password": fresh_user["password"]}), "v2")
    token = login["token"]
    assert re.fullmatch(r"[0-9a-f]{32}", token), login
    assert login["expires_in"] == 7200 and login["uid"] == fresh_user["uid"]
    status = expect_ok(client.post("/login/jwt/status", {"jwt": token}), "v2")
    assert set(status) == {"exp", "uid", "jwt_data", "exp_date", "iat_date"}
    assert 7200 - 5 <= status["exp"] <= 7200
    assert status["uid"] == fresh_user["uid"]
    assert status["jwt_data"] == {"uid": fresh_user["uid"], "rid": []}
    assert parse_date(status["exp_date"]) - parse_date(status["iat_date"]) == timedelta(seconds=7200)
    assert status["exp_date"] == login["expire_time"]
    # An md5 token is no refresh token.
    assert client.post("/login/jwt/refresh", {"jwt": token}).json() == REFRESH_FAILED
    assert expect_ok(client.post("/v2/test", token=token), "v2")["uid"] == fresh_user["uid"]
    assert client.post("/login/jwt/deactivate", {"jwt": token}).json() == \
        {"code": 200, "msg": "ok", "status": True, "data": []}
    expect_error(client.post("/v2/test", token=token), "v2", 60010, 9908, 401)
    expect_error(client.post("/v1/test", token=token), "v1", 60010, 9908, 401)
    expect_error(client.post("/login/jwt/status", {"jwt": token}), "v2", 60010, 9908, 401)


def test_unknown_md5_shaped_token_is_refused(client: Client) -> None:
    for endpoint in ("status", "deactivate"):
        expect_error(client.post(f"/login/jwt/{endpoint}", {"jwt": "0" * 32}), "v2", 60010, 9908, 401)


def test_rid_lists_role_ids_as_strings(server: Server, client: Client) -> None:
    done = server.command("user:create", "--account", "Boss", "--phone", "13800008888",
                          "--password", "boss_pass", "--admin")
    assert done.returncode == 0, done.stderr
    pair = get_jwt(client, "Boss", "boss_pass")
    rid = decode(pair["jwt"])["rid"]
    assert rid and all(isinstance(r, str) and r.isdigit() for r in rid), rid
    status = expect_ok(client.post("/login/jwt/status", {"jwt": pair["jwt"]}), "v2")
    assert status["jwt_data"]["rid"] == rid
    assert expect_ok(client.post("/v2/test", token=pair["jwt"]), "v2")["rid"] == rid


# -- AUTH_DRIVER=jwt: /{ver}/login issues JWTs ----------------------------------------------------


@pytest.fixture(scope="module")
def jwt_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    # live: it runs beside the module's in-process app (one in-process app at a time)
    with serving(tmp_path_factory, "jwt-driver", live=True,
                 APP_DEBUG=1, AUTH_DRIVER="jwt", APP_TIMEZONE="UTC", **SERVER_SETTINGS) as live:
        yield live


def test_auth_driver_jwt_makes_login_issue_jwts(jwt_server: Server) -> None:
    client = Client(jwt_server.url)
    try:
        register_user(client, "Driver", "13800007777", "driver_pass")
        login = expect_ok(client.post("/v1/login", {"username": "Driver", "password": "driver_pass"}), "v1")
        assert set(login) == {"token", "expires_in", "expire_time", "uid"}
        token = login["token"]
        assert is_jwt(token)
        claims = decode(token)
        assert claims["type"] == "access" and claims["uid"] == login["uid"]
        assert login["expires_in"] == 86400
        # APP_TIMEZONE=UTC: the dates are UTC.
        expire_time = parse_date(login["expire_time"])
        assert expire_time == datetime.fromtimestamp(claims["exp"], ZoneInfo("UTC")).replace(tzinfo=None)
        me = expect_ok(client.post("/v1/test", token=token), "v1")
        assert me["uid"] == login["uid"] and me["account"] == "Driver"
        status = expect_ok(client.post("/login/jwt/status", {"jwt": token}), "v2")
        assert status["uid"] == login["uid"] and status["exp_date"] == login["expire_time"]
        iat = parse_date(status["iat_date"])
        assert abs((iat - datetime.now(ZoneInfo("UTC")).replace(tzinfo=None)).total_seconds()) < 10
        assert expect_ok(client.post("/v1/login/jwt/deactivate", {"jwt": token}), "v1") == {}
        expect_error(client.post("/v1/test", token=token), "v1", 60010, 9908, 401)
    finally:
        client.http.close()
