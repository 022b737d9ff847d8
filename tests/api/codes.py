"""(v1 code, v2 code, HTTP status) of the errors the API tests meet, as published.

Written out, never read from the catalog: clients hard-code these numbers, so renumbering one in
app/common/error.py must fail a test (tests/unit/test_catalog.py checks every entry the same way).
"""
from __future__ import annotations

# Fixed by the documents (SPEC §3).
USERNAME_INVALID = (60000, 9906, 400)          # validation of username / account / phone
PASSWORD_INVALID = (60001, 9906, 400)          # validation of password
LOGIN_FAILED = (60001, 50006, 401)
REQUEST_EXPIRED = (60003, 9903, 400)
UNKNOWN_ERROR = (60004, 9900, 500)
TIMESTAMP_INVALID = (60005, 9902, 400)
PARAM_INVALID = (60006, 9906, 400)
SIGN_INVALID = (60007, 9907, 401)
PARAMS_UNREADABLE = (60008, 9909, 400)
USER_NOT_FOUND = (60009, 50006, 401)
TOKEN_INVALID = (60010, 9908, 401)
TOKEN_EXPIRED = (60011, 9908, 401)
SMS_STILL_VALID = (60025, 50017, 400)
# The service's own, published in the README's error table.
ROUTE_NOT_FOUND = (60012, 9904, 404)
METHOD_NOT_ALLOWED = (60013, 9905, 405)
BODY_TOO_LARGE = (60014, 9910, 413)
UNSUPPORTED_MEDIA_TYPE = (60015, 9911, 415)
REQUEST_REPLAYED = (60016, 9912, 401)
ACCOUNT_TAKEN = (60020, 50001, 400)
PHONE_TAKEN = (60021, 50002, 400)
SMS_CODE_WRONG = (60022, 50003, 400)
SMS_SEND_FAILED = (60023, 50004, 502)
SMS_LIMITED = (60024, 50005, 429)
