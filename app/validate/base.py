"""BaseValidate in ThinkPHP's shape: `rule`, `message`, `field`, `scene`; `check()` raises.

    class Login(BaseValidate):
        rule = {"username": "require|max:64", "password": "require|length:6,32"}
        field = {"username": Text("用户名", "username")}
        message = {"username.require": Text("用户名必填", "username is required")}
        scene = {"login": ["username", "password"]}

A scene entry ending in `?` makes a required field optional in that scene. A rule string splits on `|`;
a rule whose argument holds `|` (a regex) is given in a list instead: `["require", ("regex", r"^(a|b)$")]`.
The first failing rule of the first failing field raises ApiException("PARAM_INVALID", field=name,
reason=Text), which the exception handler renders with the field's v1 code or v2's 9906.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, ClassVar

from app.common.app_state import current_or_none
from app.common.error import ApiException
from app.common.request_input import MAX_DEPTH, TooDeep, decode_json_value
from app.common.text import Text

Rule = tuple[str, str | None]

# Default reasons per rule; {label} is the field's name from `field`, {arg} the rule's argument.
DEFAULT_MESSAGES: dict[str, Text] = {
    "require": Text("{label}必填", "{label} is required"),
    "string": Text("{label}必须是字符串", "{label} must be a string"),
    "array": Text("{label}必须是数组", "{label} must be an array"),
    "max": Text("{label}长度不能超过{arg}", "{label} must be at most {arg} characters"),
    "min": Text("{label}长度不能小于{arg}", "{label} must be at least {arg} characters"),
    "length": Text("{label}长度必须在{arg}之间", "{label} must be {arg} characters long"),
    "between": Text("{label}只能在{arg}之间", "{label} must be between {arg}"),
    "number": Text("{label}必须是数字", "{label} must be digits"),
    "integer": Text("{label}必须是整数", "{label} must be an integer"),
    "alphaDash": Text("{label}只能是字母、数字、下划线和破折号", "{label} may hold only letters, digits, _ and -"),
    "alphaNum": Text("{label}只能是字母和数字", "{label} may hold only letters and digits"),
    "mobile": Text("{label}格式不正确", "{label} is not a valid mobile number"),
    "confirm": Text("{label}和确认字段不一致", "{label} does not match its confirmation"),
    "in": Text("{label}必须在 {arg} 范围内", "{label} must be one of {arg}"),
    "regex": Text("{label}格式不正确", "{label} has the wrong format"),
    "depth": Text("{label}嵌套超过{arg}层", "{label} is nested more than {arg} levels deep"),
}

# re.ASCII: `\d` must not take full-width or other Unicode digits ("１３９…" is not a phone number).
_MOBILE = re.compile(r"^1[3-9]\d{9}$", re.ASCII)
_ALPHA_DASH = re.compile(r"^[A-Za-z0-9_-]+$")
_ALPHA_NUM = re.compile(r"^[A-Za-z0-9]+$")
_INTEGER = re.compile(r"^[+-]?\d+$", re.ASCII)
_NUMBER = re.compile(r"^\d+$", re.ASCII)


def _is_int(value: Any) -> bool:
    return (isinstance(value, int) and not isinstance(value, bool)) or (
        isinstance(value, str) and _INTEGER.fullmatch(value) is not None)


def _argument(rule: str, arg: str | None) -> str:
    """The argument after the colon of a rule that needs one (`max:64`); without it the validator is wrong."""
    if arg is None:
        raise ValueError(f"validation rule {rule!r} needs an argument, as in '{rule}:…'")
    return arg


def _length_ok(value: Any, arg: str, test: Callable[[int, list[int]], bool]) -> bool:
    size = len(value) if isinstance(value, (str, list, dict)) else len(str(value))
    return test(size, [int(n) for n in arg.split(",")])


def _length_rule(size: int, bounds: list[int]) -> bool:
    return size == bounds[0] if len(bounds) == 1 else bounds[0] <= size <= bounds[1]


def _between(value: Any, arg: str) -> bool:
    low, high = (float(n) for n in arg.split(","))
    try:
        number = float(value)
    except (TypeError, ValueError):
        return False
    return low <= number <= high


class _PhonePattern:
    """`BaseValidate.mobile_pattern`: the current app's PHONE_PATTERN (app/common/app_state.py)."""

    def __get__(self, instance: Any, owner: Any = None) -> re.Pattern[str]:
        state = current_or_none()
        pattern = state.phone_pattern if state is not None else None
        return _MOBILE if pattern is None else pattern


