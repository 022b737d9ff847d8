"""Races of the account lifecycle across two workers (SPEC §11).

- a password change racing refreshes of another session: that session's tokens are all dead
  afterwards, every time, including any token the racing refresh issued;
- 20 rotations of one refresh token at once: one new pair, every caller gets it (or a clear
  refusal), and the session survives;
- an account deleted while its other session is mid-request: that session fails afterwards.
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.api.lifecycle import FAST, code_for, jwt_login, new_phone, password_user, sms_login
from tests.conftest import serving
from tests.support import Client, LiveServer, expect_ok, fire

ROUNDS = 50


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with serving(tmp_path_factory, "races", live=True, workers=2, **FAST) as live:
        yield live


def dead(client: Client, access: list[str], refresh: list[str]) -> bool:
    """Whether every one of these tokens is refused."""
    return (all(client.post("/v2/test", token=t).status_code == 401 for t in access)
            and all(client.post("/login/jwt/refresh", {"jwt": t}).status_code == 401 for t in refresh))


def issued(responses: list[Any]) -> tuple[list[str], list[str]]:
    """The access and refresh tokens that successful refreshes handed out."""
    access, refresh = [], []
    for response in responses:
        body = response.json()
        if response.status_code == 200 and body["code"] == 200:
            data = body["data"]
            if isinstance(data, str):
                access.append(data)
            elif isinstance(data, dict) and "refresh_jwt" in data:
                access.append(data["jwt"])
                refresh.append(data["refresh_jwt"])
    return access, refresh


def test_password_change_racing_refreshes_leaves_no_live_token_behind(server: LiveServer, client: Client) -> None:
    user = password_user(server, client, "pass_0")
    passwords = ["pass_0", "pass_1"]
    for n in range(ROUNDS):
        old, new = passwords[n % 2], passwords[(n + 1) % 2]
        current = jwt_login(client, user["account"], old)
        other = jwt_login(client, user["account"], old)
        refresh = other["refresh_jwt"]
        answers = fire(server.url, [
            ("/password/change", {"token": current["jwt"], "old_password": old, "password": new,
                                  "password_confirmation": new}),
            ("/login/jwt/refresh", {"jwt": refresh}),
            ("/login/jwt/refresh", {"jwt": refresh, "rotate": "1"}),
        ])
        assert answers[0].status_code == 200, answers[0].text
        access, refreshes = issued(answers[1:])
        assert dead(client, [other["jwt"], *access], [refresh, *refreshes]), f"round {n}"
        assert client.post("/v2/test", token=current["jwt"]).status_code == 200


def test_twenty_rotations_at_once_make_one_pair_and_the_session_survives(server: LiveServer,
                                                                         client: Client) -> None:
    user = password_user(server, client)
    for _ in range(2):
        pair = jwt_login(client, user["account"], user["password"])
        answers = fire(server.url, [("/login/jwt/refresh", {"jwt": pair["refresh_jwt"], "rotate": "1"})] * 20)
        pairs = {(r.json()["data"]["jwt"], r.json()["data"]["refresh_jwt"]) for r in answers if r.status_code == 200}
        refused = [r.json()["code"] for r in answers if r.status_code != 200]
        assert len(pairs) == 1 and set(refused) <= {50030}, (pairs, refused)
        (access, refresh), = pairs
        assert expect_ok(client.post("/v2/test", token=access), "v2")["uid"] == user["uid"]
        assert expect_ok(client.post("/v2/test", token=pair["jwt"]), "v2")["uid"] == user["uid"]
        newer = expect_ok(client.post("/login/jwt/refresh", {"jwt": refresh, "rotate": "1"}), "v2")
        assert expect_ok(client.post("/v2/test", token=newer["jwt"]), "v2")["uid"] == user["uid"]


def test_delete_while_the_other_session_is_mid_request(server: LiveServer, client: Client) -> None:
    for _ in range(10):
        phone = new_phone()
        current = sms_login(client, phone)
        other = sms_login(client, phone)
        code = code_for(client, phone, "login")
        answers = fire(server.url, [
            ("/account/delete", {"token": current["jwt"], "code": code}),
            ("/login/jwt/refresh", {"jwt": other["refresh_jwt"]}),
            ("/login/jwt/refresh", {"jwt": other["refresh_jwt"], "rotate": "1"}),
            ("/session/list", {"token": other["jwt"]}),
        ])
        assert answers[0].status_code == 200, answers[0].text
        access, refreshes = issued(answers[1:3])
        assert dead(client, [other["jwt"], *access], [other["refresh_jwt"], *refreshes])
        # The freed phone registers again, as a new user.
        again = sms_login(client, phone)
        assert again["registered"] is True and again["uid"] != current["uid"]
