"""Sessions with a face (SPEC §11): platform, device, address, User-Agent, last seen; list, end, policy."""
from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import jwt as pyjwt
import pytest

from tests.api.lifecycle import FAST, NOT_FOUND, jwt_login, password_user, sessions
from tests.support import Client, LiveServer, expect_error, expect_ok


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    live = LiveServer(tmp_path_factory.mktemp("sessions"), **FAST)
    yield live
    live.stop()


@pytest.fixture
def me(server: LiveServer, client: Client) -> dict[str, Any]:
    return password_user(server, client)


def test_a_session_records_its_face_and_lists_newest_first(me: dict[str, Any], client: Client) -> None:
    first = jwt_login(client, me["account"], me["password"], platform="ios", device="iPhone 15")
    second = client.post("/v1/login", {"username": me["phone"], "password": me["password"], "platform": "web"},
                         headers={"User-Agent": "Firefox/130"})
    token = expect_ok(second, "v1")["token"]
    listed = sessions(client, token, "v1")
    assert [s["platform"] for s in listed] == ["web", "ios"]
    assert [s["current"] for s in listed] == [True, False]
    web, ios = listed
    assert set(web) == {"sid", "current", "platform", "device", "ip", "user_agent", "created_at", "last_seen_at"}
    assert (ios["device"], ios["ip"]) == ("iPhone 15", "127.0.0.1")
    assert (web["device"], web["user_agent"]) == (None, "Firefox/130")
    assert len(web["sid"]) == 32 and web["created_at"] <= web["last_seen_at"]
    # The same list in v2, seen from the other session.
    assert [s["current"] for s in sessions(client, first["jwt"])] == [False, True]


def test_platform_is_checked_and_defaults_to_other(me: dict[str, Any], client: Client) -> None:
    refused = client.post("/login/jwt/get", {"account": me["account"], "pwd": me["password"], "platform": "tv"})
    expect_error(refused, "v2", 60006, 9906, 400)
    long_device = client.post("/login/jwt/get", {"account": me["account"], "pwd": me["password"], "device": "x" * 65})
    expect_error(long_device, "v2", 60006, 9906, 400)
    pair = jwt_login(client, me["account"], me["password"])
    assert [s["platform"] for s in sessions(client, pair["jwt"])] == ["other"]


def test_end_one_session_by_sid(me: dict[str, Any], client: Client) -> None:
    a = jwt_login(client, me["account"], me["password"])
    b = jwt_login(client, me["account"], me["password"])
    sid_a = next(s["sid"] for s in sessions(client, b["jwt"]) if not s["current"])
    assert expect_ok(client.post("/session/end", {"sid": sid_a}, token=b["jwt"]), "v2") == {"ended": 1}
    expect_error(client.post("/v2/test", token=a["jwt"]), "v2", 60010, 9908, 401)
    expect_error(client.post("/login/jwt/refresh", {"jwt": a["refresh_jwt"]}), "v2", 60010, 9908, 401)
    assert len(sessions(client, b["jwt"])) == 1
    # Ended already: it is no longer one of the user's sessions.
    expect_error(client.post("/v1/session/end", {"sid": sid_a}, token=b["jwt"]), "v1", *NOT_FOUND)


def test_another_users_or_an_unknown_sid_is_not_found_and_nothing_ends(server: LiveServer, me: dict[str, Any],
                                                                       client: Client) -> None:
    other = password_user(server, client)
    theirs = jwt_login(client, other["account"], other["password"])
    their_sid = sessions(client, theirs["jwt"])[0]["sid"]
    mine = jwt_login(client, me["account"], me["password"])
    for sid in (their_sid, "0" * 32):
        expect_error(client.post("/session/end", {"sid": sid}, token=mine["jwt"]), "v2", *NOT_FOUND)
    assert expect_ok(client.post("/v2/test", token=theirs["jwt"]), "v2")["uid"] == other["uid"]
    assert len(sessions(client, theirs["jwt"])) == 1


