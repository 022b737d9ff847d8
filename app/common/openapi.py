"""The OpenAPI 3.1 document of every API route of every version, generated from the code.

What comes from where, so the document cannot drift from the service:

- paths and guards: `route/app.py` (Route.rules) and each rule's middleware aliases;
- summaries: the first docstring line of each action (as the README's endpoint table);
- parameters: the validator and scene each action calls (`self.validate(Login, scene="login")`,
  read from the action's source) and that validator's `rule`, `field` and `scene`;
- the signature parameters, their requirement and the `sign` header: SPEC §4 and the settings;
- envelopes and codes: the error catalog (`app/common/error.py`) and `V1_FIELD_CODES`.

Only what code cannot tell is declared here, in ACTIONS: each action's success answer, the shape
of its `data`, and the business errors it can answer. tests/api/test_openapi.py fails when a route
has no entry, so a new route cannot be left out.
"""
from __future__ import annotations

import inspect
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from app.common.error import BY_NAME, CATALOG, V1_FIELD_CODES, Answer
from app.common.permission import PERMISSION_PATTERN
from app.common.route import Route, RouteRule
from app.common.rsa_transport import PASSWORD_FIELDS
from app.validate.base import BaseValidate

OPENAPI_VERSION = "3.1.0"
API_VERSION = "1.0.0"

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


def _obj(properties: dict[str, Any], required: Sequence[str] | None = None) -> dict[str, Any]:
    return {"type": "object", "properties": properties,
            "required": list(properties if required is None else required)}


_STR, _INT = {"type": "string"}, {"type": "integer"}
_DATE = {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$",
         "description": "`YYYY-MM-DD HH:MM:SS` in APP_TIMEZONE"}
_RIDS = {"type": "array", "items": {"type": "string", "pattern": "^[0-9]+$"},
         "description": "the user's role ids, as strings"}
_ROLE = _obj({"id": _INT, "name": _STR, "title": _STR, "permissions": {"type": "array", "items": _STR}})
_USER_ROLES = _obj({"uid": _INT, "roles": {"type": "array", "items": {"$ref": "#/components/schemas/Role"}},
                    "permissions": {"type": "array", "items": _STR}})
_ROLE_REF = {"$ref": "#/components/schemas/Role"}
_PNG = {"type": "string", "pattern": "^data:image/png;base64,", "description": "a PNG data URL"}
EMPTY = None  # an action that answers no data: `{}` in v1, `[]` in v2


@dataclass(frozen=True)
class Action:
    """What code cannot tell about an action: its success answer, its data, its own errors."""

    success: str = "OK"
    data: Any = EMPTY
    errors: tuple[str, ...] = ()
    # An action that answers a file on success (an export): its media types; errors stay envelopes.
    files: tuple[str, ...] = ()


