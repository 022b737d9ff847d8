"""The error catalog (SPEC §3), the envelopes of both versions (SPEC §2), and the message language."""
from __future__ import annotations

import json
import string
from collections import Counter

import pytest

from app.common.error import CATALOG, V1_FIELD_CODES, ApiException, answer
from app.common.lang import choose_language
from app.common.response import envelope, render

SUCCESSES = [a for a in CATALOG if a.http < 400]
ERRORS = [a for a in CATALOG if a.http >= 400]
# v2 codes the documents give to more than one error (SPEC §3).
SHARED_V2 = {9906, 9908, 50006}
# v1 codes SPEC §11 gives to a second error: OLD_PASSWORD_WRONG is 60001, the password field's code.
SHARED_V1 = {60001: {"LOGIN_FAILED", "OLD_PASSWORD_WRONG"}}


def test_names_are_unique() -> None:
    assert len({a.name for a in CATALOG}) == len(CATALOG)


def test_successes_are_code_0_and_200() -> None:
    assert SUCCESSES, "the catalog has no success entry"
    for a in SUCCESSES:
        assert (a.v1, a.v2) == (0, 200), a
        assert a.message("v2", "zh") == "ok", a


def test_v1_codes_are_distinct() -> None:
    counts = Counter(a.v1 for a in ERRORS)
    shared = {code: {a.name for a in ERRORS if a.v1 == code} for code, n in counts.items() if n > 1}
    assert shared == SHARED_V1
    assert 0 not in counts


def test_v2_codes_are_distinct_but_for_the_documented_shared_ones() -> None:
    counts = Counter(a.v2 for a in ERRORS)
    shared = {code for code, n in counts.items() if n > 1}
    assert shared <= SHARED_V2, shared - SHARED_V2
    assert 200 not in counts


def test_own_codes_are_in_their_ranges() -> None:
    for a in ERRORS:
        assert 60000 <= a.v1 < 70000, a
        assert 9900 <= a.v2 <= 9999 or 50000 <= a.v2 <= 50999, a
        assert a.http in (400, 401, 403, 404, 405, 409, 413, 415, 429, 500, 502, 503), a


# SPEC §3's fixed rows: (name, v1, v2 or None when the spec leaves it open, v1 zh message, v2 zh message or None)
FIXED = [
    ("USERNAME_INVALID", 60000, 9906, "用户名不正确", "数据验证失败，原因如下：{reason}"),
    ("LOGIN_FAILED", 60001, 50006, "密码不正确", "用户 {account} 未注册或者密码错误"),
    ("CAPTCHA_WRONG", 60002, None, "验证码错误", None),
    ("REQUEST_EXPIRED", 60003, None, "请求超时", None),
    ("TIMESTAMP_INVALID", 60005, None, "时间戳不正确", None),
    ("PARAM_INVALID", 60006, 9906, None, "数据验证失败，原因如下：{reason}"),
    ("SIGN_INVALID", 60007, None, "签名错误", None),
    ("PARAMS_UNREADABLE", 60008, None, "参数获取失败", None),
    ("USER_NOT_FOUND", 60009, 50006, "用户不存在", "用户不存在"),
    ("TOKEN_INVALID", 60010, 9908, "无权访问", "认证失败：{reason}"),
    ("TOKEN_EXPIRED", 60011, 9908, "登录过期", "认证失败：{reason}"),
    ("SMS_STILL_VALID", None, 50017, None, "短信还在有效期内, 请勿重复发送"),
]


@pytest.mark.parametrize("name, v1, v2, zh, v2_zh", FIXED, ids=[row[0] for row in FIXED])
def test_fixed_entries(name: str, v1: int | None, v2: int | None, zh: str | None, v2_zh: str | None) -> None:
    a = answer(name)
    if v1 is not None:
        assert a.v1 == v1
    if v2 is not None:
        assert a.v2 == v2
    if zh is not None:
        assert a.message("v1", "zh") == zh
    if v2_zh is not None:
        assert a.message("v2", "zh") == v2_zh


