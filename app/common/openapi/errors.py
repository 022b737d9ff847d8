"""Which catalog errors a route can answer: the ones every request can, its middleware's, its
fields', and the business errors its action declares (named groups of them below)."""
from __future__ import annotations

from collections.abc import Iterable

from app.common.error import BY_NAME, CATALOG, V1_FIELD_CODES
from app.common.route import RouteRule
from app.common.rsa_transport import PASSWORD_FIELDS
from config import Settings

# Errors any signed API request can answer, before its action runs (request reading, the Common
# controller's checks, the shared cache, an unexpected failure).
COMMON_ERRORS: tuple[str, ...] = (
    "PARAM_INVALID", "PARAMS_UNREADABLE", "BODY_TOO_LARGE", "UNSUPPORTED_MEDIA_TYPE",
    "TIMESTAMP_INVALID", "REQUEST_EXPIRED", "SIGN_INVALID", "REQUEST_REPLAYED",
    "SERVICE_UNAVAILABLE", "UNKNOWN_ERROR",
)
# Only when signing is on (SIGN_REQUIRED=1).
SIGN_ERRORS = frozenset({"TIMESTAMP_INVALID", "REQUEST_EXPIRED", "SIGN_INVALID", "REQUEST_REPLAYED"})
# What a middleware alias adds to every route that names it.
MIDDLEWARE_ERRORS: dict[str, tuple[str, ...]] = {
    "checkLogin": ("TOKEN_INVALID", "TOKEN_EXPIRED"),
    "checkPermission": ("PERMISSION_DENIED",),
}
# Answers of paths and methods that no route serves (the dispatcher's own).
ROUTING_ERRORS: tuple[str, ...] = ("ROUTE_NOT_FOUND", "METHOD_NOT_ALLOWED")

# Business errors several actions share, for their declarations (`@action(..., errors=...)`).
LOGIN_ERRORS = ("LOGIN_FAILED", "USER_NOT_FOUND", "CAPTCHA_REQUIRED", "CAPTCHA_WRONG", "LOGIN_THROTTLED")
TOKEN_ERRORS = ("TOKEN_INVALID", "TOKEN_EXPIRED")
SMS_CODE_ERRORS = ("SMS_CODE_WRONG", "SMS_VERIFY_LIMITED")
# A current password is checked under the login lockout (SPEC §11).
REAUTH_ERRORS = ("OLD_PASSWORD_WRONG", "CAPTCHA_REQUIRED", "CAPTCHA_WRONG", "LOGIN_THROTTLED")
# An administrator acting on a user (SPEC §14).
ACT_ON_USER_ERRORS = ("NOT_FOUND", "PERMISSION_ESCALATION")


def _field_errors(fields: Iterable[str]) -> list[str]:
    """Catalog entries that are a validation failure of one of `fields` under a name of their own:
    the same HTTP status and v2 code as PARAM_INVALID, and the field's v1 code (USERNAME_INVALID)."""
    invalid = BY_NAME["PARAM_INVALID"]
    codes = {V1_FIELD_CODES[f] for f in fields if f in V1_FIELD_CODES}
    return [a.name for a in CATALOG if a.name != invalid.name and a.v1 in codes
            and (a.v2, a.http) == (invalid.v2, invalid.http)]


def route_errors(rule: RouteRule, settings: Settings, fields: Iterable[str] = (),
                 declared: Iterable[str] = ()) -> list[str]:
    """Every catalog name the route can answer with, in catalog order; `declared`: its action's own."""
    fields = list(fields)
    names = [n for n in COMMON_ERRORS if settings.SIGN_REQUIRED or n not in SIGN_ERRORS]
    names += _field_errors(fields)
    if any(field in PASSWORD_FIELDS for field in fields):
        names.append("ENCRYPTED_FIELD_INVALID")
    for alias in rule.middlewares:
        names += MIDDLEWARE_ERRORS.get(alias.partition(":")[0], ())
    names += declared
    wanted = set(names)
    return [a.name for a in CATALOG if a.name in wanted]


def error_codes(version: str, name: str, fields: Iterable[str]) -> set[int]:
    """The codes of one catalog error in `version`; v1 validation answers with each field's own code."""
    answer = BY_NAME[name]
    if version == "v1" and name == "PARAM_INVALID":
        return {answer.v1} | {V1_FIELD_CODES.get(f, answer.v1) for f in fields}
    return {answer.code(version)}


def code_line(code: str, named: list[tuple[str, str]]) -> str:
    """`- `9906` PARAM_INVALID / USERNAME_INVALID: message`: one line per code; different messages are each given."""
    messages = list(dict.fromkeys(message for _, message in named))
    return f"- `{code}` {' / '.join(name for name, _ in named)}: {' / '.join(messages)}"
