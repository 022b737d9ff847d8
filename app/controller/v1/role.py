"""v1 Role controller: the role API, each action behind checkLogin and its permission."""
from __future__ import annotations

from app.common.response import JsonResponse
from app.controller.common import Common
from app.service.role import RoleService
from app.validate.role import Role as RoleValidate

_roles = RoleService()


class Role(Common):
    async def _audit(self, what: str) -> None:
        """Role changes are authentication decisions too: who changed what, from where."""
        await self.app.audit.record("role", "changed", uid=self.request.user.uid, ip=self.request.client_ip,
                                    detail=what)

    async def list(self) -> JsonResponse:
        """page, limit → {list, total, page, limit}."""
        data = self.validate(RoleValidate, scene="list")
        return self.success(await _roles.list(data.get("page", 1), data.get("limit", 20)))

    async def create(self) -> JsonResponse:
        """name, title, permissions → the new role (HTTP 201)."""
        data = self.validate(RoleValidate, scene="create")
        role = await _roles.create(self.request.user.uid, data["name"], data["title"], data["permissions"])
        await self._audit(f"create role {role['id']} {role['name']}: {','.join(role['permissions'])}")
        return self.success(role, "CREATED")

    async def update(self) -> JsonResponse:
        """id, and title and/or permissions → the role as it is now."""
        data = self.validate(RoleValidate, scene="update")
        role_id = data.pop("id")
        role = await _roles.update(self.request.user.uid, role_id, data, self.app.clock.seconds())
        await self._audit(f"update role {role_id}: {sorted(data)}")
        return self.success(role)

    async def delete(self) -> JsonResponse:
        """id → the role and its assignments are gone (the caller must hold all its permissions)."""
        data = self.validate(RoleValidate, scene="delete")
        await _roles.delete(self.request.user.uid, data["id"])
        await self._audit(f"delete role {data['id']}")
        return self.success()

    async def assign(self) -> JsonResponse:
        """uid, rid (a list of role ids) → the user's roles become exactly these."""
        data = self.validate(RoleValidate, scene="assign")
        result = await _roles.assign(self.request.user.uid, data["uid"], [int(r) for r in data["rid"]])
        await self._audit(f"assign roles {[r['id'] for r in result['roles']]} to user {data['uid']}")
        return self.success(result)

    async def user(self) -> JsonResponse:
        """uid → the user's roles and effective permissions."""
        data = self.validate(RoleValidate, scene="user")
        return self.success(await _roles.user(data["uid"]))
