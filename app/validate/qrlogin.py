"""Validator of QR login and the member code (SPEC §12)."""
from __future__ import annotations

from app.common.text import Text
from app.validate.base import BaseValidate


class QrLogin(BaseValidate):
    rule = {
        "platform": "in:ios,android,web,mini,other",
        # secrets.token_urlsafe: letters, digits, - and _
        "ticket": "require|max:64|alphaDash",
        "poll_secret": "require|max:128|alphaDash",
        "wait": "integer|between:0,25",
    }
    field = {
        "platform": Text("平台", "platform"),
        "ticket": Text("二维码票据", "ticket"),
        "poll_secret": Text("轮询密钥", "poll secret"),
        "wait": Text("等待秒数", "wait"),
    }
    scene = {
        "create": ["platform"],
        "poll": ["ticket", "poll_secret", "wait"],
        "ticket": ["ticket"],
    }


class MemberCode(BaseValidate):
    rule = {"code": "require|length:18|number"}
    field = {"code": Text("会员码", "member code")}
