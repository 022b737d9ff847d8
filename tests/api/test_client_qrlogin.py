"""The Python client's QR login and member code methods, and `python -m client qr-confirm TICKET`."""
from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from client import ApiError, LoginApiClient
from tests.api.lifecycle import FAST
from tests.api.test_client import _cli
from tests.conftest import serving
from tests.support import SIGN_SECRET, LiveServer


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with serving(tmp_path_factory, "client-qrlogin", live=True, **FAST) as live:
        live.create_user("Phone", "13911112222", "secret_123")
        live.create_user("Counter", "13911113333", "secret_123", admin=True)
        yield live


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_page_and_app_log_in_by_qr_code(server: LiveServer, version: str) -> None:
    page = LoginApiClient(server.url, SIGN_SECRET, version=version)
    app = LoginApiClient(server.url, SIGN_SECRET, version=version)
    app.login("Phone", "secret_123", platform="ios")
    ticket = page.qr_create()
    assert page.qr_poll(ticket["ticket"], ticket["poll_secret"])["state"] == "pending"
    assert app.qr_scan(ticket["ticket"])["platform"] == "web"
    assert page.qr_poll(ticket["ticket"], ticket["poll_secret"], wait=1)["state"] == "scanned"
    app.qr_confirm(ticket["ticket"])
    handed = page.qr_poll(ticket["ticket"], ticket["poll_secret"])
    assert handed["state"] == "confirmed" and page.tokens.access == handed["jwt"]
    assert page.me()["account"] == "Phone"
    with pytest.raises(ApiError) as caught:
        page.qr_poll(ticket["ticket"], ticket["poll_secret"])
    assert (caught.value.code, caught.value.status) == ({"v1": 60034, "v2": 50020}[version], 400)
    cancelled = page.qr_create()
    app.qr_scan(cancelled["ticket"])
    app.qr_cancel(cancelled["ticket"])
    assert page.qr_poll(cancelled["ticket"], cancelled["poll_secret"])["state"] == "cancelled"


def test_member_code_and_verify(server: LiveServer) -> None:
    app = LoginApiClient(server.url, SIGN_SECRET)
    app.login("Phone", "secret_123")
    counter = LoginApiClient(server.url, SIGN_SECRET, version="v1")
    counter.login("Counter", "secret_123")
    code = app.member_code()["code"]
    assert counter.member_verify(code) == {"uid": 1, "account": "Phone", "phone": "139****2222"}
    with pytest.raises(ApiError) as caught:
        counter.member_verify(code)
    assert (caught.value.code, caught.value.status) == (60036, 400)
    with pytest.raises(ApiError) as denied:
        app.member_verify(app.member_code()["code"])
    assert (denied.value.code, denied.value.status) == (9914, 403)


def test_qr_confirm_on_the_command_line(server: LiveServer, tmp_path: Path) -> None:
    common = ["--base-url", server.url, "--secret", SIGN_SECRET, "--token-file", str(tmp_path / "tokens.json")]
    assert _cli("login", *common, "--account", "Phone", "--password", "secret_123").returncode == 0
    page = LoginApiClient(server.url, SIGN_SECRET)
    ticket = page.qr_create()
    done = _cli("qr-confirm", ticket["ticket"], *common)
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert answer["confirmed"] is True and answer["page"]["platform"] == "web"
    assert page.qr_poll(ticket["ticket"], ticket["poll_secret"])["uid"] == 1
    # the QR code's whole text works too; a used-up ticket is refused with its code
    second = page.qr_create()
    assert _cli("qr-confirm", second["content"], *common).returncode == 0
    assert page.qr_poll(second["ticket"], second["poll_secret"])["state"] == "confirmed"
    done = _cli("qr-confirm", second["ticket"], *common)
    assert done.returncode == 1 and done.stderr.startswith("error 50020 (HTTP 400)"), done.stderr
