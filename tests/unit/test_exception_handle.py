"""Every failure leaves in the version's envelope: an unexpected exception is a 500 with a request id."""
from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import server
from app.common.auth import Auth
from app.common.cache import CacheUnavailable
from app.common.error import ApiException
from app.common.route import RouteRule
from app.common.text import Text
from app.dispatcher import Dispatcher
from app.exception_handle import render_exception
from app.model.base import db
from app.request import ApiRequest
from tests.support import JWT_SECRET, SIGN_SECRET

SECRET_DETAIL = "internal detail 7f3a"


def request(version: str = "v1", lang: str = "zh") -> ApiRequest:
    scope = {"type": "http", "method": "POST", "path": f"/{version}/login", "headers": [], "query_string": b""}
    req = ApiRequest(scope, version, "/login")
    req.lang = lang
    return req


def explode() -> RuntimeError:
    try:
        raise RuntimeError(SECRET_DETAIL)
    except RuntimeError as exc:
        return exc


@pytest.mark.parametrize("version, code", [("v1", 60004), ("v2", 9900)])
def test_unexpected_exception_is_a_500_with_a_request_id(version: str, code: int) -> None:
    response = render_exception(request(version), explode(), debug=False)
    assert response.status_code == 500
    assert response.headers["content-type"].startswith("application/json")
    body = json.loads(response.body)
    request_id = response.headers["x-request-id"]
    assert len(request_id) >= 8
    if version == "v1":
        assert (body["errorcode"], body["data"]) == (60004, {})
        message = body["message"]
    else:
        assert (body["code"], body["status"], body["data"]) == (code, False, [])
        message = body["msg"]
    assert message.startswith("未知错误") and request_id in message
    assert "trace" not in body
    assert SECRET_DETAIL not in response.body.decode() and "RuntimeError" not in response.body.decode()


def test_request_ids_differ() -> None:
    ids = {render_exception(request(), explode(), debug=False).headers["x-request-id"] for _ in range(5)}
    assert len(ids) == 5


def test_debug_adds_the_trace() -> None:
    response = render_exception(request("v2"), explode(), debug=True)
    body = json.loads(response.body)
    assert response.status_code == 500 and body["code"] == 9900
    assert SECRET_DETAIL in "".join(body["trace"])


def test_english_unknown_error() -> None:
    body = json.loads(render_exception(request("v1", "en"), explode(), debug=False).body)
    assert body["message"].startswith("Unknown error")


def test_api_exception_is_rendered_with_its_fields_code_and_headers() -> None:
    exc = ApiException("PARAM_INVALID", field="username", reason=Text("用户名必填", "username is required"))
    v1 = render_exception(request("v1"), exc, debug=True)
    assert (v1.status_code, json.loads(v1.body)) == (400, {"message": "用户名必填", "data": {}, "errorcode": 60000})
    v2 = render_exception(request("v2", "en"), exc, debug=True)
    assert json.loads(v2.body) == {"code": 9906, "msg": "Data validation failed: username is required",
                                   "status": False, "data": []}
    allowed = render_exception(request("v1"), ApiException("METHOD_NOT_ALLOWED", headers={"Allow": "POST"}), False)
    assert (allowed.status_code, allowed.headers["allow"]) == (405, "POST")
    assert "trace" not in json.loads(v1.body)     # only unexpected exceptions carry a trace


@pytest.mark.parametrize("version, lang", [("v1", "zh"), ("v2", "en")])
def test_a_cache_outage_answers_as_service_unavailable(version: str, lang: str) -> None:
    """The cache raises its own storage error; users get the catalog's 503, no Retry-After, no trace."""
    outage = render_exception(request(version, lang), CacheUnavailable("redis: connection refused"), debug=True)
    refused = render_exception(request(version, lang), ApiException("SERVICE_UNAVAILABLE"), debug=True)
    assert outage.status_code == refused.status_code == 503
    assert json.loads(outage.body) == json.loads(refused.body)
    assert "retry-after" not in outage.headers and "connection refused" not in outage.body.decode()
    code = json.loads(outage.body)["errorcode" if version == "v1" else "code"]
    assert code == (60019 if version == "v1" else 9915)


def test_a_missing_placeholder_is_left_empty() -> None:
    body = json.loads(render_exception(request("v2"), ApiException("LOGIN_FAILED"), False).body)
    assert body["msg"] == "用户  未注册或者密码错误"


# -- through the dispatcher: an action that raises -----------------------------------------------

class Boom:
    """A route middleware that fails the way a bug would."""

    def __init__(self, app: Any):
        self.app = app

    async def handle(self, request: ApiRequest, next_: Any, *arguments: str) -> Any:
        raise ZeroDivisionError(SECRET_DETAIL)


def call(app: Any, path: str, body: bytes = b"{}",
         headers: list[tuple[bytes, bytes]] = ()) -> tuple[int, dict[str, str], dict[str, Any]]:  # type: ignore[assignment]
    """One HTTP request through the ASGI interface; (status, headers, JSON body)."""
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "path": path,
             "raw_path": path.encode(), "query_string": b"", "scheme": "http", "server": ("127.0.0.1", 80),
             "client": ("127.0.0.1", 50000), "headers": [(b"content-type", b"application/json"),
                                                         (b"content-length", str(len(body)).encode()),
                                                         *headers]}
    messages = [{"type": "http.request", "body": body, "more_body": False}]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    start = sent[0]
    headers = {k.decode().lower(): v.decode() for k, v in start["headers"]}
    payload = b"".join(m.get("body", b"") for m in sent[1:])
    return start["status"], headers, json.loads(payload)


@pytest.fixture
def boom_app(tmp_path: Path) -> Iterator[Dispatcher]:
    def build(debug: bool) -> Dispatcher:
        app = server.create_app({"RUNTIME_DIR": str(tmp_path / "runtime"), "SIGN_SECRET": SIGN_SECRET,
                                 "JWT_SECRET": JWT_SECRET, "SIGN_REQUIRED": 0, "APP_DEBUG": debug,
                                 "LOG_LEVEL": "critical"})
        containers.append(app.container)
        rules = [RouteRule("POST", "/<ver>/test", "<ver>.Login/test", ["boom"])]
        return Dispatcher(app.container, rules, {"boom": f"{__name__}.Boom"})

    containers: list[Any] = []
    yield build
    for container in containers:
        asyncio.run(container.cache.close())
    Auth.instance().close()
    db.close()


@pytest.mark.parametrize("debug", [False, True])
def test_an_action_that_raises_answers_500_in_the_envelope(boom_app: Any, debug: bool) -> None:
    app = boom_app(debug)
    status, headers, body = call(app, "/v1/test")
    assert status == 500
    assert headers["content-type"].startswith("application/json")
    assert body["errorcode"] == 60004 and body["data"] == {}
    assert headers["x-request-id"] in body["message"]
    assert ("trace" in body) is debug
    if debug:
        assert "ZeroDivisionError" in "".join(body["trace"])
    else:
        assert SECRET_DETAIL not in json.dumps(body, ensure_ascii=False)
    status, headers, body = call(app, "/v2/test")
    assert (status, body["code"], body["status"], body["data"]) == (500, 9900, False, [])
    # Other routes of the same app are untouched.
    status, _, body = call(app, "/v1/nothing-here")
    assert (status, body["errorcode"]) == (404, 60012)
