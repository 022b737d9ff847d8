"""v1 Admin controller: the admin user API and its exports (SPEC §14), each behind its permission."""
from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.responses import StreamingResponse

from app.common.action import action
from app.common.openapi import schemas
from app.common.openapi.errors import ACT_ON_USER_ERRORS
from app.common.response import JsonResponse
from app.controller.common import Common
from app.service import export
from app.service.admin_user import AdminUserService
from app.validate.admin import Admin as AdminValidate

_FILTERS = ("keyword", "status", "uid", "event", "since", "until")


def _filters(data: dict[str, Any]) -> dict[str, Any]:
    return {name: data[name] for name in _FILTERS if name in data}


class Admin(Common):
    @property
    def _admin(self) -> AdminUserService:
        """The admin user service, auditing into this app's log (it holds nothing else: one per action is cheap)."""
        return AdminUserService(self.app.audit)

    @action(AdminValidate, "user_list", data=schemas.page_of("AdminUser"))
    async def user_list(self, data: dict[str, Any]) -> JsonResponse:
        """page, limit, keyword, status → {list, total, page, limit}, phones masked."""
        result = await self._admin.users(_filters(data), data.get("page", 1), data.get("limit", 20),
                                         self.request.identity.uid, self.request.client_ip)
        return self.success(result)

    @action(AdminValidate, "user", data=schemas.USER_STATUS,
            errors=(*ACT_ON_USER_ERRORS, "LAST_ADMIN", "SELF_DISABLE"))
    async def user_disable(self, data: dict[str, Any]) -> JsonResponse:
        """uid → the user is disabled: logins fail as a wrong password, every session ends at once."""
        return await self._on_user(self._admin.disable, data["uid"])

    @action(AdminValidate, "user", data=schemas.USER_STATUS, errors=ACT_ON_USER_ERRORS)
    async def user_enable(self, data: dict[str, Any]) -> JsonResponse:
        """uid → the user may log in again."""
        return await self._on_user(self._admin.enable, data["uid"])

    @action(AdminValidate, "user", data=schemas.USER_SESSIONS, errors=ACT_ON_USER_ERRORS)
    async def user_sessions(self, data: dict[str, Any]) -> JsonResponse:
        """uid → {uid, list}: the user's live sessions, newest first."""
        return await self._on_user(self._admin.sessions, data["uid"])

    @action(AdminValidate, "user", data=schemas.USER_LOGGED_OUT, errors=ACT_ON_USER_ERRORS)
    async def user_logout(self, data: dict[str, Any]) -> JsonResponse:
        """uid → every session of the user ends; their tokens fail at the next request."""
        return await self._on_user(self._admin.logout, data["uid"])

    async def _on_user(self, act: Callable[[int, int, int, str], Awaitable[dict[str, Any]]], uid: int) -> JsonResponse:
        """`act(administrator, uid, now, ip)` on one user (the service audits it)."""
        return self.success(await act(self.request.identity.uid, uid, self.app.clock.seconds(), self.request.client_ip))

    @action(AdminValidate, "audit_list", data=schemas.page_of("AuditEntry"))
    async def audit_list(self, data: dict[str, Any]) -> JsonResponse:
        """page, limit, uid, event, since, until (Unix seconds) → {list, total, page, limit}, newest first."""
        result = await self._admin.audit(_filters(data), data.get("page", 1), data.get("limit", 20),
                                         self.request.identity.uid, self.request.client_ip)
        return self.success(result)

    @action(AdminValidate, "user_export", files=schemas.EXPORT_TYPES)
    async def user_export(self, data: dict[str, Any]) -> StreamingResponse:
        """format (csv|xlsx), keyword, status, max_rows → the file of the matching users."""
        return await self._export("users", data)

    @action(AdminValidate, "audit_export", files=schemas.EXPORT_TYPES)
    async def audit_export(self, data: dict[str, Any]) -> StreamingResponse:
        """format (csv|xlsx), uid, event, since, until, max_rows → the file of the matching audit entries."""
        return await self._export("audit", data)

    async def _export(self, name: str, data: dict[str, Any]) -> StreamingResponse:
        sheet = export.SHEETS[name]
        fmt = data["format"]
        pii = await self._admin.begin_export(name, fmt, _filters(data), self.request.identity.uid, self.request.client_ip)
        tables = export.table(sheet, _filters(data), pii=pii, zone=self.settings.APP_TIMEZONE,
                              max_rows=data.get("max_rows"))
        stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(self.app.clock.now()))
        headers = {"Content-Disposition": f'attachment; filename="{name}-{stamp}.{fmt}"',
                   "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}
        if fmt == "csv":
            body = export.stream_csv(export.csv_chunks(sheet.columns, tables))
        else:
            target, size = await export.build_xlsx(name, sheet.columns, tables)
            body = export.stream_file(target)
            headers["Content-Length"] = str(size)
        return StreamingResponse(body, media_type=export.FORMATS[fmt], headers=headers)
