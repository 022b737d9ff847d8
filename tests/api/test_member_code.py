"""The member code (会员码, SPEC §12): 18 digits, a QR code and a Code 128 barcode, one minute, one use."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from app.common.clock import ManualClock
from tests.api.lifecycle import FAST
from tests.api.qrlogin import MEMBER_CODE_INVALID, PERMISSION_DENIED, app_user, png_size, refused
from tests.inprocess import InProcessServer
from tests.support import Client, LiveServer, expect_error, expect_ok, fire


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    live = LiveServer(tmp_path_factory.mktemp("member"), **FAST)
    yield live
    live.stop()


@pytest.fixture(scope="module")
def counter(server: LiveServer) -> dict[str, Any]:
    """The built-in administrator (holds `*`, so `member/verify`), logged in at the counter."""
    return app_user(server, Client(server.url), admin=True)


@pytest.fixture
def me(server: LiveServer, client: Client) -> dict[str, Any]:
    return app_user(server, client)


def issue(client: Client, user: dict[str, Any], version: str = "v2") -> dict[str, Any]:
    return expect_ok(client.post(f"/{version}/member/code", token=user["jwt"]), version)


def verify(client: Client, code: str, user: dict[str, Any], version: str = "v2") -> Any:
    return client.post(f"/{version}/member/verify", {"code": code}, token=user["jwt"])


def test_a_code_with_its_qr_code_and_barcode(client: Client, me: dict[str, Any]) -> None:
    assert client.post("/v2/member/code", token=me["jwt"]).headers["cache-control"] == "no-store"
    data = issue(client, me)
    assert set(data) == {"code", "qrcode", "barcode", "expires_in"}
    assert len(data["code"]) == 18 and data["code"].isdigit() and data["expires_in"] == 60
    qr_width, qr_height = png_size(data["qrcode"])
    assert qr_width == qr_height and 200 <= qr_width <= 400
    bar_width, bar_height = png_size(data["barcode"])
    assert 300 <= bar_width <= 800 and 100 <= bar_height < bar_width
    assert issue(client, me, "v1")["code"] != data["code"]


def test_verify_answers_the_user_once(client: Client, me: dict[str, Any], counter: dict[str, Any]) -> None:
    code = issue(client, me)["code"]
    found = expect_ok(verify(client, code, counter, "v1"), "v1")
    phone = me["phone"]
    assert found == {"uid": me["uid"], "account": me["account"], "phone": f"{phone[:3]}****{phone[-4:]}"}
    refused(verify(client, code, counter), MEMBER_CODE_INVALID)
    refused(verify(client, code, counter, "v1"), MEMBER_CODE_INVALID)


def test_a_new_code_ends_the_previous_one(client: Client, me: dict[str, Any], counter: dict[str, Any]) -> None:
    first = issue(client, me)["code"]
    second = issue(client, me)["code"]
    refused(verify(client, first, counter), MEMBER_CODE_INVALID)
    assert expect_ok(verify(client, second, counter), "v2")["uid"] == me["uid"]


def test_unknown_and_malformed_codes(client: Client, counter: dict[str, Any]) -> None:
    refused(verify(client, "0" * 18, counter), MEMBER_CODE_INVALID)
    expect_error(verify(client, "12345", counter, "v1"), "v1", 60002, 9906, 400)  # the `code` field's v1 code
    expect_error(verify(client, "1" * 17 + "x", counter), "v2", 60002, 9906, 400)


def test_verify_needs_the_permission(server: LiveServer, client: Client, me: dict[str, Any],
                                     counter: dict[str, Any]) -> None:
    code = issue(client, counter)["code"]
    refused(verify(client, code, me), PERMISSION_DENIED)
    refused(verify(client, code, me, "v1"), PERMISSION_DENIED)
    # refused before the code was touched: it still works at a real counter
    assert expect_ok(verify(client, code, counter), "v2")["uid"] == counter["uid"]
    expect_error(client.post("/v2/member/code"), "v2", 60010, 9908, 401)


def test_fifty_parallel_verifies_one_success(server: LiveServer, client: Client, me: dict[str, Any],
                                             counter: dict[str, Any]) -> None:
    code = issue(client, me)["code"]
    answers = fire(server.url, [("/v2/member/verify", {"code": code, "token": counter["jwt"]})] * 50)
    bodies = [r.json() for r in answers]
    assert sum(b["code"] == 200 for b in bodies) == 1, bodies
    assert sorted({b["code"] for b in bodies}) == [200, 50022]


def test_audit_log_records_issue_and_verify(server: LiveServer, client: Client, me: dict[str, Any],
                                            counter: dict[str, Any]) -> None:
    before = server.query("SELECT MAX(id) FROM audit_log")[0][0]
    expect_ok(verify(client, issue(client, me)["code"], counter), "v2")
    rows = server.query("SELECT event, outcome, uid FROM audit_log WHERE id > ? AND event = 'member' ORDER BY id",
                        before)
    assert rows == [("member", "issued", me["uid"]), ("member", "verified", me["uid"])]


@pytest.fixture(scope="module")
def short(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcessServer]:
    """Codes live one second, in-process on a clock the test moves."""
    app = InProcessServer(tmp_path_factory.mktemp("member-short"), clock=ManualClock(), MEMBER_CODE_TTL=1, **FAST)
    yield app
    app.stop()


def test_a_code_expires(short: InProcessServer) -> None:
    client = Client(short.url)
    me, counter = app_user(short, client), app_user(short, client, admin=True)
    code = issue(client, me)
    assert code["expires_in"] == 1
    short.pass_time(1.1, in_cache=True)  # the code's TTL is the cache's
    refused(verify(client, code["code"], counter), MEMBER_CODE_INVALID)
