"""Validator of user data: registration (v2 endpoint) and the user:create admin command."""
from __future__ import annotations

from app.common.text import Text
from app.validate.base import BaseValidate


class UserCreate(BaseValidate):
    rule = {
        # Not only digits: an all-digit account would be confused with a phone at login.
        "account": ["require", "max:32", ("regex", r"^(?!\d+$)[\w.@-]+$")],
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
        "password.regex": Text("密码只能是字母、数字和下划线", "password may hold only letters, digits and _"),
        "password_confirmation.confirm": Text("两次输入的密码不一致", "the passwords do not match"),
    }
    scene = {
        "register": ["account", "password", "password_confirmation", "phone", "code"],
        "admin": ["account", "phone", "password"],
        "password": ["password"],
    }
