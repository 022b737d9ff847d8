"""Validator of the admin user API and its exports (SPEC §14)."""
from __future__ import annotations

from app.common.text import Text
from app.validate.base import BaseValidate

# Unix seconds: from the epoch to the end of 32-bit time, so no database overflows comparing.
_UNIX = "integer|between:0,4294967295"
_USER_FILTERS = ["keyword?", "status?"]
_AUDIT_FILTERS = ["uid?", "event?", "since?", "until?"]


class Admin(BaseValidate):
    rule = {
        "page": "integer|between:1,100000",
        "limit": "integer|between:1,100",
        # An export's optional cap on rows; without it every matching row is exported.
        "max_rows": "integer|between:1,10000000",
        "uid": "require|integer|between:1,2147483647",
        "keyword": "max:64",
        "status": "in:0,1",
        "event": ["max:32", ("regex", r"^[a-z0-9_.]+$")],
        "since": _UNIX,
        "until": _UNIX,
        "format": "require|in:csv,xlsx",
    }
    field = {
        "page": Text("页码", "page"), "limit": Text("每页条数", "limit"), "max_rows": Text("最多行数", "max_rows"),
        "uid": Text("用户ID", "uid"), "keyword": Text("关键词", "keyword"), "status": Text("状态", "status"),
        "event": Text("事件", "event"), "since": Text("开始时间", "since"), "until": Text("结束时间", "until"),
        "format": Text("导出格式", "format"),
    }
    message = {
        "event.regex": Text("事件只能是小写字母、数字、_ 和 .",
                            "event may hold only lowercase letters, digits, _ and ."),
        "status.in": Text("状态只能是 0（禁用）或 1（正常）", "status must be 0 (disabled) or 1 (active)"),
    }
    scene = {
        "user_list": ["page", "limit", *_USER_FILTERS],
        "user": ["uid"],
        "audit_list": ["page", "limit", *_AUDIT_FILTERS],
        "user_export": ["format", "max_rows", *_USER_FILTERS],
        "audit_export": ["format", "max_rows", *_AUDIT_FILTERS],
    }
