"""Live-server tests of `login/register` (Hyperf doc: 用户注册), SPEC §6.

Every request is signed; the paths are the document's unversioned ones (served as v2) unless a
test is about a version. The server runs in debug mode, so `send/sms` answers the code.
"""
from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from app.common.error import answer
from tests.api import codes
from tests.conftest import Server, serving
from tests.support import Client, assert_live, expect_error, expect_ok, phone_index, sms_code

DOC_PHONE = "13939265073"
INVALID_PREFIX = "数据验证失败，原因如下："
# Per-address limits (SMS sends, wrong SMS codes, failed logins) are not what this module tests.
SERVER_SETTINGS = {"SMS_IP_LIMIT": 100000, "SMS_VERIFY_IP_LIMIT": 100000, "LOGIN_IP_LIMIT": 100000}
_phones = (f"1370000{n:04d}" for n in itertools.count(1))


def new_phone() -> str:
    return next(_phones)


def other_code(code: str) -> str:
    """A 6-digit code that is not `code`."""
    return f"{(int(code) + 1) % 10**6:06d}"


def body(account: str, phone: str, code: str | None, password: str = "1234567", **extra: Any) -> dict[str, Any]:
    params: dict[str, Any] = {"account": account, "password": password, "password_confirmation": password,
                              "phone": phone, **extra}
    if code is not None:
        params["code"] = code
    return params


def expect_catalog(response, code: tuple[int, int, int], version: str = "v2") -> str:
    """The error `code` (tests/api/codes.py) in `version`'s envelope; returns the message."""
    return expect_error(response, version, *code)


def users_named(server: Server, account: str) -> int:
    return server.query("SELECT COUNT(*) FROM users WHERE lower(account) = lower(?)", account)[0][0]


def login(client: Client, account: str, pwd: str):
    return client.post("/login/jwt/get", {"account": account, "pwd": pwd})


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    # live: the concurrency tests need requests truly in flight together (and a second in-process app
    # could not run beside this one for `tight`, so the module stays on live servers)
    with serving(tmp_path_factory, "register", live=True, APP_DEBUG=1, **SERVER_SETTINGS) as live:
        yield live


@pytest.fixture(scope="module")
def foo(server: Server) -> dict[str, Any]:
    """The document's request example, with the code that send/sms gave: registers Foo."""
    c = Client(server.url)
    try:
        code = sms_code(c, DOC_PHONE)
        response = c.post("/login/register", {
            "account": "Foo", "password": "1234567", "password_confirmation": "1234567",
            "phone": DOC_PHONE, "code": code})
        return {"response": response, "code": code, "status": response.status_code, "json": response.json(),
                "content_type": response.headers.get("content-type", "")}
    finally:
        c.http.close()


# -- the document's examples ------------------------------------------------------------------


def test_document_example_registers_with_201(foo: dict[str, Any], client: Client) -> None:
    assert foo["status"] == 201
    assert foo["content_type"].split(";")[0] == "application/json"
    # The document's success example, with status true (its `false` is a typo, SPEC §2).
    assert foo["json"] == {"code": 200, "msg": "ok", "status": True, "data": []}
    # The new user can log in with the document's account and password.
    data = expect_ok(login(client, "Foo", "1234567"), "v2")
    assert set(data) == {"jwt", "refresh_jwt"}


def test_missing_code_is_the_documents_9906(client: Client) -> None:
    phone = new_phone()
    sms_code(client, phone)
    response = client.post("/login/register", body("NoCode", phone, None))
    assert response.status_code == 400
    assert response.json() == {"code": 9906, "msg": "数据验证失败，原因如下：手机验证码必填",
                               "status": False, "data": []}


@pytest.mark.parametrize("how", [{"headers": {"Accept-Language": "en"}},
                                 {"headers": {"Accept-Language": "en-US,en;q=0.9"}},
                                 {"lang": "en"}])
def test_missing_code_in_english(client: Client, how: dict[str, Any]) -> None:
    params = body("NoCodeEn", new_phone(), None)
    if "lang" in how:
        params["lang"] = how["lang"]
    response = client.post("/login/register", params, headers=how.get("headers"))
    message = expect_error(response, "v2", 60002, 9906, 400)
    assert not re.search(r"[\u4e00-\u9fff]", message), message
    assert "code" in message.lower() and "required" in message.lower(), message


def test_missing_code_in_v1_is_the_code_fields_error(client: Client) -> None:
    # SPEC §3: v1 answers a validation failure with the field's code; `code` is 60002.
    response = client.post("/v1/login/register", body("NoCodeV1", new_phone(), None))
    assert expect_error(response, "v1", 60002, 9906, 400) == "手机验证码必填"


# -- the SMS code ------------------------------------------------------------------------------


