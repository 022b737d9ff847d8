"""Each version's envelope as JSON Schema: v1 ThinkPHP {message, data, errorcode}, v2 Hyperf
{code, msg, status, data}; and the catalog as the document lists it."""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from app.common.error import Answer
from app.common.openapi.schemas import SMS_CODE_IN_DEBUG, obj


def catalog_entry(answer: Answer) -> dict[str, Any]:
    entry: dict[str, Any] = {"name": answer.name, "v1": answer.v1, "v2": answer.v2, "http": answer.http,
                             "zh": answer.zh, "en": answer.en}
    if answer.v2_zh is not None:
        entry["v2_zh"], entry["v2_en"] = answer.v2_zh, answer.v2_en
    return entry


def empty_data(version: str) -> dict[str, Any]:
    """No data: `{}` in v1, `[]` in v2."""
    return {"type": "object", "maxProperties": 0} if version == "v1" else {"type": "array", "maxItems": 0}


def data_schema(version: str, declared: Any) -> Any:
    """The schema of a success's `data` in `version`, from the action's declaration."""
    if declared == SMS_CODE_IN_DEBUG:
        # the same document whatever APP_DEBUG is: it must not tell a caller whether debug mode is on
        return {"anyOf": [empty_data(version), obj({"code": {"type": "string", "pattern": "^[0-9]{6}$"}})],
                "description": "empty; the code itself only in debug mode (APP_DEBUG=1), and never for a reset to a phone without an account"}
    return declared


def success_schema(version: str, answer: Answer, data: Any) -> dict[str, Any]:
    data_schema = empty_data(version) if data is None else data
    if version == "v1":
        return {"type": "object", "required": ["message", "data", "errorcode"], "additionalProperties": False,
                "properties": {"message": {"type": "string", "examples": [answer.zh]},
                               "data": data_schema, "errorcode": {"const": 0}}}
    return {"type": "object", "required": ["code", "msg", "status", "data"], "additionalProperties": False,
            "properties": {"code": {"const": answer.v2}, "msg": {"type": "string", "examples": [answer.v2_zh or answer.zh]},
                           "status": {"const": True}, "data": data_schema}}


def error_schema(version: str, codes: Iterable[int], with_trace: bool) -> dict[str, Any]:
    codes = sorted(set(codes))
    code_schema: dict[str, Any] = {"const": codes[0]} if len(codes) == 1 else {"enum": codes}
    if version == "v1":
        properties = {"message": {"type": "string", "minLength": 1}, "data": empty_data(version), "errorcode": code_schema}
        required = ["message", "data", "errorcode"]
    else:
        properties = {"code": code_schema, "msg": {"type": "string", "minLength": 1},
                      "status": {"const": False}, "data": empty_data(version)}
        required = ["code", "msg", "status", "data"]
    if with_trace:
        properties["trace"] = {"type": "array", "items": {"type": "string"},
                               "description": "the traceback, in debug mode (APP_DEBUG=1) only"}
    return {"type": "object", "required": required, "properties": properties, "additionalProperties": False}
