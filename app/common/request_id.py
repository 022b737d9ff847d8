"""Request ids (SPEC §14): one per request, in its response, its log lines and its 60004 message.

The id is the client's `X-Request-Id` when that is at most 64 safe characters (so a caller can
follow one request through its own logs and ours), otherwise a fresh random one. It lives in a
context variable: each request runs in its own task, and anyio hands the context to the worker
threads that run its queries, so every log line written on the request's behalf can carry it.
"""
from __future__ import annotations

import json
import logging
import random
import time
from contextvars import ContextVar
from typing import Any

_SAFE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-")
MAX_LENGTH = 64

current: ContextVar[str | None] = ContextVar("request_id", default=None)


def request_id_for(given: str | None) -> str:
    """`given` if it is a safe id (1-64 of `[A-Za-z0-9._-]`), else a new random one."""
    if given and len(given) <= MAX_LENGTH and _SAFE.issuperset(given):
        return given
    # 64 random bits as 16 hex digits. An id names a request, it guards nothing, so the fast
    # generator serves (secrets.token_hex makes a system call: twice the cost on every request).
    return f"{random.getrandbits(64):016x}"


class RequestIdFilter(logging.Filter):
    """Puts the current request's id (or `-` outside a request) on every record as `request_id`."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current.get() or "-"
        return True


class JsonFormatter(logging.Formatter):
    """LOG_FORMAT=json: one JSON object per line, for log collectors."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or current.get() or "-",
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s"


def make_formatter(log_format: str) -> logging.Formatter:
    return JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT)


def uvicorn_json_config(level: str) -> dict[str, Any]:
    """uvicorn's own loggers (start, stop, its errors) as JSON lines too, for LOG_FORMAT=json."""
    return {
        "version": 1, "disable_existing_loggers": False,
        "formatters": {"json": {"()": f"{__name__}.JsonFormatter"}},
        "handlers": {"json": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}},
        "loggers": {"uvicorn": {"handlers": ["json"], "level": level.upper(), "propagate": False}},
    }