class BaseValidate:
    rule: ClassVar[dict[str, str | list[Any]]] = {}
    field: ClassVar[dict[str, Text]] = {}
    message: ClassVar[dict[str, Text]] = {}
    scene: ClassVar[dict[str, list[str]]] = {}
    # The PHONE_PATTERN setting of the current app, used by the `mobile` rule.
    mobile_pattern: ClassVar[re.Pattern[str]] = _PhonePattern()  # type: ignore[assignment]

    def __init__(self) -> None:
        self._parsed = {name: self._parse(spec) for name, spec in self.rule.items()}

    @staticmethod
    def _parse(spec: str | list[Any]) -> list[Rule]:
        items = spec.split("|") if isinstance(spec, str) else spec
        rules: list[Rule] = []
        for item in items:
            if isinstance(item, tuple):
                rules.append((item[0], str(item[1])))
            else:
                name, sep, arg = str(item).partition(":")
                rules.append((name, arg if sep else None))
        return rules

    def check(self, data: dict[str, Any], scene: str | None = None) -> dict[str, Any]:
        """The declared fields of `data`, coerced; raises on the first failure."""
        names = self.scene[scene] if scene else list(self._parsed)
        clean: dict[str, Any] = {}
        for entry in names:
            # A scene may list `title?`: the field's rules apply, but it may be left out
            # (ThinkPHP's remove('title', 'require')).
            optional = entry.endswith("?")
            name = entry.rstrip("?")
            rules = self._parsed[name]
            value = data.get(name)
            wants_array = any(rule == "array" for rule, _ in rules)
            if value is None or value == "":
                if not optional and any(rule == "require" for rule, _ in rules):
                    self._fail(name, "require", None)
                continue
            value = self._coerce(name, value, wants_array, any(rule == "integer" for rule, _ in rules))
            for rule, arg in rules:
                if rule not in ("require", "string", "array") and not self._passes(rule, arg, value, data, name):
                    self._fail(name, rule, arg)
            clean[name] = int(value) if any(rule == "integer" for rule, _ in rules) else value
        return clean

    def _coerce(self, name: str, value: Any, wants_array: bool, wants_int: bool = False) -> Any:
        if wants_array:
            if isinstance(value, str):  # a form or query string carries an array as JSON text
                try:
                    value = decode_json_value(value)
                except TooDeep:
                    self._fail(name, "depth", str(MAX_DEPTH))
                except ValueError:
                    self._fail(name, "array", None)
            if not isinstance(value, list):
                self._fail(name, "array", None)
            return value
        if isinstance(value, str):
            if "\x00" in value:  # no text field holds a NUL; some databases refuse it outright
                self._fail(name, "regex", None)
            return value
        # A JSON number is read as its text (an app may send a phone or a code as a number).
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        # `uid: [1]` is no integer: say so, rather than that it is no string.
        self._fail(name, "integer" if wants_int else "string", None)

    def _passes(self, rule: str, arg: str | None, value: Any, data: dict[str, Any], name: str) -> bool:
        if rule == "max":
            return _length_ok(value, _argument(rule, arg), lambda size, b: size <= b[0])
        if rule == "min":
            return _length_ok(value, _argument(rule, arg), lambda size, b: size >= b[0])
        if rule == "length":
            return _length_ok(value, _argument(rule, arg), _length_rule)
        if rule == "between":
            return _between(value, _argument(rule, arg))
        if rule == "number":
            return isinstance(value, str) and _NUMBER.fullmatch(value) is not None
        if rule == "integer":
            return _is_int(value)
        if rule == "alphaDash":
            return _ALPHA_DASH.fullmatch(value) is not None
        if rule == "alphaNum":
            return _ALPHA_NUM.fullmatch(value) is not None
        if rule == "mobile":
            return self.mobile_pattern.fullmatch(value) is not None
        if rule == "confirm":
            other = data.get(arg or f"{name}_confirmation")
            return isinstance(other, (str, int)) and str(other) == value
        if rule == "in":
            return value in _argument(rule, arg).split(",")
        if rule == "regex":
            return re.fullmatch(_argument(rule, arg), value) is not None
        # ThinkPHP's custom rules: a method of the validator named after the rule.
        custom = getattr(self, f"rule_{rule}", None)
        if custom is not None:
            return bool(custom(value, arg, data))
        raise ValueError(f"unknown validation rule {rule!r} on {type(self).__name__}.{name}")

    def _fail(self, name: str, rule: str, arg: str | None) -> None:
        label = self.field.get(name, Text(name, name))
        custom = self.message.get(f"{name}.{rule}")
        template = custom or DEFAULT_MESSAGES.get(rule, DEFAULT_MESSAGES["regex"])
        reason = Text(template.zh.format(label=label.zh, arg=arg), template.en.format(label=label.en, arg=arg))
        raise ApiException("PARAM_INVALID", field=name, reason=reason)
