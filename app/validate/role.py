"""Validator of the role API (Hyperf doc sidebar: 角色相关)."""
from __future__ import annotations

import unicodedata
from typing import Any

from app.common.permission import PERMISSION_PATTERN
from app.common.text import Text
from app.validate.base import BaseValidate

# Limits of the list rules below; the OpenAPI document states the same (app/common/openapi/fields.py).
LIST_MAX_ITEMS = 100
ID_MAX = 2147483647  # a signed 32-bit column
PERMISSION_MAX_LENGTH = 64
_ID = f"require|integer|between:1,{ID_MAX}"
# Not plain text in a title (SPEC §10): C0/C1 controls, line and paragraph separators, lone
# surrogates (no database stores them), and the bidirectional controls that make a title
# display as something else than it says.
_NOT_PLAIN = {"Cc", "Cs", "Zl", "Zp"}
_BIDI_CONTROLS = set("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


class Role(BaseValidate):
    rule = {
        "page": "integer|between:1,100000",
        "limit": "integer|between:1,100",
        "id": _ID,
        "uid": _ID,
        "name": ["require", "max:32", ("regex", r"^[a-z][a-z0-9_-]*$")],
        "title": "require|max:64|plainText",
        "permissions": "require|array|permissionList",
        "rid": "require|array|idList",
    }
    field = {
        "page": Text("页码", "page"), "limit": Text("每页条数", "limit"), "id": Text("角色ID", "id"),
        "uid": Text("用户ID", "uid"), "name": Text("角色名", "name"), "title": Text("角色标题", "title"),
        "permissions": Text("权限列表", "permissions"), "rid": Text("角色ID列表", "rid"),
    }
    message = {
        "name.regex": Text("角色名只能是小写字母开头的字母、数字、_ 和 -",
                           "name must be lowercase letters, digits, _ or -, starting with a letter"),
        "permissions.permissionList": Text("权限列表必须是最多 100 个形如 role/create、role/* 或 * 的字符串",
                                           "permissions must be at most 100 strings like role/create, role/* or *"),
        "title.plainText": Text("角色标题不能含控制字符", "title must not hold control characters"),
        "rid.idList": Text("角色ID列表必须是最多 100 个正整数", "rid must be at most 100 positive integers"),
    }
    scene = {
        "list": ["page", "limit"],
        "create": ["name", "title", "permissions"],
        "update": ["id", "title?", "permissions?"],
        "delete": ["id"],
        "assign": ["uid", "rid"],
        "user": ["uid"],
    }

    @staticmethod
    def rule_permissionList(value: list[Any], arg: str | None, data: dict[str, Any]) -> bool:
        return len(value) <= LIST_MAX_ITEMS and all(
            isinstance(item, str) and len(item) <= PERMISSION_MAX_LENGTH and PERMISSION_PATTERN.fullmatch(item) for item in value)

    @staticmethod
    def rule_plainText(value: str, arg: str | None, data: dict[str, Any]) -> bool:
        return not any(unicodedata.category(char) in _NOT_PLAIN or char in _BIDI_CONTROLS for char in value)

    @staticmethod
    def rule_idList(value: list[Any], arg: str | None, data: dict[str, Any]) -> bool:
        def is_id(item: Any) -> bool:
            if isinstance(item, str) and item.isascii() and item.isdigit():
                item = int(item)
            return isinstance(item, int) and not isinstance(item, bool) and 0 < item <= ID_MAX
        return len(value) <= LIST_MAX_ITEMS and all(is_id(item) for item in value)
