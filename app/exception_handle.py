"""The only place exceptions become responses: every error leaves in the version's envelope."""
from __future__ import annotations

import logging
import secrets
import string
import traceback
from typing import Any

from peewee import InterfaceError, OperationalError

from app.common.cache.base import CacheUnavailable
from app.common.error import ApiException, answer
from app.common.request_id import current as current_request_id
from app.common.response import JsonResponse, render
from app.common.text import Text
from app.request import ApiRequest

log = logging.getLogger("login_api.error")
_formatter = string.Formatter()


class _Fields(dict[str, object]):
    """Fills a message's placeholders; a missing one becomes empty rather than a second error."""

    def __init__(self, fields: dict[str, Any], lang: str):
        super().__init__({k: v.pick(lang) if isinstance(v, Text) else v for k, v in fields.items()})

    def __missing__(self, key: str) -> str:
        return ""


def render_exception(request: ApiRequest, exc: BaseException, debug: bool) -> JsonResponse:
    """The version's error envelope for `exc`, with the request's id (X-Request-Id); unexpected
    exceptions are logged with it, and 60004's message names it."""
    request_id = current_request_id.get() or secrets.token_hex(8)
    if isinstance(exc, CacheUnavailable):
        # A check that cannot reach its state refuses the request (never skips): the catalog's 503.
        exc = ApiException("SERVICE_UNAVAILABLE")
    if isinstance(exc, ApiException):
        template = exc.answer.message(request.version, request.lang)
        message = _formatter.vformat(template, (), _Fields(exc.fields, request.lang))
        return render(request.version, exc.answer, request.lang, message=message,
                      code=exc.code(request.version), headers={**exc.headers, "X-Request-Id": request_id})
    if isinstance(exc, (OperationalError, InterfaceError)):
        # The database is away or overloaded: retryable, and said so, never a false "ok".
        log.warning("database unavailable for %s (request id %s): %s", request.scope.get("path"), request_id, exc)
        return render(request.version, answer("SERVICE_UNAVAILABLE"), request.lang,
                      headers={"X-Request-Id": request_id, "Retry-After": "1"})
    log.error("request %s %s failed (request id %s)", request.scope.get("method"), request.scope.get("path"),
              request_id, exc_info=exc)
    unknown = answer("UNKNOWN_ERROR")
    message = unknown.message(request.version, request.lang).format(request_id=request_id)
    extra = {"trace": traceback.format_exception(exc)} if debug else None
    return render(request.version, unknown, request.lang, message=message,
                  headers={"X-Request-Id": request_id}, extra=extra)
