"""Routing, input and envelope errors against a live server: every answer is the version's JSON envelope."""
from __future__ import annotations

import json
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
LIMIT = 64 * 1024


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """Signing on; login protection set high, since these tests send many odd logins from one address."""
    with serving(tmp_path_factory, "runtime-errors",
                 LOGIN_IP_LIMIT=1000000, LOGIN_CAPTCHA_AFTER=1000000, LOGIN_LOCK_AFTER=1000000) as live:
        yield live


def fresh(**more: Any) -> dict[str, Any]:
    return {"username": "Foo", "password": PASSWORD, "timestamp": int(time.time()), "nonce": secrets.token_hex(8),
            **more}


def post_bytes(client: Client, path: str, body: Any, content_type: str | None = "application/json",
               **headers: str) -> requests.Response:
    if content_type is not None:
        headers["Content-Type"] = content_type
    return client.raw("POST", path, data=body, headers=headers)


# -- routing ------------------------------------------------------------------------------------

@pytest.mark.parametrize("path, version", [
    ("/v1/nothing", "v1"),
    ("/v1/", "v1"),
    ("/v1/login/extra", "v1"),
    ("/v2/nothing", "v2"),
    ("/v9/login", "v2"),          # an unknown version: the default version's envelope
    ("/v0/test", "v2"),
    ("/nothing", "v2"),
    ("/", "v2"),
    ("/login.php", "v2"),
    ("/%E4%B8%AD", "v2"),
])
def test_unknown_path_is_404(client: Client, path: str, version: str) -> None:
    message = expect_error(client.post(path, fresh()), version, *codes.ROUTE_NOT_FOUND)
    assert message == "接口不存在"
    expect_error(client.raw("GET", path), version, *codes.ROUTE_NOT_FOUND)


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH", "OPTIONS"])
def test_wrong_method_is_405_with_allow(client: Client, version: str, method: str) -> None:
    response = client.raw(method, f"/{version}/login")
    expect_error(response, version, *codes.METHOD_NOT_ALLOWED)
    assert response.headers["allow"] == "POST"


@pytest.mark.parametrize("path, version", [("/V1/LOGIN", "v1"), ("/v1/Login/", "v1"), ("/V2/login", "v2"),
                                           ("/login", "v2"), ("/LOGIN", "v2")])
def test_paths_match_in_any_case_and_without_a_version(client: Client, user: dict, path: str, version: str) -> None:
    data = expect_ok(client.post(path, {"username": "Foo", "password": PASSWORD}), version)
    assert data["uid"] == user["uid"]


def test_unversioned_test_route(client: Client, user: dict) -> None:
    token = expect_ok(client.post("/Login", {"username": "Foo", "password": PASSWORD}), "v2")["token"]
    assert expect_ok(client.post("/TEST", token=token), "v2")["account"] == "Foo"


# -- body size ----------------------------------------------------------------------------------

def padded(size: int) -> bytes:
    """A JSON object body of exactly `size` bytes."""
    head = b'{"pad":"'
    return head + b"x" * (size - len(head) - 2) + b'"}'


@pytest.mark.parametrize("version", VERSIONS)
def test_body_over_the_limit_is_413(client: Client, version: str) -> None:
    message = expect_error(post_bytes(client, f"/{version}/login", padded(LIMIT + 1)), version, *codes.BODY_TOO_LARGE)
    assert message == "请求体过大"
    expect_error(post_bytes(client, f"/{version}/login", padded(10 * LIMIT)), version, *codes.BODY_TOO_LARGE)


def test_body_at_the_limit_is_read(client: Client) -> None:
    # Read, and refused for what it says (no timestamp), not for its size.
    expect_error(post_bytes(client, "/v1/login", padded(LIMIT)), "v1", *codes.TIMESTAMP_INVALID)


@pytest.mark.parametrize("version", VERSIONS)
def test_chunked_body_over_the_limit_is_413(client: Client, version: str) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"pad":"'
        for _ in range(80):
            yield b"x" * 1024
        yield b'"}'

    response = post_bytes(client, f"/{version}/login", chunks())
    assert "content-length" not in response.request.headers
    assert response.request.headers["transfer-encoding"] == "chunked"
    expect_error(response, version, *codes.BODY_TOO_LARGE)


def test_small_chunked_body_is_read(client: Client, user: dict) -> None:
    params = fresh()
    sign = make_sign(params, SIGN_SECRET)
    text = json.dumps(params).encode()
    response = post_bytes(client, "/v1/login", iter([text[:10], text[10:]]), sign=sign)
    assert expect_ok(response, "v1")["uid"] == user["uid"]


