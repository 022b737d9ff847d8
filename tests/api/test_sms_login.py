"""SMS scenes and login/sms (SPEC §11): a code is good only for its phone and scene."""
from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from tests.api.lifecycle import FAST, SMS_CODE_WRONG, STILL_VALID, code_for, new_phone, password_user, sms_login
from tests.conftest import Server, serving
from tests.support import Client, LiveServer, expect_error, expect_ok, fire, phone_index


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    # live: the concurrent sign-ups need requests truly in flight together (and the servers of other
    # settings below could not run beside an in-process app, so the module stays on live servers)
    with serving(tmp_path_factory, "smslogin", live=True, SMS_VERIFY_ATTEMPTS=3, **FAST) as live:
        yield live


def test_an_unknown_phone_signs_up_then_logs_in(server: Server, client: Client) -> None:
    phone = new_phone()
    first = sms_login(client, phone, platform="android")
    assert first["registered"] is True and set(first) == {"jwt", "refresh_jwt", "uid", "registered"}
    me = expect_ok(client.post("/v2/test", token=first["jwt"]), "v2")
    assert me["uid"] == first["uid"] and me["phone"] == phone
    # A generated, unique account name that is not phone-shaped, and no password.
    assert re.fullmatch(r"u_[0-9a-f]{12}", me["account"])
    assert server.query("SELECT password_hash FROM users WHERE id = ?", first["uid"]) == [("",)]
    again = sms_login(client, phone, "v1")
    assert (again["uid"], again["registered"]) == (first["uid"], False)
    # Without a password, the account cannot be logged into by password.
    expect_error(client.post("/login/jwt/get", {"account": me["account"], "pwd": ""}), "v2", 60001, 9906, 400)
    expect_error(client.post("/login", {"username": phone, "password": "anything"}), "v2", 60001, 50006, 401)


def test_an_existing_user_logs_in_by_sms(server: Server, client: Client) -> None:
    user = password_user(server, client)
    pair = sms_login(client, user["phone"])
    assert (pair["uid"], pair["registered"]) == (user["uid"], False)


def test_a_code_of_another_scene_is_wrong_and_stays_usable(server: Server, client: Client) -> None:
    phone = new_phone()
    code = code_for(client, phone, "register")
    expect_error(client.post("/login/sms", {"phone": phone, "code": code}), "v2", *SMS_CODE_WRONG)
    assert server.query("SELECT COUNT(*) FROM users WHERE phone = ?", phone_index(phone)) == [(0,)]
    assert server.query("SELECT detail FROM audit_log WHERE event = 'login/sms' AND outcome = 'refused' "
                        "ORDER BY id DESC LIMIT 1") == [("SMS_CODE_WRONG",)]
    # One live code per phone *and scene*: a login code can be sent beside the register code.
    login_code = code_for(client, phone, "login")
    expect_error(client.post("/login/send/sms", {"phone": phone, "scene": "login"}), "v2", *STILL_VALID)
    expect_error(client.post("/v1/login/send/sms", {"phone": phone}), "v1", *STILL_VALID)
    # The register code was untouched by the wrong-scene try and registers the phone.
    expect_ok(client.post("/login/register", {"account": f"r{phone}", "password": "pass_1234",
                                              "password_confirmation": "pass_1234", "phone": phone,
                                              "code": code}), "v2", 201)
    assert sms_login_with(client, phone, login_code)["registered"] is False


def sms_login_with(client: Client, phone: str, code: str) -> dict:
    return expect_ok(client.post("/login/sms", {"phone": phone, "code": code}), "v2")


def test_a_code_is_good_only_for_its_phone(client: Client) -> None:
    phone, other = new_phone(), new_phone()
    code = code_for(client, phone, "login")
    expect_error(client.post("/login/sms", {"phone": other, "code": code}), "v2", *SMS_CODE_WRONG)
    assert sms_login_with(client, phone, code)["registered"] is True


def test_a_used_code_is_spent(client: Client) -> None:
    phone = new_phone()
    code = code_for(client, phone, "login")
    sms_login_with(client, phone, code)
    expect_error(client.post("/v1/login/sms", {"phone": phone, "code": code}), "v1", *SMS_CODE_WRONG)


def test_an_expired_code_is_wrong(server: Server, client: Client) -> None:
    phone = new_phone()
    code = code_for(client, phone, "login")
    server.query("UPDATE sms_code SET expire_at = 1 WHERE phone = ?", phone_index(phone))
    expect_error(client.post("/login/sms", {"phone": phone, "code": code}), "v2", *SMS_CODE_WRONG)
    assert server.query("SELECT COUNT(*) FROM users WHERE phone = ?", phone_index(phone)) == [(0,)]


