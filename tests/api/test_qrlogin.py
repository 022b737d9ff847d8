"""QR-code login (SPEC §12): create → scan → confirm → poll hands the tokens over once; every wrong move refused."""
from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.api.lifecycle import FAST, jwt_login, sessions
from tests.api.qrlogin import (
    QR_TICKET_INVALID,
    QR_TICKET_STATE,
    act,
    app_user,
    create,
    login_by_qr,
    png_size,
    poll,
    refused,
)
from tests.support import Client, LiveServer, expect_error, expect_ok


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    # per_platform: the QR login's web session ends the user's other web sessions (SESSION_POLICY applies).
    live = LiveServer(tmp_path_factory.mktemp("qrlogin"), SESSION_POLICY="per_platform", **FAST)
    yield live
    live.stop()


@pytest.fixture
def me(server: LiveServer, client: Client) -> dict[str, Any]:
    return app_user(server, client)


def test_create_answers_a_ticket_a_secret_and_a_qr_code(client: Client) -> None:
    answer = client.post("/v2/qrlogin/create")
    assert answer.headers["cache-control"] == "no-store"  # it carries the poll secret
    assert poll(client, expect_ok(answer, "v2")).headers["cache-control"] == "no-store"
    ticket = create(client)
    assert set(ticket) == {"ticket", "poll_secret", "content", "qrcode", "expires_in", "interval"}
    assert ticket["content"] == f"loginapi://qrlogin?ticket={ticket['ticket']}"
    assert (ticket["expires_in"], ticket["interval"]) == (120, 2)
    assert len(ticket["ticket"]) >= 32 and len(ticket["poll_secret"]) >= 43
    assert ticket["poll_secret"] not in ticket["content"]
    width, height = png_size(ticket["qrcode"])
    assert width == height and 200 <= width <= 400, (width, height)
    v1 = create(client, "v1", platform="mini")
    assert v1["ticket"] != ticket["ticket"] and v1["poll_secret"] != ticket["poll_secret"]
    expect_error(client.post("/v1/qrlogin/create", {"platform": "tv"}), "v1", 60006, 9906, 400)


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_the_whole_dance_hands_the_tokens_over_once(server: LiveServer, client: Client, me: dict[str, Any],
                                                    version: str) -> None:
    web_before = jwt_login(client, me["account"], me["password"], platform="web")
    ticket = create(client, version)
    pending = expect_ok(poll(client, ticket, version), version)
    assert pending == {"state": "pending", "expires_in": pending["expires_in"]} and 118 <= pending["expires_in"] <= 120
    face = expect_ok(act(client, "scan", ticket, me, version), version)
    assert set(face) == {"platform", "ip", "user_agent", "created_at"}
    assert (face["platform"], face["ip"], face["user_agent"]) == ("web", "127.0.0.1", "python-requests/" +
                                                                  __import__("requests").__version__)
    # the same user scanning again is fine
    assert expect_ok(act(client, "scan", ticket, me, version), version) == face
    scanned = expect_ok(poll(client, ticket, version), version)
    account = me["account"]
    assert scanned == {"state": "scanned", "expires_in": scanned["expires_in"],
                       "account": f"{account[0]}***{account[-1]}"}
    assert 118 <= scanned["expires_in"] <= 120
    expect_ok(act(client, "confirm", ticket, me, version), version)
    handed = expect_ok(poll(client, ticket, version), version)
    assert set(handed) == {"state", "expires_in", "jwt", "refresh_jwt", "uid"}
    assert (handed["state"], handed["uid"]) == ("confirmed", me["uid"])
    assert expect_ok(client.post("/v2/test", token=handed["jwt"]), "v2")["uid"] == me["uid"]
    listed = sessions(client, handed["jwt"])
    assert [(s["platform"], s["current"]) for s in listed] == [("web", True), ("ios", False)]
    # SESSION_POLICY=per_platform: the new web session ended the user's earlier web session
    expect_error(client.post("/v2/test", token=web_before["jwt"]), "v2", 60010, 9908, 401)
    # used up: the tokens are never handed over twice
    refused(poll(client, ticket, version), QR_TICKET_INVALID, version)
    refused(act(client, "scan", ticket, me, version), QR_TICKET_INVALID, version)
    refused(act(client, "confirm", ticket, me, version), QR_TICKET_INVALID, version)


def test_unknown_tickets_and_wrong_secrets_are_invalid(client: Client, me: dict[str, Any]) -> None:
    ticket = create(client)
    unknown = {"ticket": "x" * 32, "poll_secret": ticket["poll_secret"]}
    refused(poll(client, unknown), QR_TICKET_INVALID)
    wrong = ticket["poll_secret"][:-1] + ("B" if ticket["poll_secret"].endswith("A") else "A")
    refused(poll(client, {**ticket, "poll_secret": wrong}, "v1"), QR_TICKET_INVALID, "v1")
    for action in ("scan", "confirm", "cancel"):
        refused(act(client, action, unknown["ticket"], me), QR_TICKET_INVALID)
    # malformed is a parameter error
    expect_error(client.post("/v1/qrlogin/poll", {"ticket": "no spaces", "poll_secret": "s"}), "v1", 60006, 9906, 400)
    expect_error(client.post("/v2/qrlogin/poll", {"ticket": ticket["ticket"]}), "v2", 60006, 9906, 400)
    # the wrong secret moved nothing: the right one still sees the ticket pending
    assert expect_ok(poll(client, ticket), "v2")["state"] == "pending"


