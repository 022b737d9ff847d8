"""Validator of the account lifecycle (SPEC §11): SMS login, passwords, phone, sessions, deletion."""
from __future__ import annotations

from app.common.text import Text
from app.validate.base import BaseValidate
from app.validate.user import UserCreate

# Every login endpoint takes these (SPEC §11 "Sessions"); app/validate/login.py and jwt.py list them too.
SESSION_RULES = {"platform": "in:ios,android,web,mini,other", "device": "max:64"}
SESSION_FIELDS = {"platform": Text("平台", "platform"), "device": Text("设备", "device")}


class Account(BaseValidate):
    rule = {
        "phone": "require|mobile",
        "code": "require|length:6|number",
        # A new password follows registration's rules.
        "password": UserCreate.rule["password"],
        "password_confirmation": "require|confirm:password",
        # The current password: whatever it is, it is only compared.
        "old_password": "require|max:128",
        **SESSION_RULES,
        "sid": ["require", ("regex", r"^[0-9a-f]{32}$")],
        "scope": "require|in:others,all",
        "captcha_id": "max:64",
        "captcha_code": "max:16",
    }
    field = {
        "phone": Text("手机号", "phone"),
        "code": Text("手机验证码", "SMS code"),
        "password": Text("密码", "password"),
        "password_confirmation": Text("确认密码", "password confirmation"),
        "old_password": Text("原密码", "old password"),
        **SESSION_FIELDS,
        "sid": Text("会话ID", "session id"),
        "scope": Text("范围", "scope"),
        "captcha_id": Text("图形验证码ID", "captcha id"),
        "captcha_code": Text("图形验证码", "captcha code"),
    }
    message = {
        "password.regex": UserCreate.message["password.regex"],
        "password_confirmation.confirm": UserCreate.message["password_confirmation.confirm"],
    }
    scene = {
        "login_sms": ["phone", "code", "platform", "device"],
        "reset": ["phone", "code", "password", "password_confirmation"],
        # old_password may be left out by a user who has none yet (created by login/sms).
        "change_password": ["old_password?", "password", "password_confirmation", "captcha_id", "captcha_code"],
        "change_phone": ["phone", "code", "password?", "captcha_id", "captcha_code"],
        "delete": ["password?", "code?", "captcha_id", "captcha_code"],
        "end_session": ["sid?", "scope?"],
    }
