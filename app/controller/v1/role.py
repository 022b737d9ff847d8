"""v1 Role controller: the role API, each action behind checkLogin and its permission."""
from __future__ import annotations

from typing import Any

from app.common.action import action
from app.common.openapi import schemas
from app.common.response import JsonResponse
from app.controller.common import Common
from app.service.role import RoleService
from app.validate.role import Role as RoleValidate

_roles = RoleService()
# A change to a role: protected roles stay, nobody grants more than they hold, an administrator remains.
_CHANGE_ERRORS = ("NOT_FOUND", "ROLE_PROTECTED", "PERMISSION_ESCALATION", "LAST_ADMIN")


class Role(Common):
    async def _audit(self, what: str) -> None:
        """Role changes are authentication decisions too: who changed what, from where."""
        await self.app.audit.record("role", "changed", uid=self.request.user.uid, ip=self.request.client_ip,
                                    detail=what)

    @action(RoleValidate, "list", data=schemas.page_of("Role"))
    async def list(self, data: dict[str, Any]) -> JsonResponse:
        """page, limit → {list, total, page, limit}."""
        return self.success(await _roles.list(data.get("page", 1), data.get("limit", 20)))

    @action(RoleValidate, "create", answer="CREATED", data=schemas.ref("Role"), errors=("ROLE_NAME_TAKEN", "PERMISSION_ESCALATION"))
    async def create(self, data: dict[str, Any]) -> JsonResponse:
        """name, title, permissions → the new role (HTTP 201)."""
        role = await _roles.create(self.request.user.uid, data["name"], data["title"], data["permissions"])
        await self._audit(f"create role {role['id']} {role['name']}: {','.join(role['permissions'])}")
        return self.success(role, "CREATED")

    @action(RoleValidate, "update", data=schemas.ref("Role"), errors=_CHANGE_ERRORS)
    async def update(self, data: dict[str, Any]) -> JsonResponse:
        """id, and title and/or permissions → the role as it is now."""
        role_id = data.pop("id")
        role = await _roles.update(self.request.user.uid, role_id, data, self.app.clock.seconds())
        await self._audit(f"update role {role_id}: {sorted(data)}")
        return self.success(role)

    @action(RoleValidate, "delete", errors=_CHANGE_ERRORS)
    async def delete(self, data: dict[str, Any]) -> JsonResponse:
        """id → the role and its assignments are gone (the caller must hold all its permissions)."""
        await _roles.delete(self.request.user.uid, data["id"])
        await self._audit(f"delete role {data['id']}")
        return self.success()

    @action(RoleValidate, "assign", data=schemas.ref("UserRoles"), errors=("NOT_FOUND", "PERMISSION_ESCALATION", "LAST_ADMIN"))
    async def assign(self, data: dict[str, Any]) -> JsonResponse:
        """uid, rid (a list of role ids) → the user's roles become exactly these."""
        result = await _roles.assign(self.request.user.uid, data["uid"], [int(r) for r in data["rid"]])
        await self._audit(f"assign roles {[r['id'] for r in result['roles']]} to user {data['uid']}")
        return self.success(result)

    @action(RoleValidate, "user", data=schemas.ref("UserRoles"), errors=("NOT_FOUND",))
    async def user(self, data: dict[str, Any]) -> JsonResponse:
        """uid → the user's roles and effective permissions."""
        return self.success(await _roles.user(data["uid"]))