def test_moves_the_state_does_not_allow(server: LiveServer, client: Client, me: dict[str, Any]) -> None:
    other = app_user(server, client)
    ticket = create(client)
    refused(act(client, "confirm", ticket, me), QR_TICKET_STATE)  # confirm before scan
    refused(act(client, "cancel", ticket, me, "v1"), QR_TICKET_STATE)  # nobody scanned it
    expect_ok(act(client, "scan", ticket, me), "v2")
    refused(act(client, "scan", ticket, other), QR_TICKET_STATE)  # a second user
    refused(act(client, "confirm", ticket, other), QR_TICKET_STATE)
    refused(act(client, "cancel", ticket, other), QR_TICKET_STATE)
    expect_ok(act(client, "confirm", ticket, me), "v2")
    refused(act(client, "scan", ticket, me, "v1"), QR_TICKET_STATE)  # scan after confirm
    refused(act(client, "confirm", ticket, me), QR_TICKET_STATE)  # confirmed already
    refused(act(client, "cancel", ticket, me), QR_TICKET_STATE)
    assert expect_ok(poll(client, ticket), "v2")["uid"] == me["uid"]  # the first confirm stands


def test_cancel_tells_the_page_and_opens_no_session(client: Client, me: dict[str, Any]) -> None:
    ticket = create(client)
    expect_ok(act(client, "scan", ticket, me), "v2")
    expect_ok(act(client, "cancel", ticket, me, "v1"), "v1")
    expect_ok(act(client, "cancel", ticket, me), "v2")  # twice is harmless
    refused(act(client, "confirm", ticket, me), QR_TICKET_STATE)
    answer = expect_ok(poll(client, ticket), "v2")
    assert (set(answer), answer["state"]) == ({"state", "expires_in"}, "cancelled")
    assert [s["platform"] for s in sessions(client, me["jwt"])] == ["ios"]


@pytest.mark.parametrize("wait", [26, -1, "x", 2.5])
def test_wait_out_of_range_is_a_parameter_error(client: Client, wait: Any) -> None:
    ticket = create(client)
    expect_error(poll(client, ticket, "v1", wait=wait), "v1", 60006, 9906, 400)
    expect_error(poll(client, ticket, "v2", wait=wait), "v2", 60006, 9906, 400)


def test_a_long_poll_answers_as_soon_as_the_state_changes(client: Client, me: dict[str, Any]) -> None:
    ticket = create(client)
    answers: list[tuple[float, Any]] = []

    def wait_for_scan() -> None:
        started = time.monotonic()
        response = poll(Client(client.base_url), ticket, wait=20)
        answers.append((time.monotonic() - started, response))

    waiter = threading.Thread(target=wait_for_scan)
    waiter.start()
    time.sleep(0.3)
    expect_ok(act(client, "scan", ticket, me), "v2")
    waiter.join(25)
    (took, response), = answers
    assert expect_ok(response, "v2")["state"] == "scanned"
    assert took < 5, took  # not the whole 20 s


def test_a_long_poll_runs_out_with_the_state_unchanged(client: Client) -> None:
    ticket = create(client)
    started = time.monotonic()
    assert expect_ok(poll(client, ticket, wait=1), "v2")["state"] == "pending"
    assert 0.9 <= time.monotonic() - started < 3
    started = time.monotonic()
    assert expect_ok(poll(client, ticket, wait=0), "v2")["state"] == "pending"
    assert time.monotonic() - started < 0.9


def test_audit_log_records_each_step(server: LiveServer, client: Client, me: dict[str, Any]) -> None:
    before = server.query("SELECT MAX(id) FROM audit_log")[0][0]
    login_by_qr(client, me)
    cancelled = create(client)
    expect_ok(act(client, "scan", cancelled, me), "v2")
    expect_ok(act(client, "cancel", cancelled, me), "v2")
    rows = server.query("SELECT event, outcome, uid FROM audit_log WHERE id > ? AND event = 'qrlogin' ORDER BY id",
                        before)
    assert rows == [("qrlogin", "created", None), ("qrlogin", "scanned", me["uid"]),
                    ("qrlogin", "confirmed", me["uid"]), ("qrlogin", "created", None),
                    ("qrlogin", "scanned", me["uid"]), ("qrlogin", "cancelled", me["uid"])]


@pytest.fixture(scope="module")
def short(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """Tickets live one second, so expiry is seen without long sleeps."""
    live = LiveServer(tmp_path_factory.mktemp("qrlogin-short"), QR_LOGIN_TTL=1, QR_LOGIN_URL="https://example.test/qr?x=1",
                      **FAST)
    yield live
    live.stop()


def test_a_ticket_expires_after_its_ttl(short: LiveServer) -> None:
    client = Client(short.url)
    me = app_user(short, client)
    ticket = create(client)
    assert ticket["content"] == f"https://example.test/qr?x=1&ticket={ticket['ticket']}"
    started = time.monotonic()
    # a long poll ends with the ticket's life, not with its own wait
    assert expect_ok(poll(client, ticket, wait=10), "v2") == {"state": "expired", "expires_in": 0}
    assert time.monotonic() - started < 3
    refused(act(client, "scan", ticket, me), QR_TICKET_INVALID)
    scanned = create(client)
    expect_ok(act(client, "scan", scanned, me), "v2")
    assert expect_ok(poll(client, scanned, wait=10), "v2")["state"] == "expired"
    refused(act(client, "confirm", scanned, me), QR_TICKET_INVALID)
