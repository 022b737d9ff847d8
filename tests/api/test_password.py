"""password/change, password/reset and phone/change (SPEC §11)."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.api.lifecycle import (
    FAST,
    LOGIN_FAILED,
    OLD_PASSWORD_WRONG,
    PHONE_TAKEN,
    SMS_CODE_WRONG,
    TOKEN_INVALID,
    code_for,
    jwt_login,
    new_phone,
    password_user,
    sessions,
    sms_login,
)
from tests.conftest import Server, serving
from tests.support import Client, expect_error, expect_ok


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    # The lock comes before the captcha here, so the lockout can be seen without solving captchas.
    with serving(tmp_path_factory, "password", LOGIN_CAPTCHA_AFTER=100, LOGIN_LOCK_AFTER=3, **FAST) as live:
        yield live


@pytest.fixture
def me(server: Server, client: Client) -> dict[str, Any]:
    return password_user(server, client)


def change(client: Client, token: str, new: str, old: str | None = None, version: str = "v2"):
    params = {"password": new, "password_confirmation": new}
    if old is not None:
        params["old_password"] = old
    return client.post(f"/{version}/password/change", params, token=token)


def test_change_ends_the_other_sessions_and_keeps_the_current(me: dict[str, Any], client: Client) -> None:
    current = jwt_login(client, me["account"], me["password"])
    other = jwt_login(client, me["account"], me["password"])
    assert expect_ok(change(client, current["jwt"], "new_pass_1", me["password"]), "v2") == []
    for token in (other["jwt"],):
        expect_error(client.post("/v2/test", token=token), "v2", *TOKEN_INVALID)
    expect_error(client.post("/login/jwt/refresh", {"jwt": other["refresh_jwt"]}), "v2", *TOKEN_INVALID)
    assert expect_ok(client.post("/v2/test", token=current["jwt"]), "v2")["uid"] == me["uid"]
    assert [s["current"] for s in sessions(client, current["jwt"])] == [True]
    expect_error(client.post("/login/jwt/get", {"account": me["account"], "pwd": me["password"]}), "v2",
                 *LOGIN_FAILED)
    jwt_login(client, me["account"], "new_pass_1")


def test_a_wrong_old_password_changes_nothing(me: dict[str, Any], client: Client) -> None:
    current = jwt_login(client, me["account"], me["password"])
    other = jwt_login(client, me["account"], me["password"])
    for version in ("v1", "v2"):
        message = expect_error(change(client, current["jwt"], "new_pass_1", "wrong_pass", version), version,
                               *OLD_PASSWORD_WRONG)
        assert message in ("当前密码错误", "The current password is wrong")
    expect_ok(client.post("/v2/test", token=other["jwt"]), "v2")
    jwt_login(client, me["account"], me["password"])
    # Leaving old_password out is not a way round it.
    expect_error(change(client, current["jwt"], "new_pass_1"), "v2", 60001, 9906, 400)
    expect_error(change(client, current["jwt"], "new_pass_1", version="v1"), "v1", 60001, 9906, 400)


def test_wrong_old_passwords_count_toward_the_lockout(me: dict[str, Any], client: Client) -> None:
    current = jwt_login(client, me["account"], me["password"])
    for _ in range(3):  # LOGIN_LOCK_AFTER
        expect_error(change(client, current["jwt"], "new_pass_1", "wrong_pass"), "v2", *OLD_PASSWORD_WRONG)
    # Locked: the right old password is refused like a wrong one, and so is a login.
    expect_error(change(client, current["jwt"], "new_pass_1", me["password"]), "v2", *OLD_PASSWORD_WRONG)
    expect_error(client.post("/login/jwt/get", {"account": me["account"], "pwd": me["password"]}), "v2",
                 *LOGIN_FAILED)
    # A reset by SMS proves who the user is: the lock is cleared.
    reset(client, me["phone"], "reset_pass_1")
    jwt_login(client, me["account"], "reset_pass_1")


def reset(client: Client, phone: str, password: str, version: str = "v2") -> Any:
    code = code_for(client, phone, "reset")
    return expect_ok(client.post(f"/{version}/password/reset", {"phone": phone, "code": code, "password": password,
                                                               "password_confirmation": password}), version)


def test_a_user_without_a_password_sets_one(client: Client) -> None:
    phone = new_phone()
    pair = sms_login(client, phone)
    assert expect_ok(change(client, pair["jwt"], "first_pass", version="v1"), "v1") == {}
    assert jwt_login(client, phone, "first_pass")
    # Now it has one, the old password is needed.
    expect_error(change(client, pair["jwt"], "second_pass"), "v2", 60001, 9906, 400)


def test_reset_ends_every_session(me: dict[str, Any], client: Client) -> None:
    pairs = [jwt_login(client, me["account"], me["password"]) for _ in range(2)]
    assert reset(client, me["phone"], "reset_pass_2", "v1") == {}
    for pair in pairs:
        expect_error(client.post("/v2/test", token=pair["jwt"]), "v2", *TOKEN_INVALID)
        expect_error(client.post("/login/jwt/refresh", {"jwt": pair["refresh_jwt"]}), "v2", *TOKEN_INVALID)
    jwt_login(client, me["phone"], "reset_pass_2")


def test_reset_with_a_code_of_another_scene_changes_nothing(me: dict[str, Any], client: Client) -> None:
    pair = jwt_login(client, me["account"], me["password"])
    code = code_for(client, me["phone"], "login")
    expect_error(client.post("/password/reset", {"phone": me["phone"], "code": code, "password": "reset_pass_3",
                                                 "password_confirmation": "reset_pass_3"}), "v2", *SMS_CODE_WRONG)
    expect_ok(client.post("/v2/test", token=pair["jwt"]), "v2")
    jwt_login(client, me["account"], me["password"])


def test_change_phone(server: Server, me: dict[str, Any], client: Client) -> None:
    pair = jwt_login(client, me["account"], me["password"])
    phone = new_phone()
    code = code_for(client, phone, "change_phone", token=pair["jwt"])
    data = expect_ok(client.post("/v1/phone/change", {"phone": phone, "code": code, "password": me["password"]},
                                 token=pair["jwt"]), "v1")
    assert data == {"uid": me["uid"], "account": me["account"], "phone": phone, "rid": []}
    assert expect_ok(client.post("/v2/test", token=pair["jwt"]), "v2")["phone"] == phone
    jwt_login(client, phone, me["password"])
    # The old phone is free: it signs up anew.
    assert sms_login(client, me["phone"])["registered"] is True


def test_change_to_a_taken_phone_changes_nothing(server: Server, me: dict[str, Any], client: Client) -> None:
    other = password_user(server, client)
    pair = jwt_login(client, me["account"], me["password"])
    code = code_for(client, other["phone"], "change_phone", token=pair["jwt"])
    params = {"phone": other["phone"], "code": code, "password": me["password"]}
    expect_error(client.post("/phone/change", params, token=pair["jwt"]), "v2", *PHONE_TAKEN)
    # Nothing changed, and the right code stays usable: the same answer again.
    expect_error(client.post("/phone/change", params, token=pair["jwt"]), "v2", *PHONE_TAKEN)
    assert expect_ok(client.post("/v2/test", token=pair["jwt"]), "v2")["phone"] == me["phone"]


def test_change_phone_needs_the_password_and_the_right_code(me: dict[str, Any], client: Client) -> None:
    pair = jwt_login(client, me["account"], me["password"])
    phone = new_phone()
    code = code_for(client, phone, "change_phone", token=pair["jwt"])
    expect_error(client.post("/phone/change", {"phone": phone, "code": code, "password": "wrong_pass"},
                             token=pair["jwt"]), "v2", *OLD_PASSWORD_WRONG)
    expect_error(client.post("/phone/change", {"phone": phone, "code": code}, token=pair["jwt"]),
                 "v2", 60001, 9906, 400)
    login_code = code_for(client, phone, "login")  # a code of another scene
    expect_error(client.post("/phone/change", {"phone": phone, "code": login_code, "password": me["password"]},
                             token=pair["jwt"]), "v2", *SMS_CODE_WRONG)
    assert expect_ok(client.post("/v2/test", token=pair["jwt"]), "v2")["phone"] == me["phone"]
