"""The admin API's filters (SPEC §14), shared by the lists and the exports so both select alike.

A filter dict is what the Admin validator returned: `keyword`, `status` for users; `uid`,
`event`, `since`, `until` for the audit log. Phones leave masked unless the caller may see them.
"""
from __future__ import annotations

from typing import Any

from peewee import SQL, ModelSelect, NodeList

from app.common.data_crypto import decrypt
from app.model.audit_log import AuditLog
from app.model.user import User, account_key

# LIKE's own characters in a keyword match themselves: `!` escapes them on every database
# (a backslash would need doubling on MySQL only).
_LIKE_ESCAPE = str.maketrans({"!": "!!", "%": "!%", "_": "!_"})


def mask_phone(phone: str | None) -> str | None:
    """`13800000000` → `138****0000`; anything shorter than 7 characters is hidden whole."""
    if not phone:
        return phone
    return phone[:3] + "****" + phone[-4:] if len(phone) >= 7 else "****"


def _mask_identity(text: str | None) -> str | None:
    # The audit log's `account` is the identity as typed at login, which may be a phone number.
    return mask_phone(text) if text and text.isascii() and text.isdigit() and len(text) >= 7 else text


def _contains(field: Any, text: str) -> Any:
    pattern = "%" + text.translate(_LIKE_ESCAPE) + "%"
    return NodeList((field, SQL("LIKE"), pattern, SQL("ESCAPE '!'")))


def user_query(filters: dict[str, Any]) -> ModelSelect[User]:
    """Users matching `keyword` (in the account, any case, or the whole phone) and `status`.

    Phones are stored encrypted (SPEC §13.3): only an exact number is found, through its blind index."""
    # Rows as dicts: building a model instance per row costs several times the query itself.
    query = User.select(User.id, User.account, User.phone, User.status, User.created_at, User.updated_at).dicts()
    keyword = filters.get("keyword")
    if keyword:
        query = query.where(_contains(User.account_key, account_key(keyword)) | (User.phone_index == keyword.strip()))
    if filters.get("status") is not None:
        query = query.where(User.status == int(filters["status"]))
    return query


def audit_query(filters: dict[str, Any]) -> ModelSelect[AuditLog]:
    """Audit entries of `uid` and `event`, written from `since` up to and including `until`."""
    query = AuditLog.select().dicts()
    if filters.get("uid") is not None:
        query = query.where(AuditLog.uid == filters["uid"])
    if filters.get("event"):
        query = query.where(AuditLog.event == filters["event"])
    if filters.get("since") is not None:
        query = query.where(AuditLog.created_at >= filters["since"])
    if filters.get("until") is not None:
        query = query.where(AuditLog.created_at <= filters["until"])
    return query


def user_row(user: dict[str, Any], pii: bool = False) -> dict[str, Any]:
    # Rows straight from the cursor (exports) carry the stored ciphertext under its column's name.
    phone = user["phone"] if "phone" in user else user["phone_enc"] and decrypt(user["phone_enc"])
    return {"uid": user["id"], "account": user["account"],
            "phone": phone if pii else mask_phone(phone), "status": user["status"],
            "created_at": user["created_at"], "updated_at": user["updated_at"]}


def audit_row(entry: dict[str, Any], pii: bool = False) -> dict[str, Any]:
    return {"id": entry["id"], "created_at": entry["created_at"], "event": entry["event"],
            "outcome": entry["outcome"], "uid": entry["uid"],
            "account": entry["account"] if pii else _mask_identity(entry["account"]), "ip": entry["ip"],
            "detail": entry["detail"]}


def page_of(query: ModelSelect[Any], order: Any, to_row: Any, page: int, limit: int) -> dict[str, Any]:
    """One page of `query` as `{list, total, page, limit}`."""
    rows = [to_row(item) for item in query.order_by(order).paginate(page, limit)]
    return {"list": rows, "total": query.count(), "page": page, "limit": limit}