def test_unknown_error_opens_with_the_seed_message() -> None:
    # 60004 未知错误, followed by the request id that the log line carries too.
    a = answer("UNKNOWN_ERROR")
    assert a.v1 == 60004
    assert a.message("v1", "zh").startswith("未知错误")
    assert "{request_id}" in a.message("v1", "zh") and "{request_id}" in a.message("v2", "en")


def test_fixed_http_statuses() -> None:
    expected = {"USERNAME_INVALID": 400, "PARAM_INVALID": 400, "TIMESTAMP_INVALID": 400, "REQUEST_EXPIRED": 400,
                "PARAMS_UNREADABLE": 400, "SIGN_INVALID": 401, "TOKEN_INVALID": 401, "TOKEN_EXPIRED": 401,
                "LOGIN_FAILED": 401, "UNKNOWN_ERROR": 500, "ROUTE_NOT_FOUND": 404, "METHOD_NOT_ALLOWED": 405,
                "BODY_TOO_LARGE": 413, "UNSUPPORTED_MEDIA_TYPE": 415, "PERMISSION_DENIED": 403,
                "OK": 200, "LOGIN_OK": 200, "CREATED": 201}
    assert {name: answer(name).http for name in expected} == expected
    # A limit is a 429 (SPEC §2), and there is at least one.
    limits = [a for a in CATALOG if a.http == 429]
    assert limits and all(a.v1 >= 60012 for a in limits)


def test_the_rest_have_codes_of_their_own_from_60012() -> None:
    fixed = {row[0] for row in FIXED} | {"UNKNOWN_ERROR", "OLD_PASSWORD_WRONG"}
    for a in ERRORS:
        if a.name not in fixed:
            assert a.v1 >= 60012 and a.v2 not in SHARED_V2, a
    for name in ("ROUTE_NOT_FOUND", "METHOD_NOT_ALLOWED", "BODY_TOO_LARGE", "UNSUPPORTED_MEDIA_TYPE",
                 "PERMISSION_DENIED", "ACCOUNT_TAKEN", "PHONE_TAKEN", "SMS_CODE_WRONG", "CAPTCHA_REQUIRED",
                 "REQUEST_REPLAYED"):
        assert answer(name).v1 >= 60012


@pytest.mark.parametrize("entry", CATALOG, ids=[a.name for a in CATALOG])
def test_every_message_exists_in_both_languages(entry) -> None:
    # The Chinese text may be the document's fixed wording (参数获取失败 without its reason), but it
    # never needs a field the English text does not also get from the raising site.
    for version in ("v1", "v2"):
        zh, en = entry.message(version, "zh"), entry.message(version, "en")
        assert zh and en
        fields = lambda text: {f for _, f, _, _ in string.Formatter().parse(text) if f}  # noqa: E731
        assert fields(zh) <= fields(en), (version, zh, en)


def test_v1_field_codes_follow_spec() -> None:
    assert V1_FIELD_CODES == {
        "username": 60000, "account": 60000, "phone": 60000,
        "password": 60001, "pwd": 60001, "password_confirmation": 60001, "old_password": 60001,
        "code": 60002, "captcha_id": 60002, "captcha_code": 60002,
        "timestamp": 60005, "sign": 60007,
    }
    assert ApiException("PARAM_INVALID", field="phone").code("v1") == 60000
    assert ApiException("PARAM_INVALID", field="nonce").code("v1") == 60006
    assert ApiException("PARAM_INVALID").code("v1") == 60006
    assert ApiException("PARAM_INVALID", field="phone").code("v2") == 9906
    # Only validation errors take the field's code.
    assert ApiException("SIGN_INVALID", field="username").code("v1") == 60007


def test_old_password_wrong_is_fixed_by_spec_11() -> None:
    entry = answer("OLD_PASSWORD_WRONG")
    assert (entry.v1, entry.v2, entry.http) == (60001, 50019, 400)


