"""BaseValidate (ThinkPHP's Validate): rules, coercion, the raised error, scenes and messages."""
from __future__ import annotations

import re
from typing import Any

import pytest

from app.common.app_state import AppState, using
from app.common.error import ApiException
from app.common.text import Text
from app.validate.base import BaseValidate


def validator(spec: str | list[Any], **attrs: Any) -> BaseValidate:
    """A one-field validator: field `f` with rule `spec`."""
    return type("V", (BaseValidate,), {"rule": {"f": spec}, **attrs})()


# (rule, value, passes)
RULES = [
    ("require", "x", True),
    ("require", "0", True),
    ("require", 0, True),
    ("require", "", False),
    ("require", None, False),
    ("max:3", "abc", True),
    ("max:3", "abcd", False),
    ("max:3", "中文字", True),          # characters, not bytes
    ("max:3", 1234, False),           # an int is measured as its text
    ("min:3", "abc", True),
    ("min:3", "ab", False),
    ("length:6", "123456", True),
    ("length:6", "12345", False),
    ("length:6", "1234567", False),
    ("length:6,8", "1234567", True),
    ("length:6,8", "123456789", False),
    ("length:6,8", "12345", False),
    ("between:1,10", "1", True),
    ("between:1,10", "10", True),
    ("between:1,10", "5.5", True),
    ("between:1,10", "11", False),
    ("between:1,10", "0", False),
    ("between:1,10", "abc", False),
    ("between:1,10", 7, True),
    ("number", "0123", True),
    ("number", 123, True),
    ("number", "-1", False),
    ("number", "1.5", False),
    ("number", "12a", False),
    ("number", "123\n", False),
    ("integer", "42", True),
    ("integer", "-42", True),
    ("integer", "+42", True),
    ("integer", 42, True),
    ("integer", "4.2", False),
    ("integer", "4e2", False),
    ("integer", "x", False),
    ("alphaDash", "a-Z_0", True),
    ("alphaDash", "a b", False),
    ("alphaDash", "a.b", False),
    ("alphaDash", "中", False),
    ("alphaNum", "aZ0", True),
    ("alphaNum", "a_b", False),
    ("mobile", "13911119999", True),
    ("mobile", 13911119999, True),
    ("mobile", "12911119999", False),
    ("mobile", "1391111999", False),
    ("mobile", "139111199990", False),
    ("mobile", "+8613911119999", False),
    ("in:a,b,c", "b", True),
    ("in:a,b,c", "d", False),
    ("in:a,b,c", "a,b", False),
    (["regex:^[a-z]+$"], "abc", True),
    (["regex:^[a-z]+$"], "abC", False),
    ([("regex", r"^(yes|no)$")], "no", True),
    ([("regex", r"^(yes|no)$")], "maybe", False),
    ([("regex", r"^(yes|no)$")], "yes\n", False),
]


@pytest.mark.parametrize("spec, value, passes", RULES, ids=[f"{r[0]}-{r[1]!r}" for r in RULES])
def test_rule(spec: Any, value: Any, passes: bool) -> None:
    v = validator(spec if isinstance(spec, list) or spec.startswith("require") else f"require|{spec}")
    if passes:
        # Every value is read as text; an `integer` field comes out as a Python int.
        expected = int(value) if spec == "integer" else str(value)
        assert v.check({"f": value}) == {"f": expected}
    else:
        with pytest.raises(ApiException) as caught:
            v.check({"f": value})
        assert caught.value.answer.name == "PARAM_INVALID"
        assert caught.value.field == "f"


# ThinkPHP's `number` is ctype_digit and its `mobile` is PCRE's ASCII \d: other scripts' digits are not digits.
@pytest.mark.parametrize("spec, value", [
    ("number", "１２３４５６"),
    ("number", "١٢٣"),
    ("integer", "４２"),
    ("mobile", "13９１１１１９９９９"),
])
def test_non_ascii_digits_are_not_digits(spec: str, value: str) -> None:
    with pytest.raises(ApiException):
        validator(f"require|{spec}").check({"f": value})


