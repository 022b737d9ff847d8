"""SPEC §13.1: HMAC-SHA256 signatures over the request as sent.

Each refusal is the signature error (60007 / 9907); nothing about what differed is said.
"""
from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from client.api import LoginApiClient
from client.signing import hmac_sign
from tests.conftest import Server, serving
from tests.support import SIGN_SECRET, Client, LiveServer, expect_error, expect_ok

PASSWORD = "secret_123"
SIGN_INVALID = (60007, 9907, 401)
APPS = "ios:ios-secret-0123456789,pinned:pinned-secret-0123:hmac-sha256"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with serving(tmp_path_factory, "runtime", SIGN_APPS=APPS) as live:
        live.create_user("Hmac", "13911110002", PASSWORD)
        yield live


def send(server: Server, path: str, params: dict[str, Any], **how: Any) -> requests.Response:
    """Sign a JSON POST by hand (SPEC §13.1), then send it, optionally changed after signing."""
    return post(server, *prepare(path, params, **how))


def post(server: Server, target: str, body: bytes, headers: dict[str, str]) -> requests.Response:
    """POST these very bytes and headers to `target` (path and query) of the server."""
    return Client(server.url).raw("POST", target, data=body, headers=headers)


def prepare(path: str, params: dict[str, Any], *, secret: str = SIGN_SECRET, appid: str = "", query: str = "",
            token: str = "", method_header: str | None = "hmac-sha256",
            tamper: dict[str, Any] | None = None) -> tuple[str, bytes, dict[str, str]]:
    """The target (path and query), body and headers of a hand-signed request, changed after signing by `tamper`."""
    body_params = {**params, "timestamp": int(time.time()), "nonce": secrets.token_hex(8)}
    if appid:
        body_params["appid"] = appid
    body = json.dumps(body_params, separators=(",", ":")).encode("utf-8")
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    sign = hmac_sign(secret, body_params["timestamp"], appid, "POST", path, query, headers["Content-Type"],
                     headers.get("Authorization", ""), body)
    headers["sign"] = sign
    if method_header is not None:
        headers["sign-method"] = method_header
    tamper = tamper or {}
    headers.update(tamper.get("headers", {}))
    target = tamper.get("path", path) + ("?" + tamper.get("query", query) if tamper.get("query", query) else "")
    return target, tamper.get("body", body), headers


CREDENTIALS = {"account": "Hmac", "pwd": PASSWORD}


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_a_signed_login_works_and_is_not_accepted_twice(server: Server, version: str) -> None:
    request = prepare(f"/{version}/login/jwt/get", CREDENTIALS, query="lang=en")
    assert expect_ok(post(server, *request), version)["jwt"]
    expect_error(post(server, *request), version, 60016, 9912, 401)


def test_an_app_and_a_token_are_covered(server: Server) -> None:
    jwt = expect_ok(send(server, "/v2/login/jwt/get", CREDENTIALS, appid="ios", secret="ios-secret-0123456789"),
                    "v2")["jwt"]
    assert expect_ok(send(server, "/v2/test", {}, token=jwt), "v2")["account"] == "Hmac"
    other = expect_ok(send(server, "/v2/login/jwt/get", CREDENTIALS), "v2")["jwt"]
    # the Authorization header is signed: another token in it breaks the signature
    expect_error(send(server, "/v2/test", {}, token=jwt, tamper={"headers": {"Authorization": f"Bearer {other}"}}),
                 "v2", *SIGN_INVALID)


def _body_with_one_byte_changed() -> bytes:
    return json.dumps({**CREDENTIALS, "timestamp": int(time.time()), "nonce": "changedbody1"},
                      separators=(",", ":")).encode("utf-8")


TAMPERED = {
    "path": {"path": "/v2/login/Jwt/get"},  # the same route (paths match case-insensitively), another text
    "query value": {"query": "lang=zh"},
    "query added": {"query": "lang=en&extra=1"},
    "content type": {"headers": {"Content-Type": "application/json; charset=utf-8"}},
    "body byte": {"body": None},
    "empty sign-method": {"headers": {"sign-method": ""}},
    "unknown sign-method": {"headers": {"sign-method": "hmac-sha1"}},
}


@pytest.mark.parametrize("case", sorted(TAMPERED))
def test_a_change_after_signing_is_refused(server: Server, case: str) -> None:
    tamper = dict(TAMPERED[case])
    if case == "body byte":
        tamper["body"] = _body_with_one_byte_changed()
    expect_error(send(server, "/v2/login/jwt/get", CREDENTIALS, query="lang=en", tamper=tamper), "v2", *SIGN_INVALID)


def test_a_key_of_another_day_is_refused(server: Server) -> None:
    """The daily key: a signature made with yesterday's key for today's timestamp does not verify."""
    import hashlib
    import hmac

    from app.common.sign_hmac import canonical_request, string_to_sign

    now = int(time.time())
    body = json.dumps({**CREDENTIALS, "timestamp": now, "nonce": secrets.token_hex(8)}).encode("utf-8")
    canonical = canonical_request("POST", "/v2/login/jwt/get", "", "application/json", "", body)
    yesterday = time.strftime("%Y%m%d", time.gmtime(now - 86400)).encode("ascii")
    key = hmac.new(("LOGIN4" + SIGN_SECRET).encode("utf-8"), yesterday, hashlib.sha256).digest()
    sign = hmac.new(key, string_to_sign(now, "", canonical).encode("utf-8"), hashlib.sha256).hexdigest()
    response = post(server, "/v2/login/jwt/get", body, {
        "Content-Type": "application/json", "sign": sign, "sign-method": "hmac-sha256"})
    expect_error(response, "v2", *SIGN_INVALID)


def test_an_app_pinned_to_hmac_refuses_md5(server: Server) -> None:
    # the client package signs; its requests go through the server's transport (in-process or HTTP)
    client = LoginApiClient(server.url, "pinned-secret-0123", appid="pinned", session=Client(server.url).http)
    with pytest.raises(Exception) as refused:
        client.login("Hmac", PASSWORD)
    assert getattr(refused.value, "code", None) == 9907
    pinned = LoginApiClient(server.url, "pinned-secret-0123", appid="pinned", sign_method="hmac-sha256",
                            session=Client(server.url).http)
    assert pinned.login("Hmac", PASSWORD).access
    assert pinned.me()["account"] == "Hmac"


def test_md5_only_servers_refuse_hmac(tmp_path) -> None:
    live = LiveServer(tmp_path / "runtime", SIGN_METHODS="md5")  # live: beside the module's in-process app
    try:
        live.create_user("Hmac", "13911110002", PASSWORD)
        expect_error(send(live, "/v2/login/jwt/get", CREDENTIALS), "v2", *SIGN_INVALID)
        assert LoginApiClient(live.url, SIGN_SECRET).login("Hmac", PASSWORD).access  # md5 still works
    finally:
        live.stop()
