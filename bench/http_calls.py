"""Single HTTP calls to the servers under test, stdlib only: signed or not, and the logins that get tokens.

The benchmarks use them to log in and to check each case with one request before wrk is pointed at it.
"""
from __future__ import annotations

import json
import secrets
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from processes import ROOT
from service_setup import ACCOUNT, PASSWORD, SIGN_SECRET

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from app.common.sign import make_sign  # noqa: E402  (the project's own signer, SPEC §4)


def signed(params: dict[str, Any]) -> tuple[dict[str, Any], str]:
    body = {**params, "timestamp": int(time.time()), "nonce": secrets.token_hex(8)}
    return body, make_sign(body, SIGN_SECRET)


def post(url: str, body: dict[str, Any] | None = None, *, sign: bool, token: str | None = None,
         form: bool = False, method: str = "POST", timeout: float = 30) -> tuple[int, Any]:
    headers: dict[str, str] = {}
    body = dict(body or {})
    if sign:
        body, headers["sign"] = signed(body)
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = None
    if method != "GET":
        if form:
            data = urllib.parse.urlencode(body).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        else:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
    request = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as exc:
        status, raw = exc.code, exc.read()
    try:
        return status, json.loads(raw)
    except ValueError:
        return status, raw.decode(errors="replace")


def expect_v2(status: int, body: Any, what: str) -> Any:
    if status not in (200, 201) or not isinstance(body, dict) or body.get("code") != 200:
        raise RuntimeError(f"{what}: HTTP {status} {str(body)[:300]}")
    return body.get("data")


def login_jwt(base: str, sign: bool) -> str:
    status, body = post(base + "/v2/login/jwt/get", {"account": ACCOUNT, "pwd": PASSWORD}, sign=sign)
    return expect_v2(status, body, "POST /v2/login/jwt/get")["jwt"]


def login_md5(base: str, sign: bool) -> str:
    status, body = post(base + "/v2/login", {"username": ACCOUNT, "password": PASSWORD}, sign=sign)
    return expect_v2(status, body, "POST /v2/login")["token"]