# -- unreadable bodies and content types ----------------------------------------------------------

@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("body", [b'{"username":', b"{'username':'Foo'}", b"[1,2]", b'["username","Foo"]', b'"Foo"',
                                  b"null", b"\xff\xfe\x00", b'{"username":"\xc3\x28"}', b'{"a":NaN}', b"{} {}"])
def test_unreadable_body_is_60008(client: Client, version: str, body: bytes) -> None:
    message = expect_error(post_bytes(client, f"/{version}/login", body), version, *codes.PARAMS_UNREADABLE)
    if version == "v1":
        assert message == "参数获取失败"


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("content_type", ["text/plain", "application/xml", "application/octet-stream", None])
def test_unsupported_content_type_is_415(client: Client, version: str, content_type: str | None) -> None:
    response = post_bytes(client, f"/{version}/login", json.dumps(fresh()).encode(), content_type)
    expect_error(response, version, *codes.UNSUPPORTED_MEDIA_TYPE)


def test_multipart_form_is_read(client: Client, user: dict) -> None:
    params = fresh()
    files = {name: (None, str(value)) for name, value in params.items()}
    response = client.raw("POST", "/v1/login", files=files, headers={"sign": make_sign(params, SIGN_SECRET)})
    assert expect_ok(response, "v1")["uid"] == user["uid"]


def test_multipart_file_is_refused(client: Client) -> None:
    params = fresh()
    files = {**{name: (None, str(value)) for name, value in params.items()}, "avatar": ("a.png", b"\x89PNG")}
    response = client.raw("POST", "/v1/login", files=files, headers={"sign": make_sign(params, SIGN_SECRET)})
    expect_error(response, "v1", *codes.PARAMS_UNREADABLE)


# -- duplicate names ---------------------------------------------------------------------------

@pytest.mark.parametrize("version", VERSIONS)
def test_name_given_twice_is_a_parameter_error(client: Client, version: str) -> None:
    path = f"/{version}/login"
    params = fresh()
    sign = make_sign(params, SIGN_SECRET)
    query = "&".join(f"{k}={v}" for k, v in params.items())
    public = "&".join(f"{k}={v}" for k, v in params.items() if k != "password")  # no secret in the URL
    cases = [
        client.raw("POST", f"{path}?{public}&username=Bar", headers={"sign": sign}),                # query twice
        client.raw("POST", f"{path}?username=Foo", json=params, headers={"sign": sign}),            # query + body
        post_bytes(client, path, json.dumps(params)[:-1].encode() + b', "username": "Foo"}', sign=sign),  # JSON
        post_bytes(client, path, f"{query}&username=Foo".encode(), "application/x-www-form-urlencoded",
                   sign=sign),                                                                       # form twice
    ]
    for response in cases:
        message = expect_error(response, version, *codes.PARAM_INVALID)
        assert "username" in message


# -- language and content type ------------------------------------------------------------------

@pytest.mark.parametrize("version, accept, lang, expected", [
    ("v1", "en", None, "Wrong signature"),
    ("v1", "en-US,en;q=0.9", None, "Wrong signature"),
    ("v1", "zh-CN,zh;q=0.9,en;q=0.8", None, "签名错误"),
    ("v1", "en;q=0", None, "签名错误"),
    ("v1", None, "en", "Wrong signature"),
    ("v1", None, "en-us", "Wrong signature"),
    ("v1", "en", "zh-cn", "签名错误"),
    ("v2", "en", None, "Wrong signature"),
    ("v2", None, "en", "Wrong signature"),
    ("v2", None, None, "签名错误"),
])
def test_message_language(client: Client, version: str, accept: str | None, lang: str | None, expected: str) -> None:
    headers = {"Accept-Language": accept} if accept else {}
    params = fresh(**({"lang": lang} if lang else {}))
    response = client.send(f"/{version}/login", params, sign="0" * 32, headers=headers)
    assert expect_error(response, version, *codes.SIGN_INVALID) == expected


def test_english_404_and_405(client: Client) -> None:
    assert expect_error(client.post("/v1/nothing", headers={"Accept-Language": "en"}), "v1",
                        *codes.ROUTE_NOT_FOUND) == "No such API route"
    assert expect_error(client.raw("GET", "/v2/login", headers={"Accept-Language": "en"}), "v2",
                        *codes.METHOD_NOT_ALLOWED) == "Method not allowed"