_ACT_ON_USER = ("NOT_FOUND", "PERMISSION_ESCALATION")
_USER_STATUS = _obj({"uid": _INT, "status": {"enum": [0, 1]}, "sessions_ended": _INT})
_EXPORT_TYPES = ("text/csv; charset=utf-8", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
_ADMIN_USER = _obj({"uid": _INT, "account": _STR, "phone": {"type": "string", "description": "masked: 138****0000"},
                    "status": {"enum": [0, 1]}, "created_at": _INT, "updated_at": _INT})
_NULLABLE_STR, _NULLABLE_INT = {"type": ["string", "null"]}, {"type": ["integer", "null"]}
_AUDIT_ENTRY = _obj({"id": _INT, "created_at": _INT, "event": _STR, "outcome": _STR, "uid": _NULLABLE_INT,
                     "account": _NULLABLE_STR, "ip": _NULLABLE_STR, "detail": _NULLABLE_STR})


def _page_of(schema: str) -> dict[str, Any]:
    return _obj({"list": {"type": "array", "items": {"$ref": f"#/components/schemas/{schema}"}}, "total": _INT,
                 "page": _INT, "limit": _INT})


_LOGIN_ERRORS = ("LOGIN_FAILED", "USER_NOT_FOUND", "CAPTCHA_REQUIRED", "CAPTCHA_WRONG", "LOGIN_THROTTLED")
_TOKEN_ERRORS = ("TOKEN_INVALID", "TOKEN_EXPIRED")
_SMS_CODE_ERRORS = ("SMS_CODE_WRONG", "SMS_VERIFY_LIMITED")
# A current password is checked under the login lockout (SPEC §11).
_REAUTH_ERRORS = ("OLD_PASSWORD_WRONG", "CAPTCHA_REQUIRED", "CAPTCHA_WRONG", "LOGIN_THROTTLED")
_SESSION = _obj({"sid": _STR, "current": {"type": "boolean"},
                 "platform": {"type": "string", "enum": ["ios", "android", "web", "mini", "other"]},
                 "device": {"type": ["string", "null"]}, "ip": {"type": ["string", "null"]},
                 "user_agent": {"type": ["string", "null"]}, "created_at": _DATE, "last_seen_at": _DATE})

# Keyed by the route target without its version (`Login/login` for `<ver>.Login/login`).
ACTIONS: dict[str, Action] = {
    "Login/login": Action("LOGIN_OK", _obj({
        "token": {"type": "string", "description": "md5-style token (AUTH_DRIVER=md5) or an access JWT"},
        "expires_in": {"type": "integer", "description": "lifetime in seconds"},
        "expire_time": _DATE, "uid": _INT}), _LOGIN_ERRORS),
    "Login/test": Action("OK", _obj({"uid": _INT, "account": _STR, "phone": _STR, "rid": _RIDS})),
    "Login/register": Action("CREATED", EMPTY,
                             ("ACCOUNT_TAKEN", "PHONE_TAKEN", "SMS_CODE_WRONG", "SMS_VERIFY_LIMITED")),
    "Login/send_sms": Action("OK", "sms", ("SMS_STILL_VALID", "SMS_LIMITED", "SMS_CLIENT_LIMITED",
                                           "SMS_TOTAL_LIMITED", "SMS_SEND_FAILED", "CAPTCHA_REQUIRED",
                                           "CAPTCHA_WRONG") + _TOKEN_ERRORS),  # scene change_phone needs a login
    "Login/captcha": Action("OK", _obj({"captcha_id": _STR, "image": {
        "type": "string", "pattern": "^data:image/png;base64,", "description": "the captcha as a PNG data URL"}})),
    "Jwt/get": Action("LOGIN_OK", _obj({"jwt": {"type": "string", "description": "access JWT"},
                                        "refresh_jwt": {"type": "string", "description": "refresh JWT"}}),
                      _LOGIN_ERRORS),
    "Jwt/refresh": Action("OK", {"oneOf": [
        {"type": "string", "description": "the new access JWT"},
        _obj({"jwt": {"type": "string", "description": "the new access JWT"},
              "refresh_jwt": {"type": "string", "description": "the new refresh JWT; the one presented is used up"}},
             )], "description": "the access JWT as a string; with rotate=1 or REFRESH_ROTATE=1 {jwt, refresh_jwt}"},
        _TOKEN_ERRORS + ("REFRESH_IN_PROGRESS",)),
    "Jwt/deactivate": Action("OK", EMPTY, _TOKEN_ERRORS),
    "Jwt/status": Action("OK", _obj({
        "exp": {"type": "integer", "minimum": 0, "description": "seconds left"}, "uid": _INT,
        "jwt_data": _obj({"uid": _INT, "rid": _RIDS}), "exp_date": _DATE, "iat_date": _DATE}), _TOKEN_ERRORS),
    # Account lifecycle (SPEC §11)
    "Account/login_sms": Action("LOGIN_OK", _obj({
        "jwt": {"type": "string", "description": "access JWT"},
        "refresh_jwt": {"type": "string", "description": "refresh JWT"}, "uid": _INT,
        "registered": {"type": "boolean", "description": "true when this call created the account"}}),
        _SMS_CODE_ERRORS),
    "Account/password_reset": Action("OK", EMPTY, _SMS_CODE_ERRORS),
    "Account/password_change": Action("OK", EMPTY, _REAUTH_ERRORS),
    "Account/phone_change": Action("OK", _obj({"uid": _INT, "account": _STR, "phone": _STR, "rid": _RIDS}),
                                   _REAUTH_ERRORS + _SMS_CODE_ERRORS + ("PHONE_TAKEN",)),
    "Account/delete": Action("OK", EMPTY, _REAUTH_ERRORS + _SMS_CODE_ERRORS),
    "Session/list": Action("OK", _obj({"list": {"type": "array", "items": _SESSION}})),
    "Session/end": Action("OK", _obj({"ended": {"type": "integer", "minimum": 0}}), ("NOT_FOUND",)),
    "Role/list": Action("OK", _obj({"list": {"type": "array", "items": _ROLE_REF}, "total": _INT,
                                    "page": _INT, "limit": _INT})),
    "Role/create": Action("CREATED", _ROLE_REF, ("ROLE_NAME_TAKEN", "PERMISSION_ESCALATION")),
    "Role/update": Action("OK", _ROLE_REF, ("NOT_FOUND", "ROLE_PROTECTED", "PERMISSION_ESCALATION", "LAST_ADMIN")),
    "Role/delete": Action("OK", EMPTY, ("NOT_FOUND", "ROLE_PROTECTED", "PERMISSION_ESCALATION", "LAST_ADMIN")),
    "Role/assign": Action("OK", {"$ref": "#/components/schemas/UserRoles"},
                          ("NOT_FOUND", "PERMISSION_ESCALATION", "LAST_ADMIN")),
    "Role/user": Action("OK", {"$ref": "#/components/schemas/UserRoles"}, ("NOT_FOUND",)),
    # Admin user API and exports (SPEC §14)
    "Admin/user_list": Action("OK", _page_of("AdminUser")),
    "Admin/user_disable": Action("OK", _USER_STATUS, _ACT_ON_USER + ("LAST_ADMIN", "SELF_DISABLE")),
    "Admin/user_enable": Action("OK", _USER_STATUS, _ACT_ON_USER),
    "Admin/user_sessions": Action("OK", _obj({"uid": _INT, "list": {"type": "array", "items": _obj(
        {"sid": _STR, "created_at": _INT, "expire_at": _INT})}}), _ACT_ON_USER),
    "Admin/user_logout": Action("OK", _obj({"uid": _INT, "sessions_ended": _INT}), _ACT_ON_USER),
    "Admin/audit_list": Action("OK", _page_of("AuditEntry")),
    "Admin/user_export": Action(files=_EXPORT_TYPES),
    "Admin/audit_export": Action(files=_EXPORT_TYPES),
    # QR login and the member code (SPEC §12)
    "QrLogin/create": Action("OK", _obj({
        "ticket": {"type": "string", "description": "what the QR code carries"},
        "poll_secret": {"type": "string", "description": "keep it in the page: polling needs it"},
        "content": {"type": "string", "description": "`QR_LOGIN_URL?ticket=…`, the QR code's text"},
        "qrcode": _PNG, "expires_in": _INT, "interval": {"type": "integer", "description": "suggested poll interval, s"}})),
    "QrLogin/poll": Action("OK", _obj({
        "state": {"type": "string", "enum": ["pending", "scanned", "confirmed", "cancelled", "expired"]},
        "expires_in": _INT, "account": {"type": "string", "description": "`scanned`: the account, masked"},
        "jwt": {"type": "string", "description": "`confirmed` (once): the page's access JWT"},
        "refresh_jwt": {"type": "string", "description": "`confirmed` (once): its refresh JWT"},
        "uid": {"type": "integer", "description": "`confirmed` (once): the user"}}, ["state", "expires_in"]),
        ("QR_TICKET_INVALID",)),
    "QrLogin/scan": Action("OK", _obj({"platform": _STR, "ip": {"type": ["string", "null"]},
                                       "user_agent": {"type": ["string", "null"]}, "created_at": _DATE}),
                           ("QR_TICKET_INVALID", "QR_TICKET_STATE")),
    "QrLogin/confirm": Action("OK", EMPTY, ("QR_TICKET_INVALID", "QR_TICKET_STATE")),
    "QrLogin/cancel": Action("OK", EMPTY, ("QR_TICKET_INVALID", "QR_TICKET_STATE")),
    "Member/code": Action("OK", _obj({"code": {"type": "string", "pattern": "^[0-9]{18}$"}, "qrcode": _PNG,
                                      "barcode": _PNG, "expires_in": _INT})),
    "Crypto/key": Action("OK", _obj({
        "kid": {"type": "string", "pattern": "^[0-9a-f]{16}$", "description": "the key's id, named in `rsa:<kid>:…`"},
        "alg": {"const": "RSA-OAEP-256"},
        "public_key": {"type": "string", "description": "the RSA public key (2048 bits or more), PEM"},
        "expires_at": {"type": "integer", "description": "Unix time after which to fetch the key again"}})),
    "Member/verify": Action("OK", _obj({"uid": _INT, "account": _STR, "phone": {
        "type": "string", "description": "masked: `138****0000`"}}), ("MEMBER_CODE_INVALID",)),
}

# Schemas of ThinkPHP-style custom rules (methods `rule_<name>` of a validator).
CUSTOM_RULES: dict[str, dict[str, Any]] = {
    "permissionList": {"maxItems": 100, "items": {"type": "string", "maxLength": 64,
                                                  "pattern": PERMISSION_PATTERN.pattern}},
    "idList": {"maxItems": 100, "items": {"type": "integer", "minimum": 1, "maximum": 2147483647}},
    # Checks a JSON Schema cannot state; the validator's own message is the field's note.
    "account": {}, "plainText": {},
}

# Example values for the docs page's "Try it out" (each satisfies its field's schema; a test checks).
FIELD_EXAMPLES: dict[str, Any] = {
    "username": "13911119999", "password": "secret_123", "account": "Foo", "pwd": "secret_123",
    "password_confirmation": "secret_123", "phone": "13911119999", "code": "123456",
    "old_password": "secret_123", "platform": "ios", "device": "iPhone 15", "sid": "0" * 32,
    "scope": "others", "rotate": "1", "scene": "login",
    "page": 1, "limit": 20, "id": 2, "uid": 1, "name": "editor", "title": "Editor",
    "permissions": ["role/list"], "rid": [2], "keyword": "138", "since": 1700000000, "until": 1900000000,
    "ticket": "aRZa55xZY2liVGk0DgEwcHIqQgKr6pgh", "poll_secret": "uW0DP4Eq-dt6BJgKu5XXlteIFhEIkkJYp79AxrfEzjQ",
    "wait": 20,
}
# Where one validator's field differs from the others of its name (a member code is no SMS code).
VALIDATOR_EXAMPLES: dict[tuple[str, str], Any] = {("MemberCode", "code"): "123456789012345678"}

_NUMBER, _ALPHA_DASH, _ALPHA_NUM = "^[0-9]+$", "^[A-Za-z0-9_-]+$", "^[A-Za-z0-9]+$"
_VALIDATE_CALL = re.compile(r"self\.validate\(\s*(\w+)\s*(?:,\s*(?:scene\s*=\s*)?[\"'](\w+)[\"'])?\s*\)")


def _anchored(pattern: str) -> str:
    """A validator regex is matched whole (fullmatch); say so in the JSON Schema pattern."""
    if pattern.startswith("^") and pattern.endswith("$"):
        return pattern
    return f"^(?:{pattern})$"


def _resolve_target(target: str, version: str) -> Any:
    import importlib

    controller, _, action_name = target.replace("<ver>", version).partition("/")
    package, _, class_name = controller.rpartition(".")
    try:
        module = importlib.import_module(".".join(filter(None, ("app.controller", package, class_name.lower()))))
    except ModuleNotFoundError:
        return None
    return getattr(getattr(module, class_name, None), action_name, None)


def action_key(rule: RouteRule) -> str:
    """`<ver>.Login/login` → `Login/login`."""
    controller, _, action_name = rule.target.partition("/")
    return f"{controller.rpartition('.')[2]}/{action_name}"


def validator_of(action: Any) -> tuple[type[BaseValidate], str | None] | None:
    """The validator class and scene an action calls `self.validate` with, read from its source."""
    found = _VALIDATE_CALL.search(inspect.getsource(action))
    if found is None:
        return None
    validator = action.__globals__.get(found.group(1))
    if not (isinstance(validator, type) and issubclass(validator, BaseValidate)):
        raise ValueError(f"{action.__qualname__}: {found.group(1)} is not a validator")
    return validator, found.group(2)


def field_schema(validator: type[BaseValidate], name: str, phone_pattern: str) -> tuple[dict[str, Any], bool]:
    """The JSON Schema of one validated field, and whether its rules require it."""
    rules = BaseValidate._parse(validator.rule[name])
    names = [rule for rule, _ in rules]
    schema: dict[str, Any] = {"type": "array" if "array" in names else "integer" if "integer" in names else "string"}
    is_array = schema["type"] == "array"
    notes: list[str] = []
    for rule, arg in rules:
        if rule in ("max", "min", "length") and arg:
            bounds = [int(n) for n in arg.split(",")]
            low = bounds[0] if rule in ("min", "length") else None
            high = bounds[-1] if rule in ("max", "length") else None
            if rule == "max":
                high = bounds[0]
            if schema["type"] == "integer":
                notes.append(f"{rule}:{arg} digits")
                continue
            if low is not None:
                schema["minItems" if is_array else "minLength"] = low
            if high is not None:
                schema["maxItems" if is_array else "maxLength"] = high
        elif rule == "between" and arg:
            low, high = (float(n) for n in arg.split(","))
            schema["minimum"], schema["maximum"] = (int(low) if low.is_integer() else low,
                                                    int(high) if high.is_integer() else high)
        elif rule == "number":
            schema["pattern"] = _NUMBER
        elif rule == "alphaDash":
            schema["pattern"] = _ALPHA_DASH
        elif rule == "alphaNum":
            schema["pattern"] = _ALPHA_NUM
        elif rule == "mobile":
            schema["pattern"] = _anchored(phone_pattern)
        elif rule == "regex" and arg:
            schema["pattern"] = _anchored(arg)
        elif rule == "in" and arg:
            schema["enum"] = arg.split(",")
        elif rule == "confirm":
            other = arg or f"{name}_confirmation"
            notes.append(f"must equal `{other}`")
            schema["x-confirms"] = other
        elif rule in CUSTOM_RULES:
            schema.update(CUSTOM_RULES[rule])
            message = validator.message.get(f"{name}.{rule}")
            if message:
                notes.append(message.en)
        elif rule not in ("require", "string", "array", "integer"):
            notes.append(f"rule `{rule}`")
    if name in PASSWORD_FIELDS:  # SPEC §13.2; the length rules are the password's, inside
        notes.append("or `rsa:<kid>:<base64url RSA-OAEP-256 ciphertext>` under the key of crypto/key")
    example = VALIDATOR_EXAMPLES.get((validator.__name__, name), FIELD_EXAMPLES.get(name))
    if example is not None:
        schema["examples"] = [example]
    label = validator.field.get(name)
    text = f"{label.zh} / {label.en}" if label else name
    schema["description"] = text + ("; " + "; ".join(notes) if notes else "")
    schema["x-rules"] = validator.rule[name] if isinstance(validator.rule[name], str) else \
        "|".join(f"{r}:{a}" if a else r for r, a in rules)
    schema["x-v1-code"] = V1_FIELD_CODES.get(name, BY_NAME["PARAM_INVALID"].v1)
    return schema, "require" in names


def _catalog_entry(answer: Answer) -> dict[str, Any]:
    entry: dict[str, Any] = {"name": answer.name, "v1": answer.v1, "v2": answer.v2, "http": answer.http,
                             "zh": answer.zh, "en": answer.en}
    if answer.v2_zh is not None:
        entry["v2_zh"], entry["v2_en"] = answer.v2_zh, answer.v2_en
    return entry


def _empty(version: str) -> dict[str, Any]:
    return {"type": "object", "maxProperties": 0} if version == "v1" else {"type": "array", "maxItems": 0}


def _success_schema(version: str, answer: Answer, data: Any) -> dict[str, Any]:
    data_schema = _empty(version) if data is None else data
    if version == "v1":
        return {"type": "object", "required": ["message", "data", "errorcode"], "additionalProperties": False,
                "properties": {"message": {"type": "string", "examples": [answer.zh]},
                               "data": data_schema, "errorcode": {"const": 0}}}
    return {"type": "object", "required": ["code", "msg", "status", "data"], "additionalProperties": False,
            "properties": {"code": {"const": answer.v2}, "msg": {"type": "string", "examples": [answer.v2_zh or answer.zh]},
                           "status": {"const": True}, "data": data_schema}}


def _error_schema(version: str, codes: Iterable[int], with_trace: bool) -> dict[str, Any]:
    codes = sorted(set(codes))
    code_schema: dict[str, Any] = {"const": codes[0]} if len(codes) == 1 else {"enum": codes}
    if version == "v1":
        properties = {"message": {"type": "string", "minLength": 1}, "data": _empty(version), "errorcode": code_schema}
        required = ["message", "data", "errorcode"]
    else:
        properties = {"code": code_schema, "msg": {"type": "string", "minLength": 1},
                      "status": {"const": False}, "data": _empty(version)}
        required = ["code", "msg", "status", "data"]
    if with_trace:
        properties["trace"] = {"type": "array", "items": {"type": "string"},
                               "description": "the traceback, in debug mode (APP_DEBUG=1) only"}
    return {"type": "object", "required": required, "properties": properties, "additionalProperties": False}


def _field_errors(fields: Iterable[str]) -> list[str]:
    """Catalog entries that are a validation failure of one of `fields` under a name of their own:
    the same HTTP status and v2 code as PARAM_INVALID, and the field's v1 code (USERNAME_INVALID)."""
    invalid = BY_NAME["PARAM_INVALID"]
    codes = {V1_FIELD_CODES[f] for f in fields if f in V1_FIELD_CODES}
    return [a.name for a in CATALOG if a.name != invalid.name and a.v1 in codes
            and (a.v2, a.http) == (invalid.v2, invalid.http)]


def route_errors(rule: RouteRule, settings: Any, fields: Iterable[str] = ()) -> list[str]:
    """Every catalog name the route can answer with, in catalog order."""
    names = [n for n in COMMON_ERRORS if settings.SIGN_REQUIRED or n not in SIGN_ERRORS]
    names += _field_errors(fields)
    if any(field in PASSWORD_FIELDS for field in fields):
        names.append("ENCRYPTED_FIELD_INVALID")
    for alias in rule.middlewares:
        names += MIDDLEWARE_ERRORS.get(alias.partition(":")[0], ())
    action = ACTIONS.get(action_key(rule))
    if action is not None:
        names += action.errors
    wanted = set(names)
    return [a.name for a in CATALOG if a.name in wanted]


def _error_codes(version: str, name: str, fields: Iterable[str]) -> set[int]:
    """The codes of one catalog error in `version`; v1 validation answers with each field's own code."""
    answer = BY_NAME[name]
    if version == "v1" and name == "PARAM_INVALID":
        return {answer.v1} | {V1_FIELD_CODES.get(f, answer.v1) for f in fields}
    return {answer.code(version)}


def _code_line(code: str, named: list[tuple[str, str]]) -> str:
    """`- `9906` PARAM_INVALID / USERNAME_INVALID: message`: one line per code; different messages are each given."""
    messages = list(dict.fromkeys(message for _, message in named))
    return f"- `{code}` {' / '.join(name for name, _ in named)}: {' / '.join(messages)}"


def _signing_properties(settings: Any) -> dict[str, Any]:
    window = settings.SIGN_WINDOW
    return {
        "timestamp": {"type": "integer", "minimum": 1,
                      "description": f"Unix time in seconds (13-digit milliseconds accepted), within {window} s "
                                     "of the server's clock; signed", "x-v1-code": 60005,
                      "examples": [1700000000]},
        "nonce": {"type": "string", "pattern": "^[A-Za-z0-9_-]{8,64}$",
                  "description": "optional, 8-64 characters of [A-Za-z0-9_-], never reused within the window; signed",
                  "examples": ["a1b2c3d4e5f6"]},
        "appid": {"type": "string", "description": "optional: selects the app's secret (SIGN_APPS); signed"},
    }


def _operation(rule: RouteRule, version: str, settings: Any) -> dict[str, Any]:
    key = action_key(rule)
    action = _resolve_target(rule.target, version)
    if action is None:
        raise ValueError(f"{rule.target} has no action in {version}")
    meta = ACTIONS.get(key, Action())
    properties: dict[str, Any] = {}
    required: list[str] = []
    found = validator_of(action)
    fields: list[str] = []
    if found is not None:
        validator, scene = found
        entries = validator.scene[scene] if scene else list(validator.rule)
        for entry in entries:
            name = entry.rstrip("?")
            schema, needed = field_schema(validator, name, settings.PHONE_PATTERN)
            properties[name] = schema
            fields.append(name)
            if needed and not entry.endswith("?"):
                required.append(name)
    if settings.SIGN_REQUIRED:
        properties.update(_signing_properties(settings))
        required.append("timestamp")
    properties["lang"] = {"type": "string", "enum": ["zh-cn", "zh", "en", "en-us"],
                          "description": "message language (ThinkPHP's habit); else Accept-Language; Chinese by default"}
    guarded = [alias.partition(":")[0] for alias in rule.middlewares]
    if "checkLogin" in guarded:
        properties["token"] = {"type": "string", "description": "the token, when not sent as `Authorization: Bearer`"}

    parameters: list[dict[str, Any]] = []
    if settings.SIGN_REQUIRED:
        parameters.append({"$ref": "#/components/parameters/sign"})

    answer = BY_NAME[meta.success]
    data = meta.data
    if data == "sms":
        # the same document whatever APP_DEBUG is: it must not tell a caller whether debug mode is on
        data = {"anyOf": [_empty(version), _obj({"code": {"type": "string", "pattern": "^[0-9]{6}$"}})],
                "description": "empty; the code itself only in debug mode (APP_DEBUG=1), and never for a reset to a phone without an account"}
    responses: dict[str, Any] = {str(answer.http): {
        "description": f"{answer.name}: {answer.en}",
        "content": {"application/json": {"schema": _success_schema(version, answer, data)}}}}
    if meta.files:
        responses[str(answer.http)] = {
            "description": "the file itself, streamed (`format` picks CSV, UTF-8 with a BOM, or XLSX)",
            "headers": {"Content-Disposition": {"$ref": "#/components/headers/Content-Disposition"}},
            "content": {media: {"schema": {"type": "string", "format": "binary"}} for media in meta.files}}
    names = route_errors(rule, settings, fields)
    by_status: dict[int, list[str]] = {}
    for name in names:
        by_status.setdefault(BY_NAME[name].http, []).append(name)
    errors: list[dict[str, Any]] = []
    for status, group in sorted(by_status.items()):
        codes: set[int] = set()
        lines: dict[str, list[tuple[str, str]]] = {}  # one line per code: names that share it are merged
        for name in group:
            group_codes = _error_codes(version, name, fields)
            codes |= group_codes
            message = BY_NAME[name].message(version, "en")
            lines.setdefault("/".join(map(str, sorted(group_codes))), []).append((name, message))
            errors.append({"name": name, "code": sorted(group_codes), "http": status})
        response: dict[str, Any] = {
            "description": "\n".join(_code_line(code, named) for code, named in lines.items()),
            "content": {"application/json": {"schema": _error_schema(version, codes, status == 500)}}}
        if status == 429:
            response["headers"] = {"Retry-After": {"$ref": "#/components/headers/Retry-After"}}
        if status == 500:
            response["headers"] = {"X-Request-Id": {"$ref": "#/components/headers/X-Request-Id"}}
        if status == 405:
            continue
        responses[str(status)] = response

    path = rule.path.replace("<ver>", version)
    needs = " + ".join(["sign"] * bool(settings.SIGN_REQUIRED) + [f"`{g}`" for g in guarded]) or "nothing"
    description = [f"Needs: {needs}."]
    if version == settings.DEFAULT_VERSION:
        description.append(f"Also served without the version, as `{rule.path.replace('/<ver>', '') or '/'}` "
                           f"(DEFAULT_VERSION is `{version}`).")
    description.append("Parameters travel as a JSON object body (shown), a form body or the query string; "
                       "a name given twice is a parameter error.")
    # Swagger UI shows a summary as plain text: no Markdown backticks in it
    summary = (inspect.getdoc(action) or "").split("\n", 1)[0].replace("`", "")
    operation: dict[str, Any] = {
        "operationId": f"{version}_{path.strip('/').split('/', 1)[1].replace('/', '_')}",
        "tags": [version],
        "summary": summary,
        "description": " ".join(description),
        "parameters": parameters,
        "requestBody": {"required": bool(required), "content": {"application/json": {"schema": {
            "type": "object", "properties": properties, "required": required}}}},
        "responses": responses,
        "x-errors": errors,
        "x-action": rule.target,
    }
    if "checkLogin" in guarded:
        operation["security"] = [{"bearerAuth": []}, {"tokenHeader": []}]
    return operation


def _description(settings: Any) -> str:
    versions = ", ".join(f"`{v}`" for v in settings.VERSIONS)
    sign = ("""
## Signing a request

Every API request carries `timestamp` (Unix seconds, within %(window)s s of the server's clock),
an optional `nonce` (8–64 characters of `[A-Za-z0-9_-]`, never reused) and an md5 `sign`, in the
HTTP header `sign` (or as a parameter):

1. take every request parameter, query string and body together, except `sign` and except those
   whose value is `null` or the empty string;
2. sort them by name and write each as `name=value`: strings as they are (not URL-encoded),
   numbers as JSON writes them, `true`/`false`, arrays and objects as compact JSON with sorted
   keys and non-ASCII left as is;
3. join them with `&`, then append `&key=` and the app's secret;
4. `sign` is the md5 of that string's UTF-8 bytes, as 32 hex digits.

Example: `nonce=a1b2c3d4&password=123456&timestamp=1700000000&username=13911119999&key=s3cr3t`
→ `f631f0e462db6c880048d2f78d4f65ab`.
""" % {"window": settings.SIGN_WINDOW}) if settings.SIGN_REQUIRED else "\nSigning is switched off on this server (SIGN_REQUIRED=0).\n"
    return f"""A login API in two dialects of one contract. Every route is `POST` under `/{{ver}}/`, `ver` in {versions}:

- **v1** answers in the ThinkPHP envelope `{{message, data, errorcode}}` (`errorcode` 0 on success, 60000 up on errors; errors carry `data: {{}}`);
- **v2** answers in the Hyperf envelope `{{code, msg, status, data}}` (`code` 200 on success, 99xx/500xx on errors; errors carry `data: []`).

A path without a version (`/login/jwt/get`) is served as the default version, `{settings.DEFAULT_VERSION}`.
Paths match case-insensitively. Every answer also sets a real HTTP status. Messages are Chinese
unless the client prefers English (`Accept-Language: en`, or a `lang=en` parameter).

Routes behind `checkLogin` take the token as `Authorization: Bearer TOKEN` (or a `token` header or parameter).
Each operation lists every code it can answer (`x-errors`); `x-error-catalog` holds the whole catalog.
{sign}"""


def build_openapi(settings: Any, rules: Sequence[RouteRule] | None = None) -> dict[str, Any]:
    """The document for this server's settings (versions, signing, debug mode, phone pattern)."""
    if rules is None:
        import route.app  # noqa: F401 - declares the routes
        rules = Route.rules
    paths: dict[str, Any] = {}
    for version in settings.VERSIONS:
        for rule in rules:
            if _resolve_target(rule.target, version) is None:
                continue  # a version whose controller lacks the action does not serve it
            path = rule.path.replace("<ver>", version)
            paths.setdefault(path, {})[rule.method.lower()] = _operation(rule, version, settings)
    paths["/openapi.json"] = {"get": {
        "operationId": "openapi", "tags": ["pages"], "summary": "This document (OpenAPI 3.1), unsigned",
        "responses": {"200": {"description": "the OpenAPI document",
                              "content": {"application/json": {"schema": {"type": "object", "required": ["openapi"]}}}}}}}
    paths["/docs"] = {"get": {
        "operationId": "docs", "tags": ["pages"], "summary": "The interactive docs page (works offline), unsigned",
        "responses": {"200": {"description": "an HTML page", "content": {"text/html": {"schema": {"type": "string"}}}}}}}
    versions = list(settings.VERSIONS)
    return {
        "openapi": OPENAPI_VERSION,
        "info": {"title": "Login API", "version": API_VERSION, "description": _description(settings),
                 "x-versions": versions, "x-default-version": settings.DEFAULT_VERSION,
                 "x-unversioned-alias": f"a path without a version is served as {settings.DEFAULT_VERSION}"},
        "tags": [{"name": v, "description": "ThinkPHP envelope {message, data, errorcode}" if v == "v1"
                  else "Hyperf envelope {code, msg, status, data}"} for v in versions]
                + [{"name": "pages", "description": "Unversioned pages: this document and the docs page"}],
        "paths": paths,
        "components": {
            "schemas": {
                "Role": _ROLE,
                "UserRoles": _USER_ROLES,
                "AdminUser": _ADMIN_USER,
                "AuditEntry": _AUDIT_ENTRY,
                "V1Envelope": {"type": "object", "required": ["message", "data", "errorcode"], "properties": {
                    "message": _STR, "data": {}, "errorcode": _INT}},
                "V2Envelope": {"type": "object", "required": ["code", "msg", "status", "data"], "properties": {
                    "code": _INT, "msg": _STR, "status": {"type": "boolean"}, "data": {}}},
            },
            # Not `required`: Swagger UI would refuse to send "Try it out" with the field empty, before the
            # docs page's signer fills it in. The server refuses an unsigned request all the same (60007/9907).
            "parameters": {"sign": {
                "name": "sign", "in": "header", "required": False,
                "description": "md5 signature of the request (see the description above), needed on every "
                               "request; may be sent as a `sign` parameter instead. On the docs page leave it "
                               "empty: the page signs \"Try it out\" with the secret typed at the top",
                "schema": {"type": "string", "pattern": "^[0-9a-fA-F]{32}$"}}},
            "headers": {
                "Retry-After": {"description": "seconds until the limit lifts", "schema": {"type": "string"}},
                "X-Request-Id": {"description": "the id under which the failure was logged", "schema": {"type": "string"}},
                "Content-Disposition": {"description": "`attachment; filename=\"users-YYYYMMDD-HHMMSS.csv\"`",
                                        "schema": {"type": "string", "pattern": "^attachment; filename="}},
            },
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer",
                               "description": "an md5 token from /{ver}/login or an access JWT from /{ver}/login/jwt/get"},
                "tokenHeader": {"type": "apiKey", "in": "header", "name": "token",
                                "description": "the same token in a `token` header"},
            },
        },
        "x-error-catalog": [_catalog_entry(a) for a in CATALOG],
        "x-v1-field-codes": dict(V1_FIELD_CODES),
        "x-routing-errors": [{"name": n, "v1": BY_NAME[n].v1, "v2": BY_NAME[n].v2, "http": BY_NAME[n].http}
                             for n in ROUTING_ERRORS],
    }
