"""Validator of the SMS endpoint (Hyperf doc: 发送短信验证码)."""
from __future__ import annotations

from app.common.text import Text
from app.validate.base import BaseValidate


class Sms(BaseValidate):
    rule = {"phone": "require|mobile"}
    field = {"phone": Text("手机号", "phone")}
    scene = {"send": ["phone"]}
