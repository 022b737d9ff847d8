"""Validator of the JWT endpoints (Hyperf doc: 登录(获取Jwt), 刷新Jwt, 使Jwt失效, 获取Jwt状态)."""
from __future__ import annotations

from app.common.text import Text
from app.validate.account import SESSION_FIELDS, SESSION_RULES
from app.validate.base import BaseValidate


class Jwt(BaseValidate):
    rule = {
        "account": "require|max:64",
        "pwd": "require|max:128",
        "jwt": "require|max:4096",
        # SPEC §11: 1 rotates the refresh token (REFRESH_ROTATE=1 rotates every refresh).
        "rotate": "in:0,1",
        **SESSION_RULES,
    }
    field = {
        "account": Text("用户名", "account"),
        "pwd": Text("密码", "password"),
        "jwt": Text("jwt", "jwt"),
        "rotate": Text("轮换", "rotate"),
        **SESSION_FIELDS,
    }
    scene = {
        "get": ["account", "pwd", "platform", "device"],
        "token": ["jwt"],
        "refresh": ["jwt", "rotate"],
    }
