"""Validator of user data: registration (v2 endpoint) and the user:create admin command."""
from __future__ import annotations

import re
import unicodedata
from typing import Any

from app.common.text import Text
from app.model.user import account_key
from app.validate.base import BaseValidate

# Not only digits: an all-digit account would be confused with a phone at login.
ACCOUNT_PATTERN = r"^(?!\d+$)[\w.@-]+$"
_ACCOUNT = re.compile(ACCOUNT_PATTERN)
# Control, format (zero-width joiners, direction marks), surrogate, private-use and unassigned.
_INVISIBLE = {"Cc", "Cf", "Cs", "Co", "Cn"}
# Scripts whose letters pass for each other (Cyrillic `а`, Greek `ο`, Latin `a`, `o`): one per name.
_LOOKALIKE_SCRIPTS = {"LATIN", "CYRILLIC", "GREEK"}


def _scripts(text: str) -> set[str]:
    return {unicodedata.name(ch, "?").split()[0] for ch in text if ch.isalpha()}


class UserCreate(BaseValidate):
    rule = {
        # `regex` is the shape (and the docs' pattern); `account` what the shape cannot say (SPEC §10).
        "account": ["require", "max:32", ("regex", ACCOUNT_PATTERN), "account"],
        "password": ["require", "length:6,32", ("regex", r"^[A-Za-z0-9_]+$")],
        "password_confirmation": "require|confirm:password",
        "phone": "require|mobile",
        "code": "require|length:6|number",
    }
    field = {
        "account": Text("用户名", "account"),
        "password": Text("密码", "password"),
        "password_confirmation": Text("确认密码", "password confirmation"),
        "phone": Text("手机号", "phone"),
        "code": Text("手机验证码", "SMS code"),
    }
    message = {
        "account.regex": Text("用户名只能是字母、数字、下划线、点、@ 和 -，且不能全是数字",
                              "account may hold letters, digits, _ . @ - and must not be all digits"),
        "account.account": Text("用户名不能含不可见字符，也不能混用拉丁、西里尔和希腊字母",
                                "account must hold no invisible characters nor mix Latin, Cyrillic and Greek letters"),
        "password.regex": Text("密码只能是字母、数字和下划线", "password may hold only letters, digits and _"),
        "password_confirmation.confirm": Text("两次输入的密码不一致", "the passwords do not match"),
    }
    scene = {
        "register": ["account", "password", "password_confirmation", "phone", "code"],
        "admin": ["account", "phone", "password"],
        "password": ["password"],
    }

    @staticmethod
    def rule_account(value: str, arg: Any, data: dict[str, Any]) -> bool:
        """No invisible characters; the compared form (NFKC, folded) keeps the shape; one look-alike script at most."""
        if any(unicodedata.category(ch) in _INVISIBLE for ch in value):
            return False
        key = account_key(value)
        # The compared form must pass too: `①②` would fold to the all-digit `12`, `㍿` grow past 32.
        return (_ACCOUNT.fullmatch(key) is not None and len(key) <= 32
                and len(_scripts(key) & _LOOKALIKE_SCRIPTS) <= 1)