def test_wrong_tries_burn_the_code(server: Server, client: Client) -> None:
    phone = new_phone()
    code = code_for(client, phone, "login")
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for _ in range(3):  # SMS_VERIFY_ATTEMPTS
        expect_error(client.post("/login/sms", {"phone": phone, "code": wrong}), "v2", *SMS_CODE_WRONG)
    expect_error(client.post("/login/sms", {"phone": phone, "code": code}), "v2", *SMS_CODE_WRONG)
    assert server.query("SELECT COUNT(*) FROM users WHERE phone = ?", phone_index(phone)) == [(0,)]


def test_a_reset_code_for_an_unknown_phone_answers_as_sent_and_sends_nothing(server: Server,
                                                                             client: Client) -> None:
    phone = new_phone()
    for version in ("v2", "v1"):
        response = client.post(f"/{version}/login/send/sms", {"phone": phone, "scene": "reset"})
        if version == "v2":
            assert expect_ok(response, "v2") == []  # debug mode, yet no code: none was made
        else:
            expect_error(response, "v1", *STILL_VALID)  # as if the first had sent one
    assert server.query("SELECT COUNT(*) FROM sms_code WHERE phone = ?", phone_index(phone)) == [(0,)]
    expect_error(client.post("/password/reset", {"phone": phone, "code": "123456", "password": "pass_1234",
                                                 "password_confirmation": "pass_1234"}), "v2", *SMS_CODE_WRONG)
    # A known phone gets a real code.
    user = password_user(server, client)
    assert re.fullmatch(r"\d{6}", code_for(client, user["phone"], "reset"))


def test_change_phone_codes_need_a_login(client: Client) -> None:
    response = client.post("/login/send/sms", {"phone": new_phone(), "scene": "change_phone"})
    expect_error(response, "v2", 60010, 9908, 401)
    expect_error(client.post("/login/send/sms", {"phone": new_phone(), "scene": "admin"}), "v2", 60006, 9906, 400)


def test_concurrent_sign_ups_with_one_code_make_one_account(server: Server, client: Client) -> None:
    phone = new_phone()
    code = code_for(client, phone, "login")
    answers = fire(server.url, [("/login/sms", {"phone": phone, "code": code})] * 8)
    assert sorted(r.status_code for r in answers) == [200] + [400] * 7
    assert server.query("SELECT COUNT(*) FROM users WHERE phone = ?", phone_index(phone)) == [(1,)]


def test_without_sms_login_register_an_unknown_phone_is_a_wrong_code(tmp_path_factory) -> None:
    live = LiveServer(tmp_path_factory.mktemp("noreg"), SMS_LOGIN_REGISTER=0, **FAST)
    c = Client(live.url)
    try:
        phone = new_phone()
        # Sent as far as the client can tell, but nothing is sent and nobody is signed up.
        assert expect_ok(c.post("/login/send/sms", {"phone": phone, "scene": "login"}), "v2") == []
        expect_error(c.post("/login/sms", {"phone": phone, "code": "123456"}), "v2", *SMS_CODE_WRONG)
        assert live.query("SELECT COUNT(*) FROM users") == [(0,)]
        user = password_user(live, c)
        assert sms_login(c, user["phone"])["uid"] == user["uid"]
    finally:
        c.http.close()
        live.stop()


def test_wrong_codes_on_every_code_endpoint_count_toward_the_address_limit(tmp_path_factory) -> None:
    live = LiveServer(tmp_path_factory.mktemp("verifylimit"), **{**FAST, "SMS_VERIFY_IP_LIMIT": 2})
    c = Client(live.url)
    try:
        phone = new_phone()
        code_for(c, phone, "login")
        expect_error(c.post("/login/sms", {"phone": phone, "code": "000000"}), "v2", *SMS_CODE_WRONG)
        expect_error(c.post("/password/reset", {"phone": phone, "code": "000000", "password": "pass_1234",
                                                "password_confirmation": "pass_1234"}), "v2", *SMS_CODE_WRONG)
        # The address has had its wrong codes: refused before any code is compared, with Retry-After.
        refused = c.post("/v1/login/sms", {"phone": phone, "code": "000000"})
        expect_error(refused, "v1", 60032, 50009, 429)
        assert int(refused.headers["Retry-After"]) > 0
    finally:
        c.http.close()
        live.stop()


def test_right_codes_do_not_count_toward_the_address_limit(tmp_path_factory: pytest.TempPathFactory) -> None:
    """The slot a right code took is given back: three SMS logins from one address under a limit of two
    wrong codes, then still two wrong codes before the limit answers."""
    with serving(tmp_path_factory, "verifyright", **{**FAST, "SMS_VERIFY_IP_LIMIT": 2}) as app:
        c = Client(app.url)
        for _ in range(3):
            assert sms_login(c, new_phone())["registered"] is True
        phone = new_phone()
        code_for(c, phone, "login")
        for _ in range(2):
            expect_error(c.post("/login/sms", {"phone": phone, "code": "000000"}), "v2", *SMS_CODE_WRONG)
        expect_error(c.post("/login/sms", {"phone": phone, "code": "000000"}), "v2", 60032, 50009, 429)
