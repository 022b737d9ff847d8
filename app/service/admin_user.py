"""The admin user API (SPEC §14): list, disable, enable, sessions, logout; and the audit list.

Acting on a user follows the role rules (app/service/role_guard.py): the caller must hold every
permission the target holds, and the last active `*` holder stays active. Every method runs its
queries in a worker thread; those that write do it in one transaction, so a refusal leaves nothing.
Every admin action is audited: who (`actor`), from where (`ip`), what, on whom.
"""
from __future__ import annotations

from typing import Any

from app.common.database import db_read, db_write, write_transaction
from app.common.error import ApiException
from app.common.permission import grants
from app.model.audit_log import AuditLog
from app.model.session import Session
from app.model.token import Token
from app.model.user import User
from app.model.user_role import UserRole
from app.service.admin_query import audit_query, audit_row, page_of, user_query, user_row
from app.service.audit import Audit
from app.service.events import mask_phone
from app.service.role_guard import keeps_an_admin, lock_role_changes, require_holds
from app.validate.base import BaseValidate


def _target(actor: int, uid: int) -> User:
    """The user `uid`, if the actor may act on them: NOT_FOUND, or PERMISSION_ESCALATION."""
    user = User.get_or_none(User.id == uid)
    if user is None:
        raise ApiException("NOT_FOUND")
    require_holds(actor, UserRole.permissions(uid))
    return user


def _end_all_sessions(uid: int, now: int) -> int:
    """End every open session of `uid` and revoke every token: each fails at its next check."""
    ended: int = (Session.update(revoked_at=now)
                  .where((Session.uid == uid) & Session.revoked_at.is_null()).execute())  # rows changed
    Token.update(revoked=1).where((Token.uid == uid) & (Token.revoked == 0)).execute()
    return ended


def _shown(filters: dict[str, Any]) -> dict[str, Any]:
    """The filters as the audit log keeps them: a phone keyword masked (SPEC §13.3)."""
    shown = dict(filters)
    keyword = str(shown.get("keyword", ""))
    if BaseValidate.mobile_pattern.fullmatch(keyword.strip()):
        shown["keyword"] = mask_phone(keyword.strip())
    return shown


class AdminUserService:
    def __init__(self, audit: Audit):
        self.audit_log = audit  # not `audit`: that is the audit list's method

    async def _record(self, actor: int, ip: str, what: str, detail: str) -> None:
        await self.audit_log.record("admin", what, uid=actor, ip=ip, detail=detail)

    @staticmethod
    def _users(filters: dict[str, Any], page: int, limit: int) -> dict[str, Any]:
        return page_of(user_query(filters), User.id, user_row, page, limit)

    async def users(self, filters: dict[str, Any], page: int, limit: int, actor: int, ip: str) -> dict[str, Any]:
        """Users matching the filters, oldest first, phones masked."""
        result = await db_write(self._users, filters, page, limit)
        await self._record(actor, ip, "user.list", f"filters {_shown(filters)}")
        return result

    @staticmethod
    def _audit(filters: dict[str, Any], page: int, limit: int) -> dict[str, Any]:
        return page_of(audit_query(filters), AuditLog.id.desc(), audit_row, page, limit)

    async def audit(self, filters: dict[str, Any], page: int, limit: int, actor: int, ip: str) -> dict[str, Any]:
        """Audit entries matching the filters, newest first."""
        result = await db_write(self._audit, filters, page, limit)
        await self._record(actor, ip, "audit.list", f"filters {_shown(filters)}")
        return result

    async def begin_export(self, name: str, fmt: str, filters: dict[str, Any], actor: int, ip: str) -> bool:
        """Audit the export of sheet `name` before a row is read; True if the actor may see phones in it."""
        pii = grants(await db_read(UserRole.permissions, actor), "user/export_pii")
        shown = f"{fmt}{' with phones' if pii else ''}, filters {_shown(filters)}"
        await self._record(actor, ip, f"{name}.export", shown)
        return pii

    @staticmethod
    def _set_status(actor: int, uid: int, status: int, now: int) -> dict[str, Any]:
        with write_transaction():
            # The same lock as role changes: two admins disabling each other at once must not
            # both see the other as the administrator who remains.
            lock_role_changes()
            user = _target(actor, uid)
            ended = 0
            with keeps_an_admin():
                User.update(status=status, updated_at=now).where(User.id == uid).execute()
            if status == 0:
                # After keeps_an_admin: the only administrator disabling themselves hears LAST_ADMIN.
                if uid == actor:
                    raise ApiException("SELF_DISABLE")
                ended = _end_all_sessions(uid, now)
            return {"uid": user.id, "status": status, "sessions_ended": ended}

    async def disable(self, actor: int, uid: int, now: int, ip: str) -> dict[str, Any]:
        """The user can no longer log in, and every session ends at once."""
        result = await db_write(self._set_status, actor, uid, 0, now)
        await self._record(actor, ip, "user.disable", f"user {uid}, {result['sessions_ended']} session(s) ended")
        return result

    async def enable(self, actor: int, uid: int, now: int, ip: str) -> dict[str, Any]:
        """The user may log in again (their old sessions stay ended)."""
        result = await db_write(self._set_status, actor, uid, 1, now)
        # enable answers sessions_ended too (always 0): the log does not say it
        await self._record(actor, ip, "user.enable", f"user {uid}")
        return result

    @staticmethod
    def _sessions(actor: int, uid: int, now: int) -> dict[str, Any]:
        _target(actor, uid)
        rows = (Session.select(Session.id, Session.created_at, Session.expire_at)
                .where((Session.uid == uid) & Session.revoked_at.is_null() & (Session.expire_at > now))
                .order_by(Session.created_at.desc()))
        return {"uid": uid, "list": [{"sid": s.id, "created_at": s.created_at, "expire_at": s.expire_at}
                                     for s in rows]}

    async def sessions(self, actor: int, uid: int, now: int, ip: str) -> dict[str, Any]:
        """The user's live sessions at `now`, newest first."""
        result = await db_write(self._sessions, actor, uid, now)
        await self._record(actor, ip, "user.sessions", f"user {uid}")
        return result

    @staticmethod
    def _logout(actor: int, uid: int, now: int) -> dict[str, Any]:
        with write_transaction():
            _target(actor, uid)
            return {"uid": uid, "sessions_ended": _end_all_sessions(uid, now)}

    async def logout(self, actor: int, uid: int, now: int, ip: str) -> dict[str, Any]:
        """End every session of the user; their tokens fail at the next request."""
        result = await db_write(self._logout, actor, uid, now)
        await self._record(actor, ip, "user.logout", f"user {uid}, {result['sessions_ended']} session(s) ended")
        return result
