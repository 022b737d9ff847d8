"""Envelopes per version: v1 is ThinkPHP's {message, data, errorcode}, v2 Hyperf's {code, msg, status, data}."""
from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from starlette.responses import Response

from app.common.error import Answer

_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode


# Sent with every envelope, success or error. Answers carry tokens, SMS and captcha data, and even
# an error is about one caller: nothing here may be kept by a browser or a shared cache (ASVS
# 3.1.1; one rule instead of a list of endpoints that could miss one). nosniff: JSON is never
# run as a script or a page (SPEC §10). Constant bytes appended to the header list: no cost.
_SAFETY_HEADERS = ((b"cache-control", b"no-store"), (b"x-content-type-options", b"nosniff"))


class JsonResponse(Response):
    """A response whose body is already encoded; avoids Starlette re-serialising the envelope."""

    media_type = "application/json"

    def init_headers(self, headers: Mapping[str, str] | None = None) -> None:
        super().init_headers(headers)
        self.raw_headers.extend(_SAFETY_HEADERS)


def envelope(version: str, answer: Answer, lang: str, data: Any = None, message: str | None = None,
             code: int | None = None) -> dict[str, Any]:
    """The body of one answer in the version's shape; errors carry `{}` (v1) or `[]` (v2) as data."""
    ok = answer.http < 400
    msg = message if message is not None else answer.message(version, lang)
    if version == "v1":
        return {"message": msg, "data": data if ok and data is not None else {},
                "errorcode": code if code is not None else answer.v1}
    return {"code": code if code is not None else answer.v2, "msg": msg, "status": ok,
            "data": data if ok and data is not None else []}


def render(version: str, answer: Answer, lang: str, data: Any = None, *, message: str | None = None,
           code: int | None = None, headers: dict[str, str] | None = None,
           extra: dict[str, Any] | None = None) -> JsonResponse:
    """Encode an answer as the version's JSON envelope with the catalog's HTTP status."""
    body = envelope(version, answer, lang, data, message, code)
    if extra:
        body.update(extra)
    return JsonResponse(_dumps(body).encode("utf-8"), status_code=answer.http, headers=headers)
