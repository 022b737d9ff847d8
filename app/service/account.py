"""The rest of an account's life (SPEC §11): reset and change the password, change the phone, delete.

Whatever ends sessions does it in the same transaction as the change, by revoking token rows,
so the ended sessions fail at once in every worker and instance. The admin commands
(user:password, user:delete) use the same synchronous steps.
"""
from __future__ import annotations

from typing import Any

from peewee import IntegrityError

from app.common.auth import Auth
from app.common.database import db_read, db_write, write_transaction
from app.common.error import ApiException
from app.common.text import Text
from app.model.audit_log import AuditLog
from app.model.token import Token
from app.model.user import User
from app.model.user_role import UserRole
from app.service import events
from app.service.audit import Audit
from app.service.caller import Caller
from app.service.login_guard import LoginGuard
from app.service.role_guard import keeps_an_admin, lock_role_changes
from app.service.session import end_sessions_sync
from app.service.sms_scene import WRONG, SmsScenes

# users.status of a deleted account's tombstone (1 active, 0 disabled).
DELETED = -1
_REQUIRED = Text("{label}必填", "{label} is required")


class _PhoneTaken(Exception):
    """Raised inside the phone change's transaction so the used code is rolled back with it."""


def set_password_sync(uid: int, password_hash: str, now: int, keep: str | None = None) -> int:
    """Store a new password hash (at `now`) and end the user's sessions but `keep`; how many ended."""
    with write_transaction():
        User.update(password_hash=password_hash, updated_at=now).where(User.id == uid).execute()
        ended = end_sessions_sync(uid, now, keep=keep)
        events.emit("password.changed", {"uid": uid, "sessions_ended": ended})
        return ended


def delete_user_sync(uid: int, now: int) -> bool:
    """Delete the user (at `now`): sessions end, roles go, the account and the phone are free at once.

    The row stays behind as a tombstone (status DELETED, no account, phone or password), so the
    uid is never handed to another user (SQLite reuses the highest rowid of a deleted row), and the
    audit log keeps the uid and its events, but not the phone or the account name.
    """
    with write_transaction():
        # Deleting the last active `*` holder would leave the service without an administrator.
        lock_role_changes()
        user = User.get_or_none(User.id == uid)
        if user is None or user.status == DELETED:
            return False
        with keeps_an_admin():
            UserRole.delete().where(UserRole.uid == uid).execute()
        end_sessions_sync(uid, now)
        Token.update(revoked=1).where((Token.uid == uid) & (Token.revoked == 0)).execute()
        (AuditLog.update(account=None)
         .where((AuditLog.uid == uid) | (AuditLog.account == events.mask_phone(user.phone))
                | (AuditLog.account == user.account))
         .execute())
        gone = f"deleted:{uid}"  # ':' is in no valid account or phone, so nobody can log in as it
        User.update(account=gone, account_key=gone, phone=gone, phone_index=gone, password_hash="", status=DELETED,
                    updated_at=now).where(User.id == uid).execute()
        events.emit("account.deleted", {"uid": uid})
        return True


def _missing(field: str, label: Text) -> ApiException:
    """A field the user's state makes required (a password when they have one, else a code)."""
    return ApiException("PARAM_INVALID", field=field,
                        reason=Text(_REQUIRED.zh.format(label=label.zh), _REQUIRED.en.format(label=label.en)))


