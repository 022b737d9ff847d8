"""Forged and stale JWTs against every endpoint that reads one: always 9908 (v2) or 60010/60011 (v1),
never a 5xx, and never anything done on the forger's behalf (SPEC §5).

Forgeries are built with PyJWT from a real token of a logged-in user. Those "re-signed with the
right key" use the test JWT_SECRET: they show that a valid signature alone is not enough, the
token's row must agree.
"""
from __future__ import annotations

import base64
import json
import time
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import jwt as pyjwt
import pytest
from jwt.warnings import InsecureKeyLengthWarning

from app.common.clock import ManualClock
from tests.inprocess import InProcessServer
from tests.support import JWT_SECRET, Client, LiveServer, expect_ok, register_user

SERVER_SETTINGS = {"SMS_IP_LIMIT": 100000, "SMS_VERIFY_IP_LIMIT": 100000, "LOGIN_IP_LIMIT": 100000}
REFRESH_FAILED = "认证失败：refresh jwt expred or others"
WRONG_KEY = "a-wrong-key-of-the-right-length-0123456789abcdef"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64json(value: Any) -> str:
    return b64(json.dumps(value, separators=(",", ":")).encode("utf-8"))


def claims_of(token: str) -> dict[str, Any]:
    return pyjwt.decode(token, options={"verify_signature": False})


def resign(claims: dict[str, Any], key: str = JWT_SECRET, algorithm: str = "HS256") -> str:
    with warnings.catch_warnings():  # the test secret is short for HS512; that is beside the point here
        warnings.simplefilter("ignore", InsecureKeyLengthWarning)
        return pyjwt.encode(claims, key, algorithm=algorithm)


def tamper(token: str, **changes: Any) -> str:
    """The token with its payload changed and its original signature kept."""
    header, _, signature = token.split(".")
    return ".".join([header, b64json({**claims_of(token), **changes}), signature])


def without(claims: dict[str, Any], *names: str) -> dict[str, Any]:
    return {k: v for k, v in claims.items() if k not in names}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    live = LiveServer(tmp_path_factory.mktemp("attacks"), APP_DEBUG=1, **SERVER_SETTINGS)
    yield live
    live.stop()


@pytest.fixture(scope="module")
def users(server: LiveServer) -> None:
    c = Client(server.url)
    try:
        register_user(c, "Victim", "13500000001", "victim_pass")
        register_user(c, "Mallory", "13500000002", "mallory_pass")
    finally:
        c.http.close()


def _log_in_both(server: LiveServer) -> dict[str, Any]:
    c = Client(server.url)
    try:
        pair = expect_ok(c.post("/login/jwt/get", {"account": "Victim", "pwd": "victim_pass"}), "v2")
        other = expect_ok(c.post("/login/jwt/get", {"account": "Mallory", "pwd": "mallory_pass"}), "v2")
    finally:
        c.http.close()
    return {"access": pair["jwt"], "refresh": pair["refresh_jwt"], "uid": claims_of(pair["jwt"])["uid"],
            "other_access": other["jwt"], "other_refresh": other["refresh_jwt"],
            "other_uid": claims_of(other["jwt"])["uid"]}


@pytest.fixture(scope="module")
def victim(server: LiveServer, users: None) -> dict[str, Any]:
    """Logins of two users: the victim (whose session must survive every forgery) and mallory.

    Shared by the tests that cannot end a session; each one checks that both are still alive."""
    return _log_in_both(server)


@pytest.fixture
def fresh_victim(server: LiveServer, users: None) -> dict[str, Any]:
    """New logins for each deactivation attempt, so one wrongly ended session cannot spill over."""
    return _log_in_both(server)