# Every published (name, v1 code, v2 code, HTTP status), written out. Clients hard-code these numbers:
# renumbering one, or adding or removing an entry, must come with a deliberate change here.
PUBLISHED = [
    ("OK", 0, 200, 200),
    ("LOGIN_OK", 0, 200, 200),
    ("CREATED", 0, 200, 201),
    ("USERNAME_INVALID", 60000, 9906, 400),
    ("LOGIN_FAILED", 60001, 50006, 401),
    ("CAPTCHA_WRONG", 60002, 50012, 400),
    ("REQUEST_EXPIRED", 60003, 9903, 400),
    ("UNKNOWN_ERROR", 60004, 9900, 500),
    ("TIMESTAMP_INVALID", 60005, 9902, 400),
    ("PARAM_INVALID", 60006, 9906, 400),
    ("SIGN_INVALID", 60007, 9907, 401),
    ("PARAMS_UNREADABLE", 60008, 9909, 400),
    ("USER_NOT_FOUND", 60009, 50006, 401),
    ("TOKEN_INVALID", 60010, 9908, 401),
    ("TOKEN_EXPIRED", 60011, 9908, 401),
    ("SMS_STILL_VALID", 60025, 50017, 400),
    ("ROUTE_NOT_FOUND", 60012, 9904, 404),
    ("METHOD_NOT_ALLOWED", 60013, 9905, 405),
    ("BODY_TOO_LARGE", 60014, 9910, 413),
    ("UNSUPPORTED_MEDIA_TYPE", 60015, 9911, 415),
    ("REQUEST_REPLAYED", 60016, 9912, 401),
    ("LOGIN_THROTTLED", 60017, 9913, 429),
    ("PERMISSION_DENIED", 60018, 9914, 403),
    ("SERVICE_UNAVAILABLE", 60019, 9915, 503),
    ("ACCOUNT_TAKEN", 60020, 50001, 400),
    ("PHONE_TAKEN", 60021, 50002, 400),
    ("SMS_CODE_WRONG", 60022, 50003, 400),
    ("SMS_SEND_FAILED", 60023, 50004, 502),
    ("SMS_LIMITED", 60024, 50005, 429),
    ("CAPTCHA_REQUIRED", 60026, 50011, 400),
    ("NOT_FOUND", 60027, 50010, 404),
    ("ROLE_NAME_TAKEN", 60028, 50013, 400),
    ("SMS_CLIENT_LIMITED", 60030, 50007, 429),
    ("SMS_TOTAL_LIMITED", 60031, 50008, 429),
    ("SMS_VERIFY_LIMITED", 60032, 50009, 429),
    ("ROLE_PROTECTED", 60029, 50014, 403),
    ("PERMISSION_ESCALATION", 60033, 50015, 403),
    ("LAST_ADMIN", 60037, 50023, 403),
    ("SELF_DISABLE", 60050, 50040, 403),
    ("OLD_PASSWORD_WRONG", 60001, 50019, 400),
    ("REFRESH_IN_PROGRESS", 60040, 50030, 409),
    ("QR_TICKET_INVALID", 60034, 50020, 400),
    ("QR_TICKET_STATE", 60035, 50021, 409),
    ("MEMBER_CODE_INVALID", 60036, 50022, 400),
    ("ENCRYPTED_FIELD_INVALID", 60038, 50024, 400),
]


def test_every_published_code_is_unchanged() -> None:
    # By name, not by position: the catalog's order is free, its numbers are not.
    published = {name: (v1, v2, http) for name, v1, v2, http in PUBLISHED}
    assert len(published) == len(PUBLISHED) == len(CATALOG)
    assert {a.name: (a.v1, a.v2, a.http) for a in CATALOG} == published


# -- envelopes -------------------------------------------------------------------------------

