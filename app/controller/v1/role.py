"""v1 Role controller: the role API, each action behind checkLogin and its permission."""
from __future__ import annotations

from app.common.response import JsonResponse
from app.controller.common import Common
from app.service.role import RoleService
from app.validate.role import Role as RoleValidate

_roles = RoleService()


class Role(Common):
    async def list(self) -> JsonResponse:
        """page, limit → {list, total, page, limit}."""
        data = self.validate(RoleValidate, scene="list")
        return self.success(await _roles.list(data.get("page", 1), data.get("limit", 20)))

    async def create(self) -> JsonResponse:
        """name, title, permissions → the new role (HTTP 201)."""
        data = self.validate(RoleValidate, scene="create")
        return self.success(await _roles.create(data["name"], data["title"], data["permissions"]), "CREATED")

    async def update(self) -> JsonResponse:
        """id, and title and/or permissions → the role as it is now."""
        data = self.validate(RoleValidate, scene="update")
        role_id = data.pop("id")
        return self.success(await _roles.update(role_id, data))

    async def delete(self) -> JsonResponse:
        """id → the role and its assignments are gone (the built-in role cannot be deleted)."""
        data = self.validate(RoleValidate, scene="delete")
        await _roles.delete(data["id"])
        return self.success()

    async def assign(self) -> JsonResponse:
        """uid, rid (a list of role ids) → the user's roles become exactly these."""
        data = self.validate(RoleValidate, scene="assign")
        return self.success(await _roles.assign(data["uid"], [int(r) for r in data["rid"]]))

    async def user(self) -> JsonResponse:
        """uid → the user's roles and effective permissions."""
        data = self.validate(RoleValidate, scene="user")
        return self.success(await _roles.user(data["uid"]))