@pytest.mark.parametrize("value", [{"a": 1}, ["a"], [], True, False, 1.5])
def test_wrong_types_for_a_string_field(value: Any) -> None:
    with pytest.raises(ApiException) as caught:
        validator("require|max:64", field={"f": Text("用户名", "username")}).check({"f": value})
    assert caught.value.field == "f"
    assert caught.value.fields["reason"] == Text("用户名必须是字符串", "username must be a string")


def test_ints_are_coerced_to_text() -> None:
    v = type("V", (BaseValidate,), {"rule": {"phone": "require|mobile", "code": "require|length:6|number"}})()
    assert v.check({"phone": 13911119999, "code": 123456}) == {"phone": "13911119999", "code": "123456"}


def test_array_rule() -> None:
    v = validator("require|array")
    assert v.check({"f": [1, 2]}) == {"f": [1, 2]}
    assert v.check({"f": []}) == {"f": []}
    # A form or query string carries an array as JSON text.
    assert v.check({"f": "[1,2]"}) == {"f": [1, 2]}
    for wrong in ("1,2", '{"a":1}', 7, {"a": 1}):
        with pytest.raises(ApiException) as caught:
            v.check({"f": wrong})
        assert caught.value.fields["reason"].en == "f must be an array"
    with pytest.raises(ApiException) as caught:
        v.check({})
    assert caught.value.fields["reason"].en == "f is required"


@pytest.mark.parametrize("depth", [33, 3000])
def test_array_rule_refuses_json_text_nested_past_32_levels(depth: int) -> None:
    v = validator("require|array")
    with pytest.raises(ApiException) as caught:
        v.check({"f": "[" * depth + "]" * depth})
    assert caught.value.answer.name == "PARAM_INVALID" and caught.value.field == "f"
    assert caught.value.fields["reason"].en == "f is nested more than 32 levels deep"
    assert v.check({"f": "[" * 32 + "]" * 32})["f"] is not None


def test_optional_field_may_be_absent_or_empty() -> None:
    v = validator("max:3")
    assert v.check({}) == {}
    assert v.check({"f": ""}) == {}
    assert v.check({"f": None}) == {}
    with pytest.raises(ApiException):
        v.check({"f": "abcd"})


def test_confirm() -> None:
    v = type("V", (BaseValidate,), {"rule": {"password": "require", "password_confirmation": "require|confirm:password",
                                              "pin": "confirm"}})()
    data = {"password": "abc123", "password_confirmation": "abc123"}
    assert v.check(data)["password_confirmation"] == "abc123"
    with pytest.raises(ApiException) as caught:
        v.check({**data, "password_confirmation": "abc124"})
    assert caught.value.field == "password_confirmation"
    # Without an argument the other field is `<name>_confirmation`.
    assert v.check({**data, "pin": "1234", "pin_confirmation": 1234})["pin"] == "1234"
    with pytest.raises(ApiException) as caught:
        v.check({**data, "pin": "1234"})
    assert caught.value.field == "pin"


def test_the_error_names_the_field_and_reason_in_both_languages() -> None:
    v = validator("require|max:4", field={"f": Text("用户名", "username")})
    with pytest.raises(ApiException) as caught:
        v.check({"f": "abcde"})
    exc = caught.value
    assert (exc.answer.name, exc.field) == ("PARAM_INVALID", "f")
    assert exc.fields["reason"] == Text("用户名长度不能超过4", "username must be at most 4 characters")
    with pytest.raises(ApiException) as caught:
        v.check({})
    assert caught.value.fields["reason"] == Text("用户名必填", "username is required")


def test_without_a_label_the_field_name_is_used() -> None:
    with pytest.raises(ApiException) as caught:
        validator("require").check({})
    assert caught.value.fields["reason"] == Text("f必填", "f is required")


def test_first_failing_rule_of_first_failing_field_wins() -> None:
    v = type("V", (BaseValidate,), {"rule": {"a": "require|max:2|number", "b": "require"}})()
    with pytest.raises(ApiException) as caught:
        v.check({"a": "abc"})                # fails max before number; b is missing too
    assert (caught.value.field, caught.value.fields["reason"].en) == ("a", "a must be at most 2 characters")