def test_wrong_code_is_refused_and_makes_no_user(server: Server, client: Client) -> None:
    phone = new_phone()
    code = sms_code(client, phone)
    expect_catalog(client.post("/login/register", body("WrongCode", phone, other_code(code))), codes.SMS_CODE_WRONG)
    assert users_named(server, "WrongCode") == 0
    # v1 speaks the same error with its own code.
    expect_catalog(client.post("/v1/login/register", body("WrongCode", phone, other_code(code))),
                   codes.SMS_CODE_WRONG, "v1")


def test_code_of_another_phone_is_refused(client: Client) -> None:
    phone_a, phone_b = new_phone(), new_phone()
    code_a = sms_code(client, phone_a)
    sms_code(client, phone_b)
    expect_catalog(client.post("/login/register", body("OtherPhone", phone_b, code_a)), codes.SMS_CODE_WRONG)


def test_code_without_any_sent_is_refused(client: Client) -> None:
    expect_catalog(client.post("/login/register", body("NeverSent", new_phone(), "123456")), codes.SMS_CODE_WRONG)


def test_four_wrong_tries_leave_the_code_usable(client: Client) -> None:
    phone = new_phone()
    code = sms_code(client, phone)
    for _ in range(4):
        expect_catalog(client.post("/login/register", body("FourTries", phone, other_code(code))), codes.SMS_CODE_WRONG)
    assert client.post("/login/register", body("FourTries", phone, code)).status_code == 201


def test_five_wrong_tries_burn_the_code(server: Server, client: Client) -> None:
    phone = new_phone()
    code = sms_code(client, phone)
    for _ in range(5):
        expect_catalog(client.post("/login/register", body("Burned", phone, other_code(code))), codes.SMS_CODE_WRONG)
    # The right code no longer works...
    expect_catalog(client.post("/login/register", body("Burned", phone, code)), codes.SMS_CODE_WRONG)
    assert users_named(server, "Burned") == 0
    # ...and, the code being dead, a new one may be sent at once and registers.
    fresh = sms_code(client, phone)
    assert client.post("/login/register", body("Burned", phone, fresh)).status_code == 201


def test_code_is_used_up_on_success(foo: dict[str, Any], client: Client) -> None:
    assert foo["status"] == 201
    # The same phone and code again (another account): refused, no second user.
    response = client.post("/login/register", body("FooAgain", DOC_PHONE, foo["code"]))
    assert response.status_code == 400, response.text
    assert response.json()["code"] in (codes.PHONE_TAKEN[1], codes.SMS_CODE_WRONG[1]), response.text
    # The code is no longer live: send/sms is not refused with 50017.
    assert client.post("/login/send/sms", {"phone": DOC_PHONE}).status_code == 200


# -- uniqueness --------------------------------------------------------------------------------


@pytest.mark.parametrize("account", ["Foo", "foo", "FOO", "fOO",
                                     "Ｆｏｏ", "ｆｏｏ", "Fｏo"])  # full-width: NFKC makes them `foo` (SPEC §10)
def test_account_taken_in_any_case(foo: dict[str, Any], server: Server, client: Client, account: str) -> None:
    assert foo["status"] == 201
    phone = new_phone()
    code = sms_code(client, phone)
    expect_catalog(client.post("/login/register", body(account, phone, code)), codes.ACCOUNT_TAKEN)
    assert users_named(server, "foo") == 1


def test_phone_taken(foo: dict[str, Any], server: Server, client: Client) -> None:
    assert foo["status"] == 201
    # A code another test of this module sent to the phone may still be live: retire it, send a known one.
    server.query("UPDATE sms_code SET used_at = 1 WHERE phone = ? AND used_at IS NULL", phone_index(DOC_PHONE))
    code = sms_code(client, DOC_PHONE)
    expect_catalog(client.post("/login/register", body("Bar", DOC_PHONE, code)), codes.PHONE_TAKEN)
    assert users_named(server, "Bar") == 0
    assert server.query("SELECT COUNT(*) FROM users WHERE phone = ?", phone_index(DOC_PHONE))[0][0] == 1


def test_phone_with_full_width_digits_is_not_a_second_phone(foo: dict[str, Any], server: Server,
                                                            client: Client) -> None:
    assert foo["status"] == 201
    twin = DOC_PHONE[:7] + "".join(chr(ord(d) + 0xFEE0) for d in DOC_PHONE[7:])  # same number, full-width digits
    response = client.post("/login/send/sms", {"phone": twin})
    code = response.json()["data"]["code"] if response.status_code == 200 else "123456"
    registered = client.post("/login/register", body("Twin", twin, code))
    assert registered.status_code == 400, registered.text
    assert users_named(server, "Twin") == 0


def test_account_taken_and_phone_taken_differ() -> None:
    assert answer("ACCOUNT_TAKEN").v2 != answer("PHONE_TAKEN").v2
    assert len({answer(n).v2 for n in ("ACCOUNT_TAKEN", "PHONE_TAKEN", "SMS_CODE_WRONG")}) == 3