def _forgeries() -> dict[str, Callable[[dict[str, Any]], str]]:
    """name → how to forge a token from the victim's real tokens."""
    return {
        # Unsigned changes: the signature no longer matches.
        "tampered uid": lambda v: tamper(v["access"], uid=v["other_uid"]),
        "tampered uid of mallory's token": lambda v: tamper(v["other_access"], uid=v["uid"]),
        "tampered exp": lambda v: tamper(v["access"], exp=claims_of(v["access"])["exp"] + 10**6),
        "tampered type": lambda v: tamper(v["refresh"], type="access"),
        "tampered rid": lambda v: tamper(v["access"], rid=["1"]),
        "signature stripped": lambda v: v["access"].rsplit(".", 1)[0] + ".",
        "signature of another token":
            lambda v: v["access"].rsplit(".", 1)[0] + "." + v["other_access"].rsplit(".", 1)[1],
        # alg: none, with and without an empty signature, in the usual spellings.
        "alg none": lambda v: b64json({"alg": "none", "typ": "JWT"}) + "." + b64json(claims_of(v["access"])) + ".",
        "alg None": lambda v: b64json({"alg": "None", "typ": "JWT"}) + "." + b64json(claims_of(v["access"])) + ".",
        "alg none pyjwt": lambda v: pyjwt.encode(claims_of(v["access"]), None, algorithm="none"),
        "alg none with uid changed": lambda v: pyjwt.encode({**claims_of(v["access"]), "uid": v["other_uid"]},
                                                            None, algorithm="none"),
        # Signed, but not with the service's key or algorithm.
        "wrong key": lambda v: resign(claims_of(v["access"]), WRONG_KEY),
        "wrong key, uid changed": lambda v: resign({**claims_of(v["access"]), "uid": v["other_uid"]}, WRONG_KEY),
        "HS512 with the right key": lambda v: resign(claims_of(v["access"]), algorithm="HS512"),
        "HS384 with the right key": lambda v: resign(claims_of(v["access"]), algorithm="HS384"),
        # The right key: the claims must still agree with the token's row.
        "right key, type changed to access": lambda v: resign({**claims_of(v["refresh"]), "type": "access"}),
        "right key, unknown type": lambda v: resign({**claims_of(v["access"]), "type": "admin"}),
        "right key, uid changed": lambda v: resign({**claims_of(v["access"]), "uid": v["other_uid"]}),
        "right key, uid as a string": lambda v: resign({**claims_of(v["access"]), "uid": str(v["uid"])}),
        "right key, sid of another session": lambda v: resign({**claims_of(v["access"]),
                                                               "sid": claims_of(v["other_access"])["sid"]}),
        "right key, unknown jti": lambda v: resign({**claims_of(v["access"]), "jti": "f" * 32}),
        "right key, jti as a number": lambda v: resign({**claims_of(v["access"]), "jti": 12345}),
        "right key, no jti": lambda v: resign(without(claims_of(v["access"]), "jti")),
        "right key, no sid": lambda v: resign(without(claims_of(v["access"]), "sid")),
        "right key, no type": lambda v: resign(without(claims_of(v["access"]), "type")),
        "right key, no exp": lambda v: resign(without(claims_of(v["access"]), "exp")),
        "right key, no iat": lambda v: resign(without(claims_of(v["access"]), "iat")),
        "right key, no uid": lambda v: resign(without(claims_of(v["access"]), "uid")),
        "right key, iat in the future": lambda v: resign({**claims_of(v["access"]), "iat": int(time.time()) + 3600}),
        "right key, payload not an object": lambda v: (b64json({"alg": "HS256", "typ": "JWT"}) + "."
                                                       + b64(b"[1,2,3]") + "."
                                                       + b64(_hs256(b64json({"alg": "HS256", "typ": "JWT"})
                                                                    + "." + b64(b"[1,2,3]")))),
        # Not JSON or not base64 at all, in three segments.
        "garbage segments": lambda v: "a.b.c",
        "bad base64 header": lambda v: "!!!." + v["access"].split(".", 1)[1],
        "header not json": lambda v: b64(b"not json") + "." + v["access"].split(".", 1)[1],
        "non-ascii": lambda v: v["access"][:-3] + "密码",
    }


def _hs256(message: str) -> bytes:
    import hashlib
    import hmac

    return hmac.new(JWT_SECRET.encode("utf-8"), message.encode("ascii"), hashlib.sha256).digest()


