"""JSON Schemas of the actions' `data`, referenced from their declarations (`@action(..., data=...)`),
and the component schemas the document lists under `components.schemas`."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def obj(properties: dict[str, Any], required: Sequence[str] | None = None) -> dict[str, Any]:
    """An object schema; every property is required unless `required` names fewer."""
    return {"type": "object", "properties": properties,
            "required": list(properties if required is None else required)}


def ref(component: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{component}"}


def page_of(component: str) -> dict[str, Any]:
    """One page of a list: {list, total, page, limit}."""
    return obj({"list": {"type": "array", "items": ref(component)}, "total": INT, "page": INT, "limit": INT})


STR, INT = {"type": "string"}, {"type": "integer"}
NULLABLE_STR, NULLABLE_INT = {"type": ["string", "null"]}, {"type": ["integer", "null"]}
DATE = {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$",
        "description": "`YYYY-MM-DD HH:MM:SS` in APP_TIMEZONE"}
RIDS = {"type": "array", "items": {"type": "string", "pattern": "^[0-9]+$"},
        "description": "the user's role ids, as strings"}
PNG = {"type": "string", "pattern": "^data:image/png;base64,", "description": "a PNG data URL"}
EMPTY = None  # an action that answers no data: `{}` in v1, `[]` in v2
# send/sms: empty, or the code in debug mode; the generator writes it for each version's empty data.
SMS_CODE_IN_DEBUG = "sms"
EXPORT_TYPES = ("text/csv; charset=utf-8", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")

# components.schemas
ROLE = obj({"id": INT, "name": STR, "title": STR, "permissions": {"type": "array", "items": STR}})
USER_ROLES = obj({"uid": INT, "roles": {"type": "array", "items": ref("Role")},
                  "permissions": {"type": "array", "items": STR}})
ADMIN_USER = obj({"uid": INT, "account": STR, "phone": {"type": "string", "description": "masked: 138****0000"},
                  "status": {"enum": [0, 1]}, "created_at": INT, "updated_at": INT})
AUDIT_ENTRY = obj({"id": INT, "created_at": INT, "event": STR, "outcome": STR, "uid": NULLABLE_INT,
                   "account": NULLABLE_STR, "ip": NULLABLE_STR, "detail": NULLABLE_STR})
COMPONENTS: dict[str, dict[str, Any]] = {"Role": ROLE, "UserRoles": USER_ROLES, "AdminUser": ADMIN_USER,
                                         "AuditEntry": AUDIT_ENTRY}

# Login, Jwt
LOGIN = obj({"token": {"type": "string", "description": "md5-style token (AUTH_DRIVER=md5) or an access JWT"},
             "expires_in": {"type": "integer", "description": "lifetime in seconds"},
             "expire_time": DATE, "uid": INT})
ME = obj({"uid": INT, "account": STR, "phone": STR, "rid": RIDS})
CAPTCHA = obj({"captcha_id": STR, "image": {
    "type": "string", "pattern": "^data:image/png;base64,", "description": "the captcha as a PNG data URL"}})
JWT_PAIR = obj({"jwt": {"type": "string", "description": "access JWT"},
                "refresh_jwt": {"type": "string", "description": "refresh JWT"}})
JWT_REFRESHED = {"oneOf": [
    {"type": "string", "description": "the new access JWT"},
    obj({"jwt": {"type": "string", "description": "the new access JWT"},
         "refresh_jwt": {"type": "string", "description": "the new refresh JWT; the one presented is used up"}})],
    "description": "the access JWT as a string; with rotate=1 or REFRESH_ROTATE=1 {jwt, refresh_jwt}"}
JWT_STATUS = obj({"exp": {"type": "integer", "minimum": 0, "description": "seconds left"}, "uid": INT,
                  "jwt_data": obj({"uid": INT, "rid": RIDS}), "exp_date": DATE, "iat_date": DATE})

# Account lifecycle and sessions (SPEC §11)
LOGIN_SMS = obj({"jwt": {"type": "string", "description": "access JWT"},
                 "refresh_jwt": {"type": "string", "description": "refresh JWT"}, "uid": INT,
                 "registered": {"type": "boolean", "description": "true when this call created the account"}})
SESSION = obj({"sid": STR, "current": {"type": "boolean"},
               "platform": {"type": "string", "enum": ["ios", "android", "web", "mini", "other"]},
               "device": {"type": ["string", "null"]}, "ip": {"type": ["string", "null"]},
               "user_agent": {"type": ["string", "null"]}, "created_at": DATE, "last_seen_at": DATE})
SESSION_LIST = obj({"list": {"type": "array", "items": SESSION}})
SESSIONS_ENDED = obj({"ended": {"type": "integer", "minimum": 0}})

# Admin user API (SPEC §14)
USER_STATUS = obj({"uid": INT, "status": {"enum": [0, 1]}, "sessions_ended": INT})
USER_SESSIONS = obj({"uid": INT, "list": {"type": "array", "items": obj(
    {"sid": STR, "created_at": INT, "expire_at": INT})}})
USER_LOGGED_OUT = obj({"uid": INT, "sessions_ended": INT})

# QR login and the member code (SPEC §12)
QR_TICKET = obj({
    "ticket": {"type": "string", "description": "what the QR code carries"},
    "poll_secret": {"type": "string", "description": "keep it in the page: polling needs it"},
    "content": {"type": "string", "description": "`QR_LOGIN_URL?ticket=…`, the QR code's text"},
    "qrcode": PNG, "expires_in": INT, "interval": {"type": "integer", "description": "suggested poll interval, s"}})
QR_POLL = obj({
    "state": {"type": "string", "enum": ["pending", "scanned", "confirmed", "cancelled", "expired"]},
    "expires_in": INT, "account": {"type": "string", "description": "`scanned`: the account, masked"},
    "jwt": {"type": "string", "description": "`confirmed` (once): the page's access JWT"},
    "refresh_jwt": {"type": "string", "description": "`confirmed` (once): its refresh JWT"},
    "uid": {"type": "integer", "description": "`confirmed` (once): the user"}}, ["state", "expires_in"])
QR_SCANNED = obj({"platform": STR, "ip": {"type": ["string", "null"]},
                  "user_agent": {"type": ["string", "null"]}, "created_at": DATE})
MEMBER_CODE = obj({"code": {"type": "string", "pattern": "^[0-9]{18}$"}, "qrcode": PNG, "barcode": PNG,
                   "expires_in": INT})
MEMBER = obj({"uid": INT, "account": STR, "phone": {"type": "string", "description": "masked: `138****0000`"}})

# RSA password transport (SPEC §13.2)
CRYPTO_KEY = obj({
    "kid": {"type": "string", "pattern": "^[0-9a-f]{16}$", "description": "the key's id, named in `rsa:<kid>:…`"},
    "alg": {"const": "RSA-OAEP-256"},
    "public_key": {"type": "string", "description": "the RSA public key (2048 bits or more), PEM"},
    "expires_at": {"type": "integer", "description": "Unix time after which to fetch the key again"}})
