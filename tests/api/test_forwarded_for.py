"""X-Forwarded-For sent as several header lines (SPEC §10): every line counts, joined in order.

HAProxy's `option forwardfor` appends a line of its own rather than extending the client's, so a
client that sends its own X-Forwarded-For line ends up first. Only the first line used to count:
the client chose the address its limits were counted and audited under.
"""
from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterator

import pytest

from tests.conftest import Server, serving
from tests.support import SIGN_SECRET, Client, make_sign

PASSWORD = "right_pass_1"
SETTINGS = {"APP_DEBUG": 1, "LOGIN_IP_LIMIT": 3, "LOGIN_CAPTCHA_AFTER": 100, "LOGIN_LOCK_AFTER": 100,
            "TRUSTED_PROXIES": "127.0.0.1"}
PROXIED = "198.51.100.9"  # the client as the trusted proxy saw it


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with serving(tmp_path_factory, "runtime", **SETTINGS) as live:
        yield live


def wrong_login(server: Server, forwarded_for: list[str]) -> tuple[int, int]:
    """A failing v2 login with one X-Forwarded-For line per item; (HTTP status, v2 code)."""
    params = {"account": "nobody", "pwd": "wrong_pass_1", "timestamp": int(time.time()),
              "nonce": secrets.token_hex(8)}
    headers = [("Content-Type", "application/json"), ("sign", make_sign(params, SIGN_SECRET))]
    headers += [("X-Forwarded-For", line) for line in forwarded_for]
    # the in-process transport keeps repeated names as separate lines, as a socket would carry them
    response = Client(server.url).raw("POST", "/v2/login/jwt/get", data=json.dumps(params).encode(), headers=headers)
    return response.status_code, response.json()["code"]


def audited_ips(server: Server) -> list[str]:
    return [ip for (ip,) in server.query("SELECT ip FROM audit_log WHERE event = 'login' ORDER BY id")]


def test_a_client_line_before_the_proxy_line_does_not_choose_the_address(server: Server) -> None:
    start = len(audited_ips(server))
    answers = [wrong_login(server, [f"203.0.113.{i}", PROXIED]) for i in range(5)]
    # LOGIN_IP_LIMIT=3: three failures count, then the address is throttled whatever the client wrote.
    assert answers == [(401, 50006)] * 3 + [(429, 9913)] * 2, answers
    assert audited_ips(server)[start:start + 3] == [PROXIED] * 3


def test_a_garbage_first_line_does_not_pin_the_client_to_the_proxy(server: Server) -> None:
    start = len(audited_ips(server))
    assert wrong_login(server, ["garbage", "192.0.2.44"]) == (401, 50006)
    assert wrong_login(server, ["192.0.2.45, 10.0.0.1", "192.0.2.46"]) == (401, 50006)
    assert audited_ips(server)[start:] == ["192.0.2.44", "192.0.2.46"]