FORGERIES = _forgeries()


def assert_refused(response, version: str, allow_expired: bool = False) -> None:
    """9908 in v2 (HTTP 401, data []); 60010 (or 60011 where expiry applies) in v1; never a 5xx."""
    assert response.status_code < 500, response.text
    body = response.json()
    if version == "v2":
        assert (response.status_code, body["code"], body["status"], body["data"]) == (401, 9908, False, []), body
        assert body["msg"].startswith("认证失败："), body
    else:
        codes = (60010, 60011) if allow_expired else (60010,)
        assert response.status_code == 401 and body["errorcode"] in codes and body["data"] == {}, body


def headers_with(token: str, name: str = "Authorization") -> dict[str, Any]:
    """The token in a header, as raw bytes (a forged token need not be ASCII)."""
    value = token.encode("utf-8")
    return {name: b"Bearer " + value if name == "Authorization" else value}


def assert_sessions_alive(client: Client, victim: dict[str, Any]) -> None:
    """Nothing was done on the forger's behalf: both real sessions are still alive."""
    for token, uid in ((victim["access"], victim["uid"]), (victim["other_access"], victim["other_uid"])):
        assert expect_ok(client.post("/v2/test", token=token), "v2")["uid"] == uid


@pytest.mark.parametrize("name", list(FORGERIES))
def test_forged_token_is_refused_everywhere(name: str, victim: dict[str, Any], client: Client) -> None:
    forged = FORGERIES[name](victim)
    assert_refused(client.post("/login/jwt/status", {"jwt": forged}), "v2", allow_expired=True)
    assert_refused(client.post("/v1/login/jwt/status", {"jwt": forged}), "v1", allow_expired=True)
    assert_refused(client.post("/v2/test", headers=headers_with(forged)), "v2")
    assert_refused(client.post("/v1/test", headers=headers_with(forged)), "v1", allow_expired=True)
    assert_refused(client.post("/test", headers=headers_with(forged, "token")), "v2")
    refresh = client.post("/login/jwt/refresh", {"jwt": forged})
    assert_refused(refresh, "v2")
    assert refresh.json()["msg"] == REFRESH_FAILED
    assert_sessions_alive(client, victim)


DEACTIVATE_CASES = list(FORGERIES)


@pytest.mark.parametrize("name", DEACTIVATE_CASES)
def test_forged_token_does_not_deactivate(name: str, fresh_victim: dict[str, Any], client: Client) -> None:
    victim = fresh_victim
    forged = FORGERIES[name](victim)
    assert_refused(client.post("/login/jwt/deactivate", {"jwt": forged}), "v2", allow_expired=True)
    assert_refused(client.post("/v1/login/jwt/deactivate", {"jwt": forged}), "v1", allow_expired=True)
    assert_sessions_alive(client, victim)


@pytest.mark.parametrize("name", ["right key, type changed to access", "tampered type"])
def test_refresh_token_made_into_an_access_token_does_not_open_test(name: str, victim: dict[str, Any],
                                                                     client: Client) -> None:
    forged = FORGERIES[name](victim)
    assert_refused(client.post("/v2/test", token=forged), "v2")


def test_access_token_made_into_a_refresh_token_does_not_refresh(victim: dict[str, Any], client: Client) -> None:
    for forged in (resign({**claims_of(victim["access"]), "type": "refresh"}),
                   tamper(victim["access"], type="refresh")):
        response = client.post("/login/jwt/refresh", {"jwt": forged})
        assert_refused(response, "v2")
        assert response.json()["msg"] == REFRESH_FAILED


def test_right_key_without_rid_is_never_a_500(victim: dict[str, Any], client: Client) -> None:
    # A token with a live jti, signed with the right key, but without the `rid` claim.
    forged = resign(without(claims_of(victim["access"]), "rid"))
    response = client.post("/login/jwt/status", {"jwt": forged})
    assert response.status_code < 500, response.text


