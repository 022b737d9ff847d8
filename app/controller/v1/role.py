"""v1 Role controller: the role API, each action behind checkLogin and its permission."""
from __future__ import annotations

from typing import Any

from app.common.action import action
from app.common.openapi import schemas
from app.common.response import JsonResponse
from app.controller.common import Common
from app.service.role import RoleService
from app.validate.role import Role as RoleValidate

# A change to a role: protected roles stay, nobody grants more than they hold, an administrator remains.
_CHANGE_ERRORS = ("NOT_FOUND", "ROLE_PROTECTED", "PERMISSION_ESCALATION", "LAST_ADMIN")


class Role(Common):
    @property
    def _roles(self) -> RoleService:
        """The role service, auditing into this app's log (it holds nothing else: one per action is cheap)."""
        return RoleService(self.app.audit)

    @action(RoleValidate, "list", data=schemas.page_of("Role"))
    async def list(self, data: dict[str, Any]) -> JsonResponse:
        """page, limit → {list, total, page, limit}."""
        return self.success(await self._roles.list(data.get("page", 1), data.get("limit", 20)))

    @action(RoleValidate, "create", answer="CREATED", data=schemas.ref("Role"), errors=("ROLE_NAME_TAKEN", "PERMISSION_ESCALATION"))
    async def create(self, data: dict[str, Any]) -> JsonResponse:
        """name, title, permissions → the new role (HTTP 201)."""
        role = await self._roles.create(self.request.identity.uid, data["name"], data["title"], data["permissions"],
                                        self.request.client_ip)
        return self.success(role, "CREATED")

    @action(RoleValidate, "update", data=schemas.ref("Role"), errors=_CHANGE_ERRORS)
    async def update(self, data: dict[str, Any]) -> JsonResponse:
        """id, and title and/or permissions → the role as it is now."""
        role_id = data.pop("id")
        role = await self._roles.update(self.request.identity.uid, role_id, data, self.app.clock.seconds(),
                                        self.request.client_ip)
        return self.success(role)

    @action(RoleValidate, "delete", errors=_CHANGE_ERRORS)
    async def delete(self, data: dict[str, Any]) -> JsonResponse:
        """id → the role and its assignments are gone (the caller must hold all its permissions)."""
        await self._roles.delete(self.request.identity.uid, data["id"], self.request.client_ip)
        return self.success()

    @action(RoleValidate, "assign", data=schemas.ref("UserRoles"), errors=("NOT_FOUND", "PERMISSION_ESCALATION", "LAST_ADMIN"))
    async def assign(self, data: dict[str, Any]) -> JsonResponse:
        """uid, rid (a list of role ids) → the user's roles become exactly these."""
        result = await self._roles.assign(self.request.identity.uid, data["uid"], [int(r) for r in data["rid"]],
                                          self.request.client_ip)
        return self.success(result)

    @action(RoleValidate, "user", data=schemas.ref("UserRoles"), errors=("NOT_FOUND",))
    async def user(self, data: dict[str, Any]) -> JsonResponse:
        """uid → the user's roles and effective permissions."""
        return self.success(await self._roles.user(data["uid"]))