@pytest.mark.parametrize("case", ["404", "405", "413", "415", "60008", "60006"])
def test_lang_in_the_query_string_applies_to_every_error(client: Client, case: str) -> None:
    query = "?lang=en"
    if case == "404":
        response, version, error = client.post("/v1/nothing" + query), "v1", codes.ROUTE_NOT_FOUND
    elif case == "405":
        response, version, error = client.raw("GET", "/v1/login" + query), "v1", codes.METHOD_NOT_ALLOWED
    elif case == "413":
        response, version, error = post_bytes(client, "/v1/login" + query, padded(LIMIT + 1)), "v1", \
            codes.BODY_TOO_LARGE
    elif case == "415":
        response, version, error = post_bytes(client, "/v1/login" + query, b"x", "text/plain"), "v1", \
            codes.UNSUPPORTED_MEDIA_TYPE
    elif case == "60008":
        response, version, error = post_bytes(client, "/v1/login" + query, b"{bad"), "v1", codes.PARAMS_UNREADABLE
    else:
        response, version, error = client.raw("POST", "/v1/login" + query + "&a=1&a=2", json={}), "v1", \
            codes.PARAM_INVALID
    message = expect_error(response, version, *error)
    assert message.isascii(), message


# -- odd input never becomes a 5xx ---------------------------------------------------------------

def envelope_of(response: requests.Response, version: str) -> dict[str, Any]:
    assert response.status_code < 500, (response.status_code, response.text[:300])
    assert response.headers["content-type"].split(";")[0] == "application/json", response.headers
    body = response.json()
    assert set(body) == ({"message", "data", "errorcode"} if version == "v1" else {"code", "msg", "status", "data"})
    return body


ODD_VALUES: list[Any] = [
    None, "", " ", True, False, 0, -1, 1.5, -0.0, 10**30, -(10**300), 1e308, [], {}, [[[[]]]], [None],
    {"$gt": ""}, {"a": {"b": {"c": [1, 2, {"d": None}]}}}, "中文用户名", "😀" * 10, "\u0000", "a\u0000b", "\n",
    "a" * 20000,
    "' OR '1'='1", "${jndi:ldap://x}", "<script>alert(1)</script>", "../../etc/passwd", "%s%s%s", "{reason}",
    "{account}", "0x1f", "1e3", "Foo\u200b",
]
FIELDS = ["username", "password", "timestamp", "nonce", "appid", "sign", "lang", "token"]