class AccountService:
    def __init__(self, scenes: SmsScenes, guard: LoginGuard, audit: Audit):
        self.scenes = scenes
        self.sms = scenes.sms
        self.guard = guard
        self.audit = audit

    async def profile(self, uid: int) -> User:
        """The user as the database has them now."""
        return await self._user(uid)

    @staticmethod
    async def _user(uid: int) -> User:
        user = await db_read(lambda: User.get_or_none(User.id == uid))
        if user is None:  # deleted since checkLogin looked
            raise ApiException("TOKEN_INVALID", reason=Text("用户不存在", "the user no longer exists"))
        return user

    async def reauthenticate(self, caller: Caller, user: User, password: str | None, field: str) -> None:
        """The user's current password, under the login lockout; OLD_PASSWORD_WRONG when wrong."""
        if password is None:
            raise _missing(field, Text("原密码" if field == "old_password" else "密码",
                                       "old password" if field == "old_password" else "password"))
        try:
            await self.guard.attempt(user.account, password, caller)
        except ApiException as refusal:
            if refusal.answer.name in ("LOGIN_FAILED", "USER_NOT_FOUND"):
                raise ApiException("OLD_PASSWORD_WRONG") from None
            raise

    async def reset_password(self, data: dict[str, Any], ip: str) -> int:
        """phone + its `reset` code → the new password; every session ends, the lockout is cleared."""
        password_hash = await Auth.instance().passwords.hash(data["password"])
        uid = await self.scenes.attempt(ip, lambda: db_write(self._reset_sync, data["phone"], data["code"],
                                                             password_hash), "password/reset")
        await self.guard.clear(uid)
        await self.audit.record("password", "reset", uid=uid, ip=ip)
        return uid

    def _reset_sync(self, phone: str, code: str, password_hash: str) -> int | str:
        now = self.sms.clock.seconds()
        with write_transaction():
            user = User.get_or_none(User.phone_index == phone)
            if user is None or not self.sms.consume_sync(phone, code, now, "reset"):
                return WRONG
            set_password_sync(user.id, password_hash, now)
            return user.id

    async def change_password(self, me: Caller, data: dict[str, Any]) -> int:
        """The current password (none for an SMS-made user) → the new one; other sessions end."""
        user = await self._user(me.logged_in_uid)
        if user.password_hash:
            await self.reauthenticate(me, user, data.get("old_password"), "old_password")
        password_hash = await Auth.instance().passwords.hash(data["password"])
        ended = await db_write(set_password_sync, me.uid, password_hash, self.sms.clock.seconds(), me.sid)
        await self.audit.record("password", "changed", uid=me.uid, ip=me.ip,
                                detail=f"ended {ended} other session(s)")
        return ended

    async def change_phone(self, me: Caller, data: dict[str, Any]) -> None:
        """A new phone with its `change_phone` code (and the password, if the user has one)."""
        user = await self._user(me.logged_in_uid)
        if user.password_hash:
            await self.reauthenticate(me, user, data.get("password"), "password")
        await self.scenes.attempt(me.ip,
                                  lambda: db_write(self._change_phone_sync, me.uid, data["phone"], data["code"]),
                                  "phone/change")
        await self.audit.record("phone", "changed", uid=me.uid, ip=me.ip)

    def _change_phone_sync(self, uid: int, phone: str, code: str) -> str | None:
        now = self.sms.clock.seconds()
        try:
            with write_transaction():
                if not self.sms.consume_sync(phone, code, now, "change_phone"):
                    return WRONG  # commits the counted wrong try
                if User.select().where(User.phone_index == phone).exists():
                    raise _PhoneTaken  # rolls the code's use back: it stays usable
                User.update(phone=phone, phone_index=phone, updated_at=now).where(User.id == uid).execute()
                events.emit("phone.changed", {"uid": uid, "phone": events.mask_phone(phone)})
        except (_PhoneTaken, IntegrityError):
            return "PHONE_TAKEN"
        return None

    async def delete(self, me: Caller, data: dict[str, Any]) -> None:
        """The password (or, for a user without one, a `login` code) → the account is gone, sessions end."""
        user = await self._user(me.logged_in_uid)
        if user.password_hash:
            await self.reauthenticate(me, user, data.get("password"), "password")
            await db_write(delete_user_sync, me.uid, self.sms.clock.seconds())
        else:
            if data.get("code") is None:
                raise _missing("code", Text("手机验证码", "SMS code"))
            await self.scenes.attempt(me.ip, lambda: db_write(self._delete_by_code_sync, user,
                                                              data["code"]), "account/delete")
        await self.audit.record("account", "deleted", uid=me.uid, ip=me.ip)

    def _delete_by_code_sync(self, user: User, code: str) -> str | None:
        now = self.sms.clock.seconds()
        with write_transaction():
            if not self.sms.consume_sync(user.phone, code, now, "login"):
                return WRONG
            delete_user_sync(user.id, now)
        return None
