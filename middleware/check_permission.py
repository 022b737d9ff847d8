"""CheckPermission (alias `checkPermission`): the user's roles, as the database has them now, must grant the action.

Declared after checkLogin: `.middleware("checkLogin", "checkPermission:role/create")`. Without
an argument the permission is the route's path (`role/create`). The `rid` inside a token is
never trusted here, so taking a role away works on the very next request in every worker.
"""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from app.common.database import db_read
from app.common.error import ApiException
from app.common.permission import grants
from app.model.user_role import UserRole
from app.request import ApiRequest


class CheckPermission:
    def __init__(self, app: Any):
        self.app = app

    async def handle(self, request: ApiRequest, next_: Callable[[ApiRequest], Awaitable[Any]],
                     permission: str | None = None) -> Any:
        if request.user is None:
            raise RuntimeError("checkPermission must run after checkLogin")
        wanted = permission or request.path.strip("/")
        if not grants(await db_read(UserRole.permissions, request.user.uid), wanted):
            raise ApiException("PERMISSION_DENIED")
        return await next_(request)
