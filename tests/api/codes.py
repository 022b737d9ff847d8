"""(v1 code, v2 code, HTTP status) of the errors the API tests meet.

The documents fix some codes (SPEC §3); those are written out. The rest are the service's own,
read from the catalog, which is their single source (tests/unit/test_catalog.py checks its shape).
"""
from __future__ import annotations

from app.common.error import answer


def _own(name: str) -> tuple[int, int, int]:
    a = answer(name)
    return a.v1, a.v2, a.http


USERNAME_INVALID = (60000, 9906, 400)          # validation of username / account / phone
PASSWORD_INVALID = (60001, 9906, 400)          # validation of password
LOGIN_FAILED = (60001, 50006, 401)
REQUEST_EXPIRED = (60003, answer("REQUEST_EXPIRED").v2, 400)
UNKNOWN_ERROR = (60004, answer("UNKNOWN_ERROR").v2, 500)
TIMESTAMP_INVALID = (60005, answer("TIMESTAMP_INVALID").v2, 400)
PARAM_INVALID = (60006, 9906, 400)
SIGN_INVALID = (60007, answer("SIGN_INVALID").v2, 401)
PARAMS_UNREADABLE = (60008, answer("PARAMS_UNREADABLE").v2, 400)
USER_NOT_FOUND = (60009, 50006, 401)
TOKEN_INVALID = (60010, 9908, 401)
TOKEN_EXPIRED = (60011, 9908, 401)
ROUTE_NOT_FOUND = (_own("ROUTE_NOT_FOUND")[0], _own("ROUTE_NOT_FOUND")[1], 404)
METHOD_NOT_ALLOWED = (_own("METHOD_NOT_ALLOWED")[0], _own("METHOD_NOT_ALLOWED")[1], 405)
BODY_TOO_LARGE = (_own("BODY_TOO_LARGE")[0], _own("BODY_TOO_LARGE")[1], 413)
UNSUPPORTED_MEDIA_TYPE = (_own("UNSUPPORTED_MEDIA_TYPE")[0], _own("UNSUPPORTED_MEDIA_TYPE")[1], 415)
REQUEST_REPLAYED = (60016, answer("REQUEST_REPLAYED").v2, 401)
