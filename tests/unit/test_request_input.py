"""Request input: query string, JSON / form / multipart bodies, duplicates and the size limit."""
from __future__ import annotations

import asyncio
from typing import Any

import pytest

from app.common.error import ApiException
from app.common.request_input import merge, parse_body, parse_query, read_body

JSON = "application/json"
FORM = "application/x-www-form-urlencoded"


def error_name(call: Any, *args: Any) -> str:
    with pytest.raises(ApiException) as caught:
        call(*args)
    return caught.value.answer.name


# -- query string ------------------------------------------------------------------------------

def test_query_parsing() -> None:
    assert parse_query(b"") == {}
    assert parse_query(b"a=1&b=x%20y&c=&d=%E4%B8%AD&e=a+b") == {"a": "1", "b": "x y", "c": "", "d": "中", "e": "a b"}
    assert parse_query(b"sign=ABC&timestamp=1700000000") == {"sign": "ABC", "timestamp": "1700000000"}


def test_query_name_twice_is_a_parameter_error() -> None:
    with pytest.raises(ApiException) as caught:
        parse_query(b"username=a&username=b")
    assert caught.value.answer.name == "PARAM_INVALID"
    assert caught.value.code("v1") == 60006 and caught.value.code("v2") == 9906
    assert "username" in caught.value.fields["reason"].en
    # Even with the same value twice.
    assert error_name(parse_query, b"a=1&a=1") == "PARAM_INVALID"


@pytest.mark.parametrize("raw", [b"a=%ff", b"a=%C3%28", b"\xff=1", b"a=\xe4\xb8"])
def test_query_invalid_utf8_is_unreadable(raw: bytes) -> None:
    assert error_name(parse_query, raw) == "PARAMS_UNREADABLE"


# -- JSON --------------------------------------------------------------------------------------

def test_json_object() -> None:
    body = b'{"username":"\\u4e2d","n":1,"f":1.5,"b":true,"z":null,"a":[1,{"x":2}]}'
    assert parse_body(body, JSON) == {"username": "中", "n": 1, "f": 1.5, "b": True, "z": None, "a": [1, {"x": 2}]}
    assert parse_body(b'{"a":1}', "application/json; charset=utf-8") == {"a": 1}
    assert parse_body(b'{"a":1}', "Application/JSON") == {"a": 1}
    assert parse_body(b'{"a":1}', "application/vnd.api+json") == {"a": 1}


def test_json_duplicate_keys_are_a_parameter_error() -> None:
    assert error_name(parse_body, b'{"username":"a","username":"b"}', JSON) == "PARAM_INVALID"


def test_nested_duplicate_keys_are_refused_too() -> None:
    assert error_name(parse_body, b'{"a":{"x":1,"x":2}}', JSON) == "PARAM_INVALID"


@pytest.mark.parametrize("body", [
    b"\xff\xfe{}",
    b'{"a":"\xc3\x28"}',
    b'{"a":1',
    b"{'a':1}",
    b"",  # handled below: an empty body is no parameters
    b"[1,2]",
    b'"text"',
    b"42",
    b"null",
    b"true",
    b'{"a":NaN}',
    b'{"a":Infinity}',
    b'{"a":-Infinity}',
    b"[" * 100000 + b"]" * 100000,
    b'{"a":' + b"[" * 5000 + b"]" * 5000 + b"}",
    b'{"a":1}x',
    b'{"a":1}{"b":2}',
    b'{"a":' + b"1" * 5000 + b"}",   # more digits than Python converts
])
def test_unreadable_json(body: bytes) -> None:
    if not body:
        assert parse_body(body, JSON) == {}
        return
    assert error_name(parse_body, body, JSON) == "PARAMS_UNREADABLE"


@pytest.mark.parametrize("body", [b'{"username":"\\ud800"}', b'{"a":["x\\udfff"]}', b'{"\\ud800":1}',
                                  b'{"a":{"b":"\\udc00\\ud800"}}'])
def test_json_lone_surrogate_is_unreadable(body: bytes) -> None:
    # Valid ASCII bytes, but the escape names no Unicode character: the text cannot be UTF-8.
    with pytest.raises(ApiException) as caught:
        parse_body(body, JSON)
    assert caught.value.answer.name == "PARAMS_UNREADABLE"
    assert caught.value.fields["reason"].en == "the request is not valid UTF-8"


