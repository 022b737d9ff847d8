"""Validator of the login endpoints (ThinkPHP doc: 创建Login 验证器 继承 BaseValidate)."""
from __future__ import annotations

from app.common.text import Text
from app.validate.account import SESSION_FIELDS, SESSION_RULES
from app.validate.base import BaseValidate


class Login(BaseValidate):
    rule = {
        "username": "require|max:64",
        "password": "require|max:128",
        # Checked by the Common controller (60005/60003) when signing is on; listed for the docs.
        "timestamp": "require|integer",
        # Asked for after LOGIN_CAPTCHA_AFTER failures (SPEC §8).
        "captcha_id": "max:64",
        "captcha_code": "max:16",
        **SESSION_RULES,
    }
    field = {
        "username": Text("用户名", "username"),
        "password": Text("密码", "password"),
        "timestamp": Text("时间戳", "timestamp"),
        "captcha_id": Text("图形验证码ID", "captcha id"),
        "captcha_code": Text("图形验证码", "captcha code"),
        **SESSION_FIELDS,
    }
    scene = {
        "login": ["username", "password", "captcha_id", "captcha_code", "platform", "device"],
    }