@pytest.mark.parametrize("field", FIELDS)
def test_odd_values_in_signed_requests_never_5xx(client: Client, user: dict, field: str) -> None:
    for i, value in enumerate(ODD_VALUES):
        version = VERSIONS[i % 2]
        # username and password matter to login, token to test; the request checks to both.
        action = {"username": "login", "password": "login", "token": "test"}.get(field, ("login", "test")[i // 2 % 2])
        envelope_of(client.send(f"/{version}/{action}", fresh(**{field: value})), version)


def test_odd_values_in_every_field_at_once(client: Client, user: dict) -> None:
    for value in ODD_VALUES:
        params = {name: value for name in FIELDS}
        envelope_of(client.send("/v1/login", params, sign="0" * 32), "v1")
        envelope_of(client.send("/v2/test", params), "v2")
        envelope_of(client.send("/v1/login", {k: v for k, v in params.items() if k != "sign"}, form=True), "v1")


@pytest.mark.parametrize("depth", [10000, 2000, 1001, 800, 500, 100])
def test_deep_nesting_never_5xx(client: Client, depth: int) -> None:
    ts = int(time.time())
    for body in (b"[" * depth + b"]" * depth,
                 b'{"username":' + b"[" * depth + b"]" * depth + b"}",
                 b'{"timestamp":%d,"username":' % ts + b"[" * depth + b"]" * depth + b"}",
                 b'{"timestamp":%d,"a":' % ts + b'{"a":' * depth + b"1" + b"}" * depth + b"}"):
        for version in VERSIONS:
            envelope_of(post_bytes(client, f"/{version}/login", body, sign="0" * 32), version)


def test_nesting_near_the_parser_limit_is_unreadable(client: Client) -> None:
    ts = int(time.time())
    # Every depth around Python's recursion limit, where the parser still reads what the signer cannot walk.
    for depth in range(900, 1001):
        for body in (b'{"timestamp":%d,"a":' % ts + b"[" * depth + b"]" * depth + b"}",
                     b'{"timestamp":%d,"a":' % ts + b'{"a":' * depth + b"1" + b"}" * depth + b"}"):
            expect_error(post_bytes(client, "/v1/login", body, sign="0" * 32), "v1", *codes.PARAMS_UNREADABLE)


def nested(depth: int) -> Any:
    value: Any = []
    for _ in range(depth - 1):
        value = [value]
    return value


def test_shallow_nesting_is_signed_and_read(client: Client, user: dict) -> None:
    expect_ok(client.send("/v1/login", fresh(extra=nested(5), more={"a": {"b": [1, {"c": "中"}]}})), "v1")
    expect_error(client.send("/v1/login", fresh(username=nested(5))), "v1", *codes.USERNAME_INVALID)


@pytest.mark.parametrize("depth", [50, 500])
def test_deep_nesting_is_unreadable(client: Client, depth: int) -> None:
    for version in VERSIONS:
        expect_error(client.send(f"/{version}/login", fresh(extra=nested(depth))), version, *codes.PARAMS_UNREADABLE)
        expect_error(client.send(f"/{version}/login", fresh(username=nested(depth))), version,
                     *codes.PARAMS_UNREADABLE)


ODD_JSON = [
    b'{"username":1e400,"password":"x","timestamp":1e400}',
    b'{"username":-1e400}',
    b'{"timestamp":' + b"9" * 300 + b"}",
    b'{"timestamp":' + b"9" * 5000 + b"}",
    b'{"username":"\\u0000","password":"\\u0000"}',
    b'{"username":null,"password":null,"timestamp":null,"sign":null,"nonce":null}',
    b'{"":"","\\u0000":1}',
    b'{"a":[' + b"1," * 20000 + b"1]}",
    "{\"username\":\"\U0001F600\"}".encode(),
    b'\xef\xbb\xbf{"username":"Foo"}',
    b" \n\t{}\n ",
    b"{}",
]


@pytest.mark.parametrize("raw", ODD_JSON, ids=[f"json{i}" for i in range(len(ODD_JSON))])
def test_odd_json_never_5xx(client: Client, raw: bytes) -> None:
    for version in VERSIONS:
        envelope_of(post_bytes(client, f"/{version}/login", raw, sign="0" * 32), version)


@pytest.mark.parametrize("username", ["\u0000", "a\u0000b"])
def test_nul_in_username_is_not_a_500(client: Client, username: str) -> None:
    for version in VERSIONS:
        response = client.post(f"/{version}/login", {"username": username, "password": "nul_test_pw"})
        assert response.status_code in (400, 401), response.text
        envelope_of(response, version)


@pytest.mark.parametrize("version", VERSIONS)
def test_huge_integer_timestamp_is_not_a_500(client: Client, version: str) -> None:
    for digits in (310, 400, 4000):
        response = post_bytes(client, f"/{version}/login", b'{"timestamp":' + b"9" * digits + b"}", sign="0" * 32)
        assert response.status_code == 400, (digits, response.text)
        body = response.json()
        assert body.get("errorcode", body.get("code")) in {*codes.TIMESTAMP_INVALID[:2], *codes.REQUEST_EXPIRED[:2]}


@pytest.mark.parametrize("field", ["username", "password", "lang", "token", "extra"])
def test_lone_surrogate_is_not_a_500(client: Client, field: str) -> None:
    body = json.dumps(fresh(**{field: "\ud800"}))        # json.dumps escapes it as \ud800 (valid ASCII bytes)
    response = post_bytes(client, "/v1/login", body.encode("ascii"), sign="0" * 32)
    expect_error(response, "v1", *codes.PARAMS_UNREADABLE)


def test_every_response_is_json(client: Client, user: dict) -> None:
    responses = [
        client.post("/v1/login", {"username": "Foo", "password": PASSWORD}),
        client.post("/v2/login", {"username": "Foo", "password": "wrong_pw"}),
        client.raw("GET", "/"),
        client.raw("DELETE", "/v2/test"),
        post_bytes(client, "/v1/login", b"x", "text/plain"),
        post_bytes(client, "/v1/login", padded(LIMIT + 10)),
        client.raw("POST", "/v1/login", headers={"Content-Type": "application/json"}),      # no body at all
    ]
    for response in responses:
        assert response.headers["content-type"].split(";")[0] == "application/json"
        assert isinstance(response.json(), dict)