@pytest.mark.parametrize("params", [{}, {"sid": "0" * 32, "scope": "all"}, {"scope": "mine"}, {"sid": "xyz"}])
def test_end_needs_exactly_one_of_sid_and_scope(me: dict[str, Any], client: Client, params: dict) -> None:
    pair = jwt_login(client, me["account"], me["password"])
    expect_error(client.post("/session/end", params, token=pair["jwt"]), "v2", 60006, 9906, 400)
    assert len(sessions(client, pair["jwt"])) == 1


def test_end_others_keeps_the_current_and_all_ends_everything(me: dict[str, Any], client: Client) -> None:
    pairs = [jwt_login(client, me["account"], me["password"]) for _ in range(3)]
    current = pairs[-1]["jwt"]
    assert expect_ok(client.post("/session/end", {"scope": "others"}, token=current), "v2") == {"ended": 2}
    for pair in pairs[:-1]:
        expect_error(client.post("/v2/test", token=pair["jwt"]), "v2", 60010, 9908, 401)
    assert [s["current"] for s in sessions(client, current)] == [True]
    assert expect_ok(client.post("/v1/session/end", {"scope": "all"}, token=current), "v1") == {"ended": 1}
    expect_error(client.post("/v2/test", token=current), "v2", 60010, 9908, 401)


def test_last_seen_moves_but_is_not_written_on_every_request(server: LiveServer, me: dict[str, Any],
                                                             client: Client) -> None:
    pair = jwt_login(client, me["account"], me["password"])
    sid = pyjwt.decode(pair["jwt"], options={"verify_signature": False})["sid"]  # no request behind checkLogin yet
    seen = lambda: server.query("SELECT last_seen_at FROM auth_session WHERE id = ?", sid)[0][0]  # noqa: E731
    server.query("UPDATE auth_session SET last_seen_at = 500 WHERE id = ?", sid)
    # A use moves it (written off the request's path, so it lands a moment later)...
    other = LiveServerSessionProbe(client, pair["jwt"])
    other.use()
    deadline = time.monotonic() + 10
    while seen() == 500 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert abs(seen() - time.time()) < 15
    # ...and within the minute no request writes it again.
    server.query("UPDATE auth_session SET last_seen_at = 1000 WHERE id = ?", sid)
    for _ in range(10):
        other.use()
    time.sleep(0.3)  # room for a write that a wrong implementation would have fired
    assert seen() == 1000


class LiveServerSessionProbe:
    """Requests behind checkLogin with one token."""

    def __init__(self, client: Client, token: str):
        self.client, self.token = client, token

    def use(self) -> None:
        expect_ok(self.client.post("/v2/test", token=self.token), "v2")


@pytest.mark.parametrize("policy", ["single", "per_platform"])
def test_session_policy_applies_to_every_login_endpoint(tmp_path_factory: pytest.TempPathFactory,
                                                        policy: str) -> None:
    live = LiveServer(tmp_path_factory.mktemp(policy), SESSION_POLICY=policy, **FAST)
    c = Client(live.url)
    try:
        user = password_user(live, c)
        ios = jwt_login(c, user["account"], user["password"], platform="ios")
        web = expect_ok(c.post("/login", {"username": user["account"], "password": user["password"],
                                          "platform": "web"}), "v2")["token"]
        ios_alive = c.post("/v2/test", token=ios["jwt"]).status_code == 200
        assert ios_alive == (policy == "per_platform")
        code = expect_ok(c.post("/login/send/sms", {"phone": user["phone"], "scene": "login"}), "v2")["code"]
        sms = expect_ok(c.post("/login/sms", {"phone": user["phone"], "code": code, "platform": "ios"}), "v2")
        # A new ios login ends the other ios session under either policy; web survives only per platform.
        expect_error(c.post("/v2/test", token=ios["jwt"]), "v2", 60010, 9908, 401)
        assert (c.post("/v2/test", token=web).status_code == 200) == (policy == "per_platform")
        assert [s["platform"] for s in sessions(c, sms["jwt"])] == (["ios", "web"] if policy == "per_platform"
                                                                   else ["ios"])
        details = [row[0] for row in live.query("SELECT detail FROM audit_log WHERE event = 'session' "
                                                "AND outcome = 'ended' AND uid = ?", user["uid"])]
        assert details and all(d.startswith(f"SESSION_POLICY={policy}:") for d in details)
    finally:
        c.http.close()
        live.stop()
