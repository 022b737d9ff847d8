"""Validator of user data: registration (v2 endpoint) and the user:create admin command."""
from __future__ import annotations

import re
import unicodedata
from typing import Any

from app.common.text import Text
from app.model.user import account_key
from app.validate.base import BaseValidate

# Not only digits: an all-digit account would be confused with a phone at login.
_ACCOUNT = re.compile(r"^(?!\d+$)[\w.@-]{1,32}$")
# Control, format (zero-width joiners, direction marks), surrogate, private-use and unassigned.
_INVISIBLE = {"Cc", "Cf", "Cs", "Co", "Cn"}
# Scripts whose letters pass for each other (Cyrillic `а`, Greek `ο`, Latin `a`, `o`): one per name.
_LOOKALIKE_SCRIPTS = {"LATIN", "CYRILLIC", "GREEK"}


def _scripts(text: str) -> set[str]:
    return {unicodedata.name(ch, "?").split()[0] for ch in text if ch.isalpha()}


class UserCreate(BaseValidate):
    rule = {
        "account": ["require", "max:32", "account"],
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
        "account.account": Text("用户名只能是字母、数字、下划线、点、@ 和 -，不能全是数字，也不能混用拉丁、西里尔和希腊字母",
                                "account may hold letters, digits, _ . @ - and must not be all digits "
                                "nor mix Latin, Cyrillic and Greek letters"),
        "password.regex": Text("密码只能是字母、数字和下划线", "password may hold only letters, digits and _"),
        "password_confirmation.confirm": Text("两次输入的密码不一致", "the passwords do not match"),
    }
    scene = {
        "register": ["account", "password", "password_confirmation", "phone", "code"],
        "admin": ["account", "phone", "password"],
    }

    @staticmethod
    def rule_account(value: str, arg: Any, data: dict[str, Any]) -> bool:
        """As typed and as compared (NFKC, folded): no invisible characters, one look-alike script at most."""
        if any(unicodedata.category(ch) in _INVISIBLE for ch in value):
            return False
        key = account_key(value)
        # The compared form must pass too: `①②` would fold to the all-digit `12`, `㍿` grow past 32.
        return (_ACCOUNT.fullmatch(value) is not None and _ACCOUNT.fullmatch(key) is not None
                and len(_scripts(key) & _LOOKALIKE_SCRIPTS) <= 1)