def test_v1_success_envelope() -> None:
    assert envelope("v1", answer("LOGIN_OK"), "zh", {"uid": 1}) == {
        "message": "登录成功", "data": {"uid": 1}, "errorcode": 0}
    assert envelope("v1", answer("OK"), "zh") == {"message": "成功", "data": {}, "errorcode": 0}


def test_v2_success_envelope() -> None:
    assert envelope("v2", answer("LOGIN_OK"), "zh", {"uid": 1}) == {
        "code": 200, "msg": "ok", "status": True, "data": {"uid": 1}}
    # A string is data too (refresh answers the new JWT as `data`).
    assert envelope("v2", answer("OK"), "zh", "a.b.c")["data"] == "a.b.c"


@pytest.mark.parametrize("entry", ERRORS, ids=[a.name for a in ERRORS])
def test_error_envelopes_carry_empty_data_and_false_status(entry) -> None:
    v1 = envelope("v1", entry, "zh", {"leak": 1})
    v2 = envelope("v2", entry, "zh", {"leak": 1})
    assert v1 == {"message": entry.message("v1", "zh"), "data": {}, "errorcode": entry.v1}
    assert v2 == {"code": entry.v2, "msg": entry.message("v2", "zh"), "status": False, "data": []}


def test_render_sets_status_media_type_headers_and_json() -> None:
    response = render("v2", answer("METHOD_NOT_ALLOWED"), "en", headers={"Allow": "POST"})
    assert response.status_code == 405
    assert response.headers["content-type"].startswith("application/json")
    assert response.headers["allow"] == "POST"
    assert json.loads(response.body) == {"code": 9905, "msg": "Method not allowed",
                                         "status": False, "data": []}
    created = render("v1", answer("CREATED"), "zh", {"uid": 3})
    assert created.status_code == 201
    # Non-ASCII is written as UTF-8, not \u escapes.
    assert "创建成功".encode() in created.body


def test_english_messages() -> None:
    assert envelope("v1", answer("SIGN_INVALID"), "en")["message"] == "Wrong signature"
    assert answer("PARAM_INVALID").message("v2", "en").startswith("Data validation failed")


# -- language ----------------------------------------------------------------------------------

@pytest.mark.parametrize("lang_param, accept, expected", [
    (None, None, "zh"),
    (None, "", "zh"),
    (None, "en", "en"),
    (None, "EN", "en"),
    (None, "en-US,en;q=0.9", "en"),
    (None, "zh-CN", "zh"),
    (None, "zh-CN,zh;q=0.9,en;q=0.8", "zh"),
    (None, "fr-FR, en;q=0.5", "en"),
    (None, "en;q=0.4, zh;q=0.6", "zh"),
    (None, "zh;q=0.4, en;q=0.6", "en"),
    (None, "en;q=0", "zh"),
    (None, "en;q=0, zh;q=0.1", "zh"),
    (None, "en;q=abc", "zh"),
    (None, "fr, de", "zh"),
    (None, "*", "zh"),
    ("en", None, "en"),
    ("en-us", None, "en"),
    ("EN-US", None, "en"),
    ("zh-cn", "en", "zh"),
    ("en", "zh-CN", "en"),
    ("fr", "en", "en"),          # an unknown lang parameter falls back to the header
    ("", "en", "en"),
    (["en"], None, "zh"),        # a non-string parameter is ignored
    (1, "en", "en"),
])
def test_language_choice(lang_param: object, accept: str | None, expected: str) -> None:
    assert choose_language(lang_param, accept) == expected


def test_qr_login_and_member_code_entries_are_spec_12s() -> None:
    fixed = {"QR_TICKET_INVALID": (60034, 50020, 400), "QR_TICKET_STATE": (60035, 50021, 409),
             "MEMBER_CODE_INVALID": (60036, 50022, 400)}
    assert {name: (answer(name).v1, answer(name).v2, answer(name).http) for name in fixed} == fixed
    for name in fixed:
        assert answer(name).message("v1", "zh") != answer(name).message("v1", "en")