def test_json_surrogate_pair_is_text() -> None:
    assert parse_body(b'{"a":"\\ud83d\\ude00"}', JSON) == {"a": "\U0001F600"}


def nested_json(depth: int) -> bytes:
    return b'{"a":' + b"[" * (depth - 1) + b"]" * (depth - 1) + b"}"


def test_nesting_within_the_limit_is_read() -> None:
    from app.common.request_input import MAX_DEPTH

    assert parse_body(nested_json(MAX_DEPTH), JSON)["a"] is not None
    assert parse_body(b'{"a":{"b":{"c":[1,{"d":2}]}}}', JSON) == {"a": {"b": {"c": [1, {"d": 2}]}}}


@pytest.mark.parametrize("extra", [1, 10, 900])
def test_nesting_past_the_limit_is_unreadable(extra: int) -> None:
    from app.common.request_input import MAX_DEPTH

    with pytest.raises(ApiException) as caught:
        parse_body(nested_json(MAX_DEPTH + extra), JSON)
    assert caught.value.answer.name == "PARAMS_UNREADABLE"
    with pytest.raises(ApiException):
        parse_body(b'{"a":' + b'{"a":' * (MAX_DEPTH + extra) + b"1" + b"}" * (MAX_DEPTH + extra) + b"}", JSON)


def test_unreadable_reason_is_given() -> None:
    for body, en in [(b"\xff", "the request is not valid UTF-8"), (b"[1]", "the body must be a JSON object"),
                     (b"{", "the body is not valid JSON")]:
        with pytest.raises(ApiException) as caught:
            parse_body(body, JSON)
        assert caught.value.fields["reason"].en == en
        assert caught.value.code("v1") == 60008


# -- form and content types ----------------------------------------------------------------------

def test_form_body() -> None:
    assert parse_body(b"username=Foo&password=a%26b&timestamp=1700000000", FORM) == {
        "username": "Foo", "password": "a&b", "timestamp": "1700000000"}
    assert parse_body(b"a=1", FORM + "; charset=utf-8") == {"a": "1"}


def test_form_name_twice_is_a_parameter_error() -> None:
    assert error_name(parse_body, b"username=a&username=b", FORM) == "PARAM_INVALID"


def test_form_invalid_utf8_is_unreadable() -> None:
    assert error_name(parse_body, b"username=%ff", FORM) == "PARAMS_UNREADABLE"


@pytest.mark.parametrize("content_type", ["text/plain", "application/xml", "", "application/octet-stream",
                                          "application/jsonx", "text/json"])
def test_unsupported_content_type(content_type: str) -> None:
    with pytest.raises(ApiException) as caught:
        parse_body(b'{"a":1}', content_type)
    exc = caught.value
    assert exc.answer.name == "UNSUPPORTED_MEDIA_TYPE"
    assert exc.answer.http == 415


def test_empty_body_is_no_parameters_whatever_the_type() -> None:
    for content_type in (JSON, FORM, "text/plain", ""):
        assert parse_body(b"", content_type) == {}


# -- multipart --------------------------------------------------------------------------------

def multipart(*parts: tuple[str, bytes, str | None], boundary: str = "XyZ123") -> tuple[bytes, str]:
    chunks = []
    for name, value, filename in parts:
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        head = f"--{boundary}\r\nContent-Disposition: {disposition}\r\n"
        if filename:
            head += "Content-Type: application/octet-stream\r\n"
        chunks.append(head.encode() + b"\r\n" + value + b"\r\n")
    chunks.append(f"--{boundary}--\r\n".encode())
    return b"".join(chunks), f"multipart/form-data; boundary={boundary}"


def test_multipart_fields_are_read() -> None:
    body, content_type = multipart(("username", "小明".encode(), None), ("password", b"a&b=c", None),
                                   ("empty", b"", None))
    assert parse_body(body, content_type) == {"username": "小明", "password": "a&b=c", "empty": ""}


def test_multipart_file_parts_are_refused() -> None:
    body, content_type = multipart(("username", b"Foo", None), ("avatar", b"\x89PNG...", "a.png"))
    with pytest.raises(ApiException) as caught:
        parse_body(body, content_type)
    assert caught.value.answer.name == "PARAMS_UNREADABLE"
    assert caught.value.fields["reason"].en == "file uploads are not accepted"


def test_multipart_name_twice_is_a_parameter_error() -> None:
    body, content_type = multipart(("a", b"1", None), ("a", b"2", None))
    assert error_name(parse_body, body, content_type) == "PARAM_INVALID"


