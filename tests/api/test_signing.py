"""Signed requests (SPEC §4, the Common base controller) against a live server."""
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
APPS = {"ios": "ios-secret-0123456789", "android": "android-secret-0123456789"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """Signing on, with two more apps besides the default one."""
    apps = ",".join(f"{appid}:{secret}" for appid, secret in APPS.items())
    with serving(tmp_path_factory, "runtime-sign", SIGN_APPS=apps) as live:
        yield live


@pytest.fixture(scope="module")
def unsigned_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    # live: it runs beside the module's in-process app (one in-process app at a time)
    with serving(tmp_path_factory, "runtime-unsigned", live=True, SIGN_REQUIRED=0) as live:
        live.create_user("Foo", "13911119999", PASSWORD)
        yield live


def creds(**more: Any) -> dict[str, Any]:
    return {"username": "Foo", "password": PASSWORD, **more}


def fresh(**more: Any) -> dict[str, Any]:
    """Login parameters with a current timestamp and a new nonce."""
    return creds(**{"timestamp": int(time.time()), "nonce": secrets.token_hex(8), **more})


def test_a_signed_login_works(client: Client, user: dict) -> None:
    expect_ok(client.send("/v1/login", fresh()), "v1")


# -- timestamp -----------------------------------------------------------------------------------

@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("timestamp", [None, "", "abc", "17e8", 1.5, "1700000000.0", -1, 0, "-1", True, [1], {"t": 1},
                                       "１７００００００００", "12345678901234"])
def test_missing_or_malformed_timestamp(client: Client, user: dict, version: str, timestamp: Any) -> None:
    params = creds(nonce=secrets.token_hex(8))
    if timestamp is not None:
        params["timestamp"] = timestamp
    message = expect_error(client.send(f"/{version}/login", params), version, *codes.TIMESTAMP_INVALID)
    assert message == "时间戳不正确"


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("offset", [-400, 400, -86400, 10**6])
def test_timestamp_outside_the_window(client: Client, user: dict, version: str, offset: int) -> None:
    params = fresh(timestamp=int(time.time()) + offset)
    assert expect_error(client.send(f"/{version}/login", params), version, *codes.REQUEST_EXPIRED) == "请求超时"


@pytest.mark.parametrize("offset", [-250, 250])
def test_timestamp_inside_the_window(client: Client, user: dict, offset: int) -> None:
    expect_ok(client.send("/v1/login", fresh(timestamp=int(time.time()) + offset)), "v1")


def test_millisecond_timestamp(client: Client, user: dict) -> None:
    expect_ok(client.send("/v1/login", fresh(timestamp=int(time.time() * 1000))), "v1")
    expect_ok(client.send("/v2/login", fresh(timestamp=str(int(time.time() * 1000)))), "v2")
    expect_error(client.send("/v1/login", fresh(timestamp=int((time.time() - 400) * 1000))), "v1",
                 *codes.REQUEST_EXPIRED)


# -- sign ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("sign", ["0" * 32, "", "nonsense", False])
def test_wrong_or_missing_sign(client: Client, user: dict, version: str, sign: Any) -> None:
    assert expect_error(client.send(f"/{version}/login", fresh(), sign=sign), version, *codes.SIGN_INVALID) \
        == "签名错误"


@pytest.mark.parametrize("version", VERSIONS)
def test_sign_with_another_secret(client: Client, user: dict, version: str) -> None:
    expect_error(client.send(f"/{version}/login", fresh(), secret="not-the-secret"), version, *codes.SIGN_INVALID)


def test_a_parameter_changed_after_signing(client: Client, user: dict) -> None:
    params = fresh()
    signature = make_sign(params, SIGN_SECRET)
    expect_error(client.send("/v1/login", {**params, "username": "foo"}, sign=signature), "v1", *codes.SIGN_INVALID)
    expect_error(client.send("/v1/login", {**params, "extra": "1"}, sign=signature), "v1", *codes.SIGN_INVALID)


def test_sign_in_upper_case(client: Client, user: dict) -> None:
    params = fresh()
    expect_ok(client.send("/v1/login", params, sign=make_sign(params, SIGN_SECRET).upper()), "v1")


@pytest.mark.parametrize("sign_in", ["body", "query"])
def test_sign_as_a_parameter(client: Client, user: dict, sign_in: str) -> None:
    expect_ok(client.send("/v1/login", fresh(), sign_in=sign_in), "v1")


def test_null_and_empty_parameters_are_not_signed(client: Client, user: dict) -> None:
    params = fresh()
    signature = make_sign(params, SIGN_SECRET)
    expect_ok(client.send("/v1/login", {**params, "nick": "", "lang": None}, sign=signature), "v1")


def test_nested_values_are_signed_as_compact_sorted_json(client: Client, user: dict) -> None:
    params = fresh(extra={"b": [1, 2], "a": "中"}, flag=True, ratio=1.5)
    expect_ok(client.send("/v1/login", params), "v1")


@pytest.mark.parametrize("version", VERSIONS)
def test_query_string_parameters_are_read_and_signed(client: Client, user: dict, version: str) -> None:
    # Everything but the password (a secret never travels in the URL, SPEC §10) in the query string.
    params = fresh()
    expect_ok(client.send(f"/{version}/login", {"password": params.pop("password")}, query=params), version)
    # Split between the query string and the body, signed together.
    params = fresh()
    query = {"timestamp": params.pop("timestamp"), "nonce": params.pop("nonce")}
    expect_ok(client.send(f"/{version}/login", params, query=query), version)
    expect_ok(client.send(f"/{version}/login", params | {"nonce": secrets.token_hex(8)},
                          query={"timestamp": int(time.time())}, form=True), version)


@pytest.mark.parametrize("version", VERSIONS)
def test_form_body_is_read_and_signed(client: Client, user: dict, version: str) -> None:
    expect_ok(client.send(f"/{version}/login", fresh(), form=True), version)
    expect_ok(client.send(f"/{version}/login", fresh(), form=True, sign_in="body"), version)


def test_query_parameter_not_covered_by_the_sign(client: Client, user: dict) -> None:
    params = fresh()
    signature = make_sign(params, SIGN_SECRET)
    expect_error(client.send("/v1/login", params, query={"lang": "en"}, sign=signature), "v1", *codes.SIGN_INVALID)


# -- replay ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("version", VERSIONS)
def test_replayed_nonce_is_refused(client: Client, user: dict, version: str) -> None:
    params = fresh()
    expect_ok(client.send(f"/{version}/login", params), version)
    expect_error(client.send(f"/{version}/login", params), version, *codes.REQUEST_REPLAYED)
    # The same nonce with another timestamp and a fresh, valid sign is still a replay.
    later = {**params, "timestamp": params["timestamp"] + 1}
    expect_error(client.send(f"/{version}/login", later), version, *codes.REQUEST_REPLAYED)
    other = "v2" if version == "v1" else "v1"
    expect_error(client.send(f"/{other}/login", params), other, *codes.REQUEST_REPLAYED)
    # A refused request does not use up the nonce of a good one, and a new nonce works.
    expect_ok(client.send(f"/{version}/login", fresh()), version)


def test_a_refused_request_does_not_burn_its_nonce(client: Client, user: dict) -> None:
    params = fresh()
    expect_error(client.send("/v1/login", params, sign="0" * 32), "v1", *codes.SIGN_INVALID)
    expect_ok(client.send("/v1/login", params), "v1")


@pytest.mark.parametrize("version", VERSIONS)
def test_without_a_nonce_the_identical_signature_is_refused(client: Client, user: dict, version: str) -> None:
    params = creds(timestamp=int(time.time()), device=secrets.token_hex(4))
    expect_ok(client.send(f"/{version}/login", params), version)
    expect_error(client.send(f"/{version}/login", params), version, *codes.REQUEST_REPLAYED)
    # The same signature in upper case is the same signature.
    expect_error(client.send(f"/{version}/login", params, sign=make_sign(params, SIGN_SECRET).upper()), version,
                 *codes.REQUEST_REPLAYED)
    # The signature does not cover the path: another endpoint does not make it new.
    other = "v2" if version == "v1" else "v1"
    expect_error(client.send(f"/{other}/login", params), other, *codes.REQUEST_REPLAYED)
    # Any other parameter makes another signature.
    expect_ok(client.send(f"/{version}/login", {**params, "lang": "zh-cn"}), version)


def test_replay_is_refused_on_test_too(client: Client, user: dict) -> None:
    token = expect_ok(client.send("/v1/login", fresh()), "v1")["token"]
    params = {"token": token, "timestamp": int(time.time()), "nonce": secrets.token_hex(8)}
    expect_ok(client.send("/v1/test", params), "v1")
    expect_error(client.send("/v1/test", params), "v1", *codes.REQUEST_REPLAYED)


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("nonce", ["short", "x" * 7, "x" * 65, "bad nonce!", "abc.defgh", "中文中文中文中文", 12345678,
                                   ["abcdefgh"], {"n": "abcdefgh"}])
def test_malformed_nonce(client: Client, user: dict, version: str, nonce: Any) -> None:
    message = expect_error(client.send(f"/{version}/login", creds(timestamp=int(time.time()), nonce=nonce)), version,
                           *codes.PARAM_INVALID)
    assert "nonce" in message


@pytest.mark.parametrize("nonce", ["x" * 8, "x" * 64, "A-b_0123"])
def test_nonce_limits(client: Client, user: dict, nonce: str) -> None:
    expect_ok(client.send("/v1/login", creds(timestamp=int(time.time()), nonce=nonce)), "v1")


# -- apps ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("appid", sorted(APPS))
def test_an_app_signs_with_its_own_secret(client: Client, user: dict, appid: str) -> None:
    expect_ok(client.send("/v1/login", fresh(appid=appid), secret=APPS[appid]), "v1")
    expect_error(client.send("/v1/login", fresh(appid=appid)), "v1", *codes.SIGN_INVALID)       # default secret
    other = next(a for a in APPS if a != appid)
    expect_error(client.send("/v1/login", fresh(appid=appid), secret=APPS[other]), "v1", *codes.SIGN_INVALID)
    expect_error(client.send("/v1/login", fresh(), secret=APPS[appid]), "v1", *codes.SIGN_INVALID)  # no appid


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("appid", ["web", "ios2", ["ios"], 1])
def test_unknown_appid(client: Client, user: dict, version: str, appid: Any) -> None:
    message = expect_error(client.send(f"/{version}/login", fresh(appid=appid), secret=APPS["ios"]), version,
                           *codes.PARAM_INVALID)
    assert "appid" in message


def test_empty_appid_is_the_default_app(client: Client, user: dict) -> None:
    expect_ok(client.send("/v1/login", fresh(appid="")), "v1")


# -- signing switched off ------------------------------------------------------------------------

@pytest.mark.parametrize("version", VERSIONS)
def test_sign_required_0_accepts_unsigned_requests(unsigned_server: Server, version: str) -> None:
    url = f"{unsigned_server.url}/{version}/login"
    body = creds()
    first = requests.post(url, json=body, timeout=30)
    data = expect_ok(first, version)
    # No timestamp, no sign, and the identical request again is fine too.
    expect_ok(requests.post(url, json=body, timeout=30), version)
    # A stale timestamp and a wrong sign are not looked at.
    expect_ok(requests.post(url, json={**body, "timestamp": 1}, headers={"sign": "x"}, timeout=30), version)
    test = requests.post(f"{unsigned_server.url}/{version}/test", headers={"token": data["token"]}, timeout=30)
    assert expect_ok(test, version)["account"] == "Foo"
    # Everything else is still checked.
    expect_error(requests.post(url, json={"password": PASSWORD}, timeout=30), version, *codes.USERNAME_INVALID)
