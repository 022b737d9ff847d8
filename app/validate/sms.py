"""Validator of the SMS endpoint (Hyperf doc: 发送短信验证码)."""
from __future__ import annotations

from app.common.text import Text
from app.validate.base import BaseValidate


class Sms(BaseValidate):
    # scene (SPEC §11): what the code is for; a code is good only for its own scene.
    rule = {"phone": "require|mobile", "scene": "in:register,login,reset,change_phone"}
    field = {"phone": Text("手机号", "phone"), "scene": Text("场景", "scene")}
    scene = {"send": ["phone", "scene"]}