# -- password rules ----------------------------------------------------------------------------


@pytest.mark.parametrize("password", [
    "12345",            # 5 characters
    "a" * 33,           # 33 characters
    "abc-1234",         # a dash
    "abc 1234",         # a space
    "pass.word",        # a dot
    "密码密码密码",        # not letters, digits or underscore
])
def test_password_rules(server: Server, client: Client, password: str) -> None:
    phone = new_phone()
    code = sms_code(client, phone)
    message = expect_error(client.post("/login/register", body("PwRule", phone, code, password)), "v2",
                           60001, 9906, 400)
    assert message.startswith(INVALID_PREFIX) and "密码" in message, message
    # v1: the password field's code.
    expect_error(client.post("/v1/login/register", body("PwRule", phone, code, password)), "v1", 60001, 9906, 400)
    assert users_named(server, "PwRule") == 0


@pytest.mark.parametrize("password", ["abc_12", "A_" + "b1" * 15])  # 6 and 32 characters
def test_password_boundaries_are_accepted(client: Client, password: str) -> None:
    phone = new_phone()
    account = f"Pw{len(password)}"
    assert client.post("/login/register", body(account, phone, sms_code(client, phone), password)).status_code == 201
    expect_ok(login(client, account, password), "v2")


def test_confirmation_mismatch(server: Server, client: Client) -> None:
    phone = new_phone()
    code = sms_code(client, phone)
    params = body("Mismatch", phone, code)
    params["password_confirmation"] = "1234568"
    message = expect_error(client.post("/login/register", params), "v2", 60001, 9906, 400)
    assert message.startswith(INVALID_PREFIX), message
    params.pop("password_confirmation")
    message = expect_error(client.post("/login/register", params), "v2", 60001, 9906, 400)
    assert message.startswith(INVALID_PREFIX), message
    assert users_named(server, "Mismatch") == 0
    # The validation failures did not touch the code: it still registers.
    assert client.post("/login/register", body("Mismatch", phone, code)).status_code == 201


@pytest.mark.parametrize("field", ["account", "password", "password_confirmation", "phone"])
def test_other_missing_fields_are_9906(client: Client, field: str) -> None:
    params = body("Missing", new_phone(), "123456")
    params.pop(field)
    message = expect_error(client.post("/login/register", params), "v2", 0, 9906, 400)
    assert message.startswith(INVALID_PREFIX) and message.endswith("必填"), message


def test_invalid_phone_is_9906(client: Client) -> None:
    message = expect_error(client.post("/login/register", body("BadPhone", "12345", "123456")), "v2", 0, 9906, 400)
    assert message.startswith(INVALID_PREFIX) and "手机号" in message, message


# -- extra fields ------------------------------------------------------------------------------


def test_extra_fields_are_ignored(server: Server, client: Client) -> None:
    phone = new_phone()
    code = sms_code(client, phone)
    response = client.post("/login/register", body("Extra", phone, code, role="1", id=999, is_admin=1,
                                                   rid=["1"], status=0))
    assert response.status_code == 201, response.text
    rows = server.query("SELECT id FROM users WHERE account = 'Extra'")
    assert len(rows) == 1 and rows[0][0] != 999
    jwt_pair = expect_ok(login(client, "Extra", "1234567"), "v2")
    status = expect_ok(client.post("/login/jwt/status", {"jwt": jwt_pair["jwt"]}), "v2")
    assert status["uid"] == rows[0][0]
    assert status["jwt_data"] == {"uid": rows[0][0], "rid": []}
    me = expect_ok(client.post("/v2/test", token=jwt_pair["jwt"]), "v2")
    assert me["rid"] == [] and me["account"] == "Extra" and me["phone"] == phone


# -- concurrency -------------------------------------------------------------------------------


def _post_each(server: Server, bodies: list[dict[str, Any]]) -> list:
    assert_live(server.url)

    def one(params: dict[str, Any]):
        c = Client(server.url)
        try:
            return c.post("/login/register", params)
        finally:
            c.http.close()

    with ThreadPoolExecutor(max_workers=len(bodies)) as pool:
        return list(pool.map(one, bodies))


def test_fifty_concurrent_registrations_of_one_account_make_one_user(server: Server, client: Client) -> None:
    phone = new_phone()
    code = sms_code(client, phone)
    responses = _post_each(server, [body("Racer", phone, code) for _ in range(50)])
    statuses = [r.status_code for r in responses]
    assert all(s < 500 for s in statuses), [r.text for r in responses if r.status_code >= 500][:3]
    assert statuses.count(201) == 1, statuses
    losers = {code[1] for code in (codes.ACCOUNT_TAKEN, codes.PHONE_TAKEN, codes.SMS_CODE_WRONG)}
    for r in responses:
        if r.status_code != 201:
            assert r.status_code == 400 and r.json()["code"] in losers and r.json()["data"] == [], r.text
    assert users_named(server, "Racer") == 1
    assert server.query("SELECT COUNT(*) FROM users WHERE phone = ?", phone_index(phone))[0][0] == 1