def test_v1_code_follows_the_field() -> None:
    for name, code in [("username", 60000), ("password", 60001), ("code", 60002), ("timestamp", 60005),
                       ("nickname", 60006)]:
        with pytest.raises(ApiException) as caught:
            type("V", (BaseValidate,), {"rule": {name: "require"}})().check({})
        assert caught.value.code("v1") == code
        assert caught.value.code("v2") == 9906


def test_custom_messages() -> None:
    v = type("V", (BaseValidate,), {
        "rule": {"username": "require|max:4"},
        "field": {"username": Text("用户名", "username")},
        "message": {"username.require": Text("请输入{label}", "enter a {label}")},
    })()
    with pytest.raises(ApiException) as caught:
        v.check({})
    assert caught.value.fields["reason"] == Text("请输入用户名", "enter a username")
    # Rules without a custom message keep the default.
    with pytest.raises(ApiException) as caught:
        v.check({"username": "abcde"})
    assert caught.value.fields["reason"].en == "username must be at most 4 characters"


def test_scenes_check_only_their_fields() -> None:
    v = type("V", (BaseValidate,), {
        "rule": {"username": "require", "password": "require", "code": "require|number"},
        "scene": {"login": ["username", "password"], "sms": ["code"]},
    })()
    assert v.check({"username": "u", "password": "p"}, scene="login") == {"username": "u", "password": "p"}
    with pytest.raises(ApiException) as caught:
        v.check({"username": "u", "password": "p"})
    assert caught.value.field == "code"
    with pytest.raises(ApiException) as caught:
        v.check({"username": "u"}, scene="login")
    assert caught.value.field == "password"
    # Undeclared parameters do not leak into the cleaned data.
    assert v.check({"code": "12", "extra": "x"}, scene="sms") == {"code": "12"}


def test_scene_entry_with_question_mark_is_optional() -> None:
    v = type("V", (BaseValidate,), {
        "rule": {"name": "require|max:3", "title": "require|max:3"},
        "scene": {"update": ["name?", "title?"]},
    })()
    assert v.check({}, scene="update") == {}
    assert v.check({"title": "abc"}, scene="update") == {"title": "abc"}
    with pytest.raises(ApiException) as caught:
        v.check({"title": "abcd"}, scene="update")   # its other rules still apply
    assert caught.value.field == "title"
    with pytest.raises(ApiException):
        v.check({})                                # outside the scene it is required


def test_custom_rule_method() -> None:
    class Even(BaseValidate):
        rule = {"n": "require|even"}
        message = {"n.even": Text("{label}必须是偶数", "{label} must be even")}

        def rule_even(self, value: Any, arg: Any, data: dict[str, Any]) -> bool:
            return int(value) % 2 == 0

    assert Even().check({"n": 4}) == {"n": "4"}
    with pytest.raises(ApiException) as caught:
        Even().check({"n": "3"})
    assert caught.value.fields["reason"] == Text("n必须是偶数", "n must be even")


def test_mobile_pattern_is_configurable() -> None:
    class Phone(BaseValidate):
        rule = {"phone": "require|mobile"}

    # The pattern is the running app's PHONE_PATTERN (server.boot puts it in the app's state).
    with using(AppState(settings=None, database=None, phone_pattern=re.compile(r"^\+\d{8,15}$"))):
        assert Phone().check({"phone": "+4915112345678"}) == {"phone": "+4915112345678"}
        with pytest.raises(ApiException):
            Phone().check({"phone": "13911119999"})


def test_unknown_rule_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="unknown validation rule"):
        validator("require|nosuchrule").check({"f": "x"})


def test_login_validator() -> None:
    from app.validate.login import Login

    assert Login().check({"username": "Foo", "password": "x", "timestamp": 1}, scene="login") == {
        "username": "Foo", "password": "x"}
    for data, field in [({"password": "x"}, "username"), ({"username": "Foo"}, "password"),
                        ({"username": "x" * 65, "password": "x"}, "username"),
                        ({"username": ["Foo"], "password": "x"}, "username"),
                        ({"username": "Foo", "password": {"a": 1}}, "password")]:
        with pytest.raises(ApiException) as caught:
            Login().check(data, scene="login")
        assert caught.value.field == field
