"""Role management: list, create, update, delete, assign, and a user's effective permissions."""
from __future__ import annotations

import builtins  # for annotations in RoleService, whose method `list` hides the builtin there
import json
from typing import Any

from peewee import IntegrityError

from app.common.database import db_write, write_transaction
from app.common.error import ApiException
from app.model.role import Role
from app.model.user import User
from app.model.user_role import UserRole
from app.service import events
from app.service.audit import Audit
from app.service.role_guard import keeps_an_admin, lock_role_changes, require_holds


def _role_or_404(role_id: int) -> Role:
    role = Role.get_or_none(Role.id == role_id)
    if role is None:
        raise ApiException("NOT_FOUND")
    return role


def _permissions_json(permissions: list[str]) -> str:
    return json.dumps(sorted(set(permissions)), separators=(",", ":"))


class RoleService:
    """Every method runs its queries in a worker thread, inside one transaction where it writes.

    Each change is audited as an authentication decision: who changed what, from where (`ip`).
    """

    def __init__(self, audit: Audit):
        self.audit = audit

    async def _changed(self, actor: int, ip: str, what: str) -> None:
        await self.audit.record("role", "changed", uid=actor, ip=ip, detail=what)

    @staticmethod
    def _list(page: int, limit: int) -> dict[str, Any]:
        query = Role.select().order_by(Role.id)
        return {"list": [role.to_dict() for role in query.paginate(page, limit)],
                "total": query.count(), "page": page, "limit": limit}

    async def list(self, page: int, limit: int) -> dict[str, Any]:
        return await db_write(self._list, page, limit)

    @staticmethod
    def _create(actor: int, name: str, title: str, permissions: builtins.list[str]) -> dict[str, Any]:
        require_holds(actor, permissions)
        try:
            with write_transaction():
                role = Role.create(name=name, title=title, permissions_json=_permissions_json(permissions))
                events.emit("role.changed", {"action": "create", "role_id": role.id, "by": actor})
                return role.to_dict()
        except IntegrityError:
            raise ApiException("ROLE_NAME_TAKEN") from None

    async def create(self, actor: int, name: str, title: str, permissions: builtins.list[str],
                     ip: str) -> dict[str, Any]:
        role = await db_write(self._create, actor, name, title, permissions)
        await self._changed(actor, ip, f"create role {role['id']} {role['name']}: {','.join(role['permissions'])}")
        return role

    @staticmethod
    def _update(actor: int, role_id: int, changes: dict[str, Any], now: int) -> dict[str, Any]:
        """A role's title and/or permissions (changed at `now`); the caller must hold every permission it has or gets.

        Holding what the role holds before, not only what changes: a role that outranks the
        caller is not the caller's to touch, not even its title.
        """
        with write_transaction():
            lock_role_changes()
            role = _role_or_404(role_id)
            if role.builtin:
                raise ApiException("ROLE_PROTECTED")
            permissions = changes.get("permissions", role.permissions)
            require_holds(actor, [*role.permissions, *permissions])
            with keeps_an_admin():
                if "title" in changes:
                    role.title = changes["title"]
                if "permissions" in changes:
                    role.permissions_json = _permissions_json(permissions)
                role.updated_at = now
                role.save()
                events.emit("role.changed", {"action": "update", "role_id": role_id, "by": actor})
            return role.to_dict()

    async def update(self, actor: int, role_id: int, changes: dict[str, Any], now: int, ip: str) -> dict[str, Any]:
        role = await db_write(self._update, actor, role_id, changes, now)
        await self._changed(actor, ip, f"update role {role_id}: {sorted(changes)}")
        return role

    @staticmethod
    def _delete(actor: int, role_id: int) -> None:
        """Deleting takes away every permission of the role: the caller must hold them all."""
        with write_transaction():
            lock_role_changes()
            role = _role_or_404(role_id)
            if role.builtin:
                raise ApiException("ROLE_PROTECTED")
            require_holds(actor, role.permissions)
            with keeps_an_admin():
                UserRole.delete().where(UserRole.role_id == role_id).execute()
                role.delete_instance()
                events.emit("role.changed", {"action": "delete", "role_id": role_id, "by": actor})

    async def delete(self, actor: int, role_id: int, ip: str) -> None:
        await db_write(self._delete, actor, role_id)
        await self._changed(actor, ip, f"delete role {role_id}")

    @staticmethod
    def _assign(actor: int, uid: int, role_ids: builtins.list[int]) -> dict[str, Any]:
        """The user's roles become `role_ids`; the caller must hold all the user has and gets.

        What the user holds now is what the change may take away, so a user who holds more
        than the caller is out of its reach, and so is the only administrator.
        """
        with write_transaction():
            lock_role_changes()
            if not User.select().where(User.id == uid).exists():
                raise ApiException("NOT_FOUND")
            wanted = sorted(set(role_ids))
            roles = list(Role.select().where(Role.id.in_(wanted)))
            if len(roles) != len(wanted):
                raise ApiException("NOT_FOUND")
            require_holds(actor, [*UserRole.permissions(uid), *(p for role in roles for p in role.permissions)])
            with keeps_an_admin():
                UserRole.delete().where(UserRole.uid == uid).execute()
                for role_id in wanted:
                    UserRole.create(uid=uid, role_id=role_id)
                events.emit("role.changed", {"action": "assign", "uid": uid, "role_ids": wanted, "by": actor})
        return RoleService._user(uid)

    async def assign(self, actor: int, uid: int, role_ids: builtins.list[int], ip: str) -> dict[str, Any]:
        result = await db_write(self._assign, actor, uid, role_ids)
        await self._changed(actor, ip, f"assign roles {[r['id'] for r in result['roles']]} to user {uid}")
        return result

    @staticmethod
    def _user(uid: int) -> dict[str, Any]:
        if not User.select().where(User.id == uid).exists():
            raise ApiException("NOT_FOUND")
        roles = (Role.select().join(UserRole, on=(UserRole.role_id == Role.id))
                 .where(UserRole.uid == uid).order_by(Role.id))
        return {"uid": uid, "roles": [role.to_dict() for role in roles],
                "permissions": sorted(UserRole.permissions(uid))}

    async def user(self, uid: int) -> dict[str, Any]:
        return await db_write(self._user, uid)
