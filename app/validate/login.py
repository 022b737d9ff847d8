"""Validator of the login endpoints (ThinkPHP doc: 创建Login 验证器 继承 BaseValidate)."""
from __future__ import annotations

from app.common.text import Text
from app.validate.base import BaseValidate


class Login(BaseValidate):
    rule = {
        "username": "require|max:64",
        "password": "require|max:128",
        "timestamp": "require|integer",
    }
    field = {
        "username": Text("用户名", "username"),
        "password": Text("密码", "password"),
        "timestamp": Text("时间戳", "timestamp"),
    }
    scene = {
        # timestamp is checked by the Common controller when signing is on; required here as the doc lists it.
        "login": ["username", "password"],
    }
