"""Validator of the JWT endpoints (Hyperf doc: 登录(获取Jwt), 刷新Jwt, 使Jwt失效, 获取Jwt状态)."""
from __future__ import annotations

from app.common.text import Text
from app.validate.base import BaseValidate


class Jwt(BaseValidate):
    rule = {
        "account": "require|max:64",
        "pwd": "require|max:128",
        "jwt": "require|max:4096",
    }
    field = {
        "account": Text("用户名", "account"),
        "pwd": Text("密码", "password"),
        "jwt": Text("jwt", "jwt"),
    }
    scene = {
        "get": ["account", "pwd"],
        "token": ["jwt"],
    }