def test_concurrent_registrations_of_one_account_from_many_phones(server: Server, client: Client) -> None:
    # Each request has its own phone and live code, so only the account's uniqueness (any case) decides.
    spellings = ["Rival", "rival", "RIVAL", "rIvAl", "Rival", "rival", "RIVAL", "Rival"]
    bodies = []
    for account in spellings:
        phone = new_phone()
        bodies.append(body(account, phone, sms_code(client, phone)))
    responses = _post_each(server, bodies)
    statuses = [r.status_code for r in responses]
    assert all(s < 500 for s in statuses), [r.text for r in responses if r.status_code >= 500][:3]
    assert statuses.count(201) == 1, statuses
    for r in responses:
        if r.status_code != 201:
            expect_catalog(r, codes.ACCOUNT_TAKEN)
    assert users_named(server, "rival") == 1


def test_register_in_v1_and_v2_paths(client: Client) -> None:
    for path, version in (("/v2/login/register", "v2"), ("/V1/Login/Register", "v1")):
        phone = new_phone()
        code = sms_code(client, phone)
        account = f"Path{version}"
        response = client.post(path, body(account, phone, code))
        data = expect_ok(response, version, 201)
        assert data == ([] if version == "v2" else {}), response.text


# -- no oracle before the code is right (SPEC §10) ---------------------------------------------------


@pytest.fixture(scope="module")
def tight(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """Three wrong SMS codes per address per hour, and a registered Alice."""
    with serving(tmp_path_factory, "register-tight", live=True,
                 APP_DEBUG=1, **{**SERVER_SETTINGS, "SMS_VERIFY_IP_LIMIT": 3}) as live:
        live.create_user("Alice", "13800000042", "alice_pass_1")
        yield live


def test_a_wrong_code_says_nothing_of_the_account_or_phone_and_is_counted(tight: Server) -> None:
    c = Client(tight.url)
    probes = [body("ALICE", new_phone(), "000000"),          # a registered account
              body("Nobody1", "13800000042", "000000"),      # a registered phone
              body("Nobody2", new_phone(), "000000")]        # neither
    answers = [c.post("/login/register", params) for params in probes]
    for response in answers:
        expect_catalog(response, codes.SMS_CODE_WRONG)
    assert len({r.content for r in answers}) == 1
    # Each probe was a wrong code, counted against the address: the fourth is throttled.
    response = c.post("/login/register", body("alice", new_phone(), "000000"))
    assert response.status_code == 429 and response.headers.get("Retry-After"), response.text


def test_taken_comes_only_with_a_right_code_which_stays_usable(foo: dict[str, Any], server: Server,
                                                              client: Client) -> None:
    assert foo["status"] == 201
    phone = new_phone()
    code = sms_code(client, phone)
    for _ in range(6):  # more often than SMS_VERIFY_ATTEMPTS: a right code's try is given back
        expect_catalog(client.post("/login/register", body("fOO", phone, code)), codes.ACCOUNT_TAKEN)
    assert server.query("SELECT attempts, used_at FROM sms_code WHERE phone = ?", phone_index(phone)) == [(0, None)]
    assert client.post("/login/register", body("NotFoo", phone, code)).status_code == 201


@pytest.mark.parametrize("account", [
    "ali\u200bce",     # zero-width space (a format character)
    "ali\u202ece",     # right-to-left override
    "al\x1b[31mice",   # a terminal escape
    "\u0430lice",      # Cyrillic `а` among Latin letters: a look-alike of `alice`
    "①②",              # folds to the all-digit `12`
])
def test_invisible_and_look_alike_account_names_are_refused(server: Server, client: Client, account: str) -> None:
    phone = new_phone()
    code = sms_code(client, phone)
    message = expect_error(client.post("/login/register", body(account, phone, code)), "v2", 0, 9906, 400)
    assert message.startswith(INVALID_PREFIX) and "用户名" in message, message
    assert server.query("SELECT COUNT(*) FROM users WHERE phone = ?", phone_index(phone))[0][0] == 0


def test_full_width_spelling_logs_in_and_one_script_names_register(client: Client) -> None:
    phone = new_phone()
    assert client.post("/login/register", body("Wide", phone, sms_code(client, phone))).status_code == 201
    expect_ok(login(client, "Ｗｉｄｅ", "1234567"), "v2")
    phone = new_phone()
    assert client.post("/login/register", body("алиса", phone, sms_code(client, phone))).status_code == 201
    expect_ok(login(client, "АЛИСА", "1234567"), "v2")
