"""Request ids (SPEC §14): echoed or generated, in every log line of the request, in 60004's message."""
from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Server, serving
from tests.support import Client, LiveServer
from tests.unit.test_exception_handle import boom_app, call  # noqa: F401 - the fixture: an app whose action raises

PHONE = "13800138123"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    # live: test_60004 builds an app of its own in this process, which would take the database of an
    # in-process server from under it (one in-process app at a time)
    with serving(tmp_path_factory, "runtime", live=True, LOG_LEVEL="info") as server:
        yield server


@pytest.mark.parametrize("given", ["abc-123_X.y", "a" * 64])
def test_a_safe_request_id_is_echoed(server: Server, given: str) -> None:
    client = Client(server.url)
    for response in (client.raw("GET", "/health", headers={"X-Request-Id": given}),
                     client.post("/v2/test", headers={"X-Request-Id": given}),
                     client.raw("POST", "/v1/no/such/route", headers={"X-Request-Id": given})):
        assert response.headers["x-request-id"] == given


@pytest.mark.parametrize("given", ["", "a" * 65, "has space", "semi;colon", "ü", "a/b"])
def test_an_unsafe_request_id_is_replaced(server: Server, given: str) -> None:
    response = Client(server.url).post("/v2/test", headers={"X-Request-Id": given.encode("utf-8")})  # type: ignore[dict-item]
    generated = response.headers["x-request-id"]
    assert generated != given and len(generated) == 16 and int(generated, 16) >= 0


def test_every_request_gets_its_own_id(server: Server) -> None:
    ids = {Client(server.url).raw("GET", "/health").headers["x-request-id"] for _ in range(5)}
    assert len(ids) == 5


def test_the_request_id_is_in_the_log_lines_of_the_request(server: Server) -> None:
    response = Client(server.url).post("/v2/login/send/sms", {"phone": PHONE}, headers={"X-Request-Id": "sms-req-42"})
    assert response.json()["code"] == 200
    lines = [line for line in server.log().splitlines() if "SMS (log driver" in line]
    assert lines and "[sms-req-42]" in lines[-1]


def test_json_log_lines_parse_and_carry_the_request_id(tmp_runtime: Path) -> None:
    server = LiveServer(tmp_runtime, LOG_FORMAT="json", LOG_LEVEL="info")
    try:
        Client(server.url).post("/v2/login/send/sms", {"phone": PHONE}, headers={"X-Request-Id": "json-req-7"})
    finally:
        server.stop()
    entries = [json.loads(line) for line in server.log().splitlines()]  # every line, uvicorn's too
    assert entries and any(entry["logger"].startswith("uvicorn") for entry in entries), server.log()
    assert all(set(entry) >= {"time", "level", "logger", "message", "request_id"} for entry in entries)
    sms = [entry for entry in entries if "SMS (log driver" in entry["message"]]
    assert sms and sms[-1]["request_id"] == "json-req-7" and sms[-1]["level"] == "WARNING"
    assert any(entry["request_id"] == "-" for entry in entries)  # lines outside a request (start-up)


def test_60004_names_the_request_id(boom_app: Any) -> None:  # noqa: F811
    app = boom_app(False)
    status, headers, body = call(app, "/v1/test", headers=[(b"x-request-id", b"boom-req-1")])
    assert (status, body["errorcode"], headers["x-request-id"]) == (500, 60004, "boom-req-1")
    assert body["message"] == "未知错误（请求编号 boom-req-1）"
    status, headers, body = call(app, "/v2/test", headers=[(b"x-request-id", b"bad id!")])
    assert (status, body["code"]) == (500, 9900) and headers["x-request-id"] in body["msg"]
    assert "bad id!" not in body["msg"]