def test_multipart_without_boundary_or_malformed() -> None:
    assert error_name(parse_body, b"--x\r\n", "multipart/form-data") == "PARAMS_UNREADABLE"
    assert error_name(parse_body, b"garbage without any boundary", "multipart/form-data; boundary=XyZ") \
        == "PARAMS_UNREADABLE"


def test_multipart_invalid_utf8_is_unreadable() -> None:
    body, content_type = multipart(("a", b"\xff\xfe", None))
    assert error_name(parse_body, body, content_type) == "PARAMS_UNREADABLE"


# -- query and body together -------------------------------------------------------------------

def test_merge() -> None:
    assert merge({}, {"a": 1}) == {"a": 1}
    assert merge({"a": "1"}, {}) == {"a": "1"}
    assert merge({"timestamp": "1"}, {"username": "u"}) == {"timestamp": "1", "username": "u"}


def test_name_in_query_and_body_is_a_parameter_error() -> None:
    with pytest.raises(ApiException) as caught:
        merge({"username": "a"}, {"username": "a"})
    assert caught.value.answer.name == "PARAM_INVALID"
    assert "username" in caught.value.fields["reason"].zh


# -- body size limit ---------------------------------------------------------------------------

class Receive:
    """An ASGI `receive` callable that hands out the given messages and counts the calls."""

    def __init__(self, *chunks: bytes, disconnect: bool = False):
        self.messages: list[dict[str, Any]] = [
            {"type": "http.request", "body": chunk, "more_body": i < len(chunks) - 1 or disconnect}
            for i, chunk in enumerate(chunks)]
        if disconnect:
            self.messages.append({"type": "http.disconnect"})
        self.calls = 0

    async def __call__(self) -> dict[str, Any]:
        self.calls += 1
        return self.messages.pop(0)


def read(receive: Receive, content_length: str | None, limit: int = 100) -> bytes:
    return asyncio.run(read_body(receive, content_length, limit))


def test_body_in_chunks_is_joined() -> None:
    assert read(Receive(b'{"a":', b"", b"1}"), None) == b'{"a":1}'
    assert read(Receive(b"x" * 100), "100") == b"x" * 100    # exactly the limit is fine


def test_declared_length_over_the_limit_is_refused_before_reading() -> None:
    receive = Receive(b"x" * 10)
    with pytest.raises(ApiException) as caught:
        read(receive, "101")
    assert caught.value.answer.name == "BODY_TOO_LARGE" and caught.value.answer.http == 413
    assert receive.calls == 0


@pytest.mark.parametrize("content_length", [None, "10"])   # absent, or lying
def test_streamed_body_over_the_limit_is_refused(content_length: str | None) -> None:
    receive = Receive(*([b"x" * 30] * 10))
    with pytest.raises(ApiException) as caught:
        read(receive, content_length)
    assert caught.value.answer.name == "BODY_TOO_LARGE"
    assert receive.calls == 4      # stops as soon as it passes the limit, not after reading it all


def test_malformed_content_length_is_unreadable() -> None:
    with pytest.raises(ApiException) as caught:
        read(Receive(b"x"), "ten")
    assert caught.value.answer.name == "PARAMS_UNREADABLE"


def test_client_disconnect_ends_the_body() -> None:
    assert read(Receive(b"abc", disconnect=True), None) == b"abc"


# -- JSON text in one form or query value (SPEC §10) ------------------------------------------------

@pytest.mark.parametrize("depth", [33, 999, 1001, 3000, 100000])
def test_json_value_past_the_limit_is_too_deep(depth: int) -> None:
    from app.common.request_input import TooDeep, decode_json_value

    with pytest.raises(TooDeep):
        decode_json_value("[" * depth + "]" * depth)
    with pytest.raises(TooDeep):
        decode_json_value('{"a":' * depth + "1" + "}" * depth)


def test_json_value_within_the_limit() -> None:
    from app.common.request_input import MAX_DEPTH, TooDeep, decode_json_value

    assert decode_json_value("[" * MAX_DEPTH + "]" * MAX_DEPTH) is not None
    assert decode_json_value("[1,2]") == [1, 2]
    for wrong in ("[1,", '"\\ud800"', "NaN-ish"):
        with pytest.raises(ValueError) as caught:
            decode_json_value(wrong)
        assert not isinstance(caught.value, TooDeep)
