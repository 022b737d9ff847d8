"""SPEC §10 on input and answers: parameter names, no secrets in the query string, deep JSON in a
form or query value, and the headers every envelope carries."""
from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests.api import codes
from tests.conftest import PASSWORD, Server, serving
from tests.support import SIGN_SECRET, Client, expect_error, expect_ok, make_sign

VERSIONS = ["v1", "v2"]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with serving(tmp_path_factory, "runtime-input",
                 LOGIN_IP_LIMIT=1000000, LOGIN_CAPTCHA_AFTER=1000000, LOGIN_LOCK_AFTER=1000000) as live:
        yield live


@pytest.fixture(scope="module")
def admin_token(server: Server) -> str:
    server.create_user("Boss", "13900000001", PASSWORD, admin=True)
    client = Client(server.url)
    return expect_ok(client.post("/v2/login/jwt/get", {"account": "Boss", "pwd": PASSWORD}), "v2")["jwt"]


def fresh(**more: Any) -> dict[str, Any]:
    return {"username": "Foo", "password": PASSWORD, "timestamp": int(time.time()), "nonce": secrets.token_hex(8),
            **more}


# -- parameter names -------------------------------------------------------------------------------

BAD_NAMES = ["a=b", "a&b", "lang&nonce", "x" * 65, "a b", "名字", "a\u0000", "a%", "a+b", "a;b", "a/b", "a\nb"]


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("name", BAD_NAMES)
def test_a_name_outside_the_allowed_characters_is_a_parameter_error(client: Client, user: dict, version: str,
                                                                    name: str) -> None:
    message = expect_error(client.send(f"/{version}/login", fresh(**{name: "1"})), version, *codes.PARAM_INVALID)
    assert "[" in message  # it says which names are allowed; the name itself is not echoed
    expect_error(client.send(f"/{version}/login", fresh(**{name: "1"}), form=True), version, *codes.PARAM_INVALID)


def test_an_empty_name_in_json_is_a_parameter_error(client: Client, user: dict) -> None:
    params = fresh(**{"": "x"})
    response = client.raw("POST", "/v1/login", json=params, headers={"sign": make_sign(params, SIGN_SECRET)})
    expect_error(response, "v1", *codes.PARAM_INVALID)


@pytest.mark.parametrize("name", ["a", "A.b", "rid[]", "x-y_z", "Z9", "n" * 64])
def test_allowed_names(client: Client, user: dict, name: str) -> None:
    expect_ok(client.send("/v1/login", fresh(**{name: "1"})), "v1")


# -- secrets in the query string -------------------------------------------------------------------

SECRETS_V1 = {"password": 60001, "pwd": 60001, "old_password": 60001, "password_confirmation": 60001,
              "code": 60002, "captcha_code": 60002, "jwt": 60006, "token": 60006, "poll_secret": 60006}


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("name", sorted(SECRETS_V1))
def test_a_secret_in_the_query_string_is_refused(client: Client, user: dict, version: str, name: str) -> None:
    params = fresh()
    query = {name: params.pop(name) if name in params else "123456"}
    response = client.send(f"/{version}/login", params, query=query)
    v1 = SECRETS_V1[name]
    message = expect_error(response, version, v1, 9906, 400)
    assert name in message and "body" not in message  # zh by default
    params = fresh()
    query = {name: params.pop(name) if name in params else "123456", "lang": "en"}
    message = expect_error(client.send(f"/{version}/login", params, query=query), version, v1, 9906, 400)
    assert message.endswith(f"{name} must not be in the URL: send it in the body")


@pytest.mark.parametrize("version", VERSIONS)
def test_login_with_the_password_in_the_url_is_refused(client: Client, user: dict, version: str) -> None:
    expect_error(client.send(f"/{version}/login", query=fresh()), version,
                 60001 if version == "v1" else 9906, 9906, 400)


@pytest.mark.parametrize("version", VERSIONS)
def test_a_token_in_the_url_is_refused_in_the_body_it_works(client: Client, user: dict, version: str) -> None:
    token = expect_ok(client.post("/v1/login", {"username": "Foo", "password": PASSWORD}), "v1")["token"]
    query = {"token": token, "timestamp": int(time.time()), "nonce": secrets.token_hex(8)}
    message = expect_error(client.send(f"/{version}/test", query=query), version, 60006, 9906, 400)
    assert "token" in message
    expect_ok(client.post(f"/{version}/test", {"token": token}), version)


# -- deep JSON in a form or query value ------------------------------------------------------------

@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("depth", [33, 3000])
def test_deep_json_in_a_form_or_query_value(client: Client, admin_token: str, version: str, depth: int) -> None:
    deep = "[" * depth + "]" * depth
    headers = {"Authorization": f"Bearer {admin_token}"}
    create = {"name": f"r{secrets.token_hex(4)}", "title": "Deep", "permissions": deep,
              "timestamp": int(time.time()), "nonce": secrets.token_hex(8)}
    message = expect_error(client.send(f"/{version}/role/create", create, form=True, headers=headers),
                           version, *codes.PARAM_INVALID)
    assert "32" in message
    assign = {"uid": "1", "timestamp": int(time.time()), "nonce": secrets.token_hex(8)}
    expect_error(client.send(f"/{version}/role/assign", assign, query={"rid": deep}, headers=headers),
                 version, *codes.PARAM_INVALID)


def test_json_32_levels_deep_in_a_form_value_is_read(client: Client, admin_token: str) -> None:
    """32 levels pass the depth rule (and then fail the rule of what a permission is)."""
    deep = "[" * 32 + "]" * 32
    params = {"name": f"r{secrets.token_hex(4)}", "title": "Deep", "permissions": deep,
              "timestamp": int(time.time()), "nonce": secrets.token_hex(8), "lang": "en"}
    message = expect_error(client.send("/v2/role/create", params, form=True,
                                       headers={"Authorization": f"Bearer {admin_token}"}), "v2",
                           *codes.PARAM_INVALID)
    assert "nested" not in message


# -- headers of every envelope ---------------------------------------------------------------------

def assert_safe_headers(response: requests.Response) -> None:
    assert response.headers.get("cache-control") == "no-store", (response.status_code, response.headers)
    assert response.headers.get("x-content-type-options") == "nosniff", (response.status_code, response.headers)


def test_every_envelope_is_no_store_and_nosniff(client: Client, user: dict) -> None:
    token = expect_ok(client.post("/v1/login", {"username": "Foo", "password": PASSWORD}), "v1")["token"]
    answers = [
        client.post("/v1/login", {"username": "Foo", "password": PASSWORD}),          # a token
        client.post("/v2/login/jwt/get", {"account": "Foo", "pwd": PASSWORD}),        # tokens
        client.post("/v1/test", token=token),                                          # the user
        client.post("/v2/captcha"),                                                    # a captcha
        client.post("/v1/login", {"username": "Foo", "password": "wrong-one"}),        # an error
        client.raw("POST", "/v2/nowhere"),                                             # 404
        client.raw("GET", "/v1/login"),                                                # 405
        client.raw("POST", "/v1/login", data=b"x" * 100000),                           # 413
    ]
    assert [r.status_code for r in answers][:2] == [200, 200]
    for response in answers:
        assert_safe_headers(response)