def test_real_tokens_still_work_after_all_forgeries(victim: dict[str, Any], client: Client) -> None:
    status = expect_ok(client.post("/login/jwt/status", {"jwt": victim["access"]}), "v2")
    assert status["uid"] == victim["uid"]
    assert isinstance(expect_ok(client.post("/login/jwt/refresh", {"jwt": victim["refresh"]}), "v2"), str)


# -- expiry -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def short_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcessServer]:
    """In-process on a clock the `expired` fixture moves past every token's end."""
    # 2 s, not 1: expiry counts whole seconds from the second of issue, so a 1 s token issued late
    # in a second could already be dead when the fixture checks that it works.
    app = InProcessServer(tmp_path_factory.mktemp("attacks-ttl"), clock=ManualClock(), APP_DEBUG=1, JWT_TTL=2,
                          REFRESH_TTL=3, TOKEN_TTL=2, **SERVER_SETTINGS)
    yield app
    app.stop()


@pytest.fixture(scope="module")
def expired(short_server: InProcessServer) -> dict[str, Any]:
    """Tokens of a server with JWT_TTL=2, REFRESH_TTL=3, TOKEN_TTL=2, taken and then left to expire."""
    c = Client(short_server.url)
    try:
        register_user(c, "Shortlived", "13500000003", "short_pass")
        pair = expect_ok(c.post("/login/jwt/get", {"account": "Shortlived", "pwd": "short_pass"}), "v2")
        md5 = expect_ok(c.post("/v2/login", {"username": "Shortlived", "password": "short_pass"}), "v2")["token"]
        # Fresh, they work.
        assert expect_ok(c.post("/v2/test", token=pair["jwt"]), "v2")["account"] == "Shortlived"
        assert expect_ok(c.post("/v2/test", token=md5), "v2")["account"] == "Shortlived"
        # Move the clock until every one of them is past its end (the leeway is 0 s).
        clock = short_server.clock
        ends = [claims_of(pair["jwt"])["exp"], claims_of(pair["refresh_jwt"])["exp"], clock.seconds() + 2]
        short_server.pass_time(max(ends) - clock.now() + 0.2)
    finally:
        c.http.close()
    return {"access": pair["jwt"], "refresh": pair["refresh_jwt"], "md5": md5}


@pytest.mark.parametrize("kind", ["access", "md5"])
def test_expired_token_is_refused(kind: str, short_server: InProcessServer, expired: dict[str, Any]) -> None:
    client = Client(short_server.url)
    try:
        token = expired[kind]
        assert_refused(client.post("/login/jwt/status", {"jwt": token}), "v2")
        assert_refused(client.post("/v2/test", token=token), "v2")
        response = client.post("/v1/test", token=token)
        assert response.status_code == 401
        assert response.json() == {"message": "登录过期", "data": {}, "errorcode": 60011}
        assert client.post("/v1/login/jwt/status", {"jwt": token}).json()["errorcode"] == 60011
    finally:
        client.http.close()


def test_expired_refresh_token_does_not_refresh(short_server: InProcessServer, expired: dict[str, Any]) -> None:
    client = Client(short_server.url)
    try:
        response = client.post("/login/jwt/refresh", {"jwt": expired["refresh"]})
        assert_refused(response, "v2")
        assert response.json()["msg"] == REFRESH_FAILED
    finally:
        client.http.close()


def test_expired_token_resigned_with_a_later_exp_is_still_refused(short_server: InProcessServer,
                                                                  expired: dict[str, Any]) -> None:
    # Even with the key, a token lives only while its row says so.
    client = Client(short_server.url)
    try:
        far = short_server.clock.seconds() + 86400
        for kind in ("access", "refresh"):
            forged = resign({**claims_of(expired[kind]), "exp": far})
            assert_refused(client.post("/login/jwt/status", {"jwt": forged}), "v2")
            assert_refused(client.post("/v2/test", token=forged), "v2")
            refresh = client.post("/login/jwt/refresh", {"jwt": forged})
            assert_refused(refresh, "v2")
            assert refresh.json()["msg"] == REFRESH_FAILED
    finally:
        client.http.close()
