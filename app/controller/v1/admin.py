"""v1 Admin controller: the admin user API and its exports (SPEC §14), each behind its permission."""
from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.responses import StreamingResponse

from app.common.action import action
from app.common.database import db_read
from app.common.openapi import schemas
from app.common.openapi.errors import ACT_ON_USER_ERRORS
from app.common.permission import grants
from app.common.response import JsonResponse
from app.controller.common import Common
from app.model.user_role import UserRole
from app.service import export
from app.service.admin_user import AdminUserService
from app.service.events import mask_phone
from app.validate.admin import Admin as AdminValidate
from app.validate.base import BaseValidate

_admin = AdminUserService()
_FILTERS = ("keyword", "status", "uid", "event", "since", "until")


def _filters(data: dict[str, Any]) -> dict[str, Any]:
    return {name: data[name] for name in _FILTERS if name in data}


def _shown(data: dict[str, Any]) -> dict[str, Any]:
    """The filters as the audit log keeps them: a phone keyword masked (SPEC §13.3)."""
    shown = _filters(data)
    keyword = str(shown.get("keyword", ""))
    if BaseValidate.mobile_pattern.fullmatch(keyword.strip()):
        shown["keyword"] = mask_phone(keyword.strip())
    return shown


class Admin(Common):
    async def _audit(self, outcome: str, detail: str) -> None:
        """Every admin action is recorded: who (uid), from where, what, on whom."""
        await self.app.audit.record("admin", outcome, uid=self.request.user.uid, ip=self.request.client_ip,
                                    detail=detail)

    @action(AdminValidate, "user_list", data=schemas.page_of("AdminUser"))
    async def user_list(self, data: dict[str, Any]) -> JsonResponse:
        """page, limit, keyword, status → {list, total, page, limit}, phones masked."""
        result = await _admin.users(_filters(data), data.get("page", 1), data.get("limit", 20))
        await self._audit("user.list", f"filters {_shown(data)}")
        return self.success(result)

    @action(AdminValidate, "user", data=schemas.USER_STATUS,
            errors=(*ACT_ON_USER_ERRORS, "LAST_ADMIN", "SELF_DISABLE"))
    async def user_disable(self, data: dict[str, Any]) -> JsonResponse:
        """uid → the user is disabled: logins fail as a wrong password, every session ends at once."""
        return await self._on_user("disable", _admin.disable, data["uid"], ends_sessions=True)

    @action(AdminValidate, "user", data=schemas.USER_STATUS, errors=ACT_ON_USER_ERRORS)
    async def user_enable(self, data: dict[str, Any]) -> JsonResponse:
        """uid → the user may log in again."""
        return await self._on_user("enable", _admin.enable, data["uid"])

    @action(AdminValidate, "user", data=schemas.USER_SESSIONS, errors=ACT_ON_USER_ERRORS)
    async def user_sessions(self, data: dict[str, Any]) -> JsonResponse:
        """uid → {uid, list}: the user's live sessions, newest first."""
        return await self._on_user("sessions", _admin.sessions, data["uid"])

    @action(AdminValidate, "user", data=schemas.USER_LOGGED_OUT, errors=ACT_ON_USER_ERRORS)
    async def user_logout(self, data: dict[str, Any]) -> JsonResponse:
        """uid → every session of the user ends; their tokens fail at the next request."""
        return await self._on_user("logout", _admin.logout, data["uid"], ends_sessions=True)

    async def _on_user(self, what: str, act: Callable[[int, int, int], Awaitable[dict[str, Any]]], uid: int,
                       ends_sessions: bool = False) -> JsonResponse:
        """`act(administrator, uid)` on one user, audited as `user.<what>`: on whom, and how many sessions ended."""
        result = await act(self.request.user.uid, uid, self.app.clock.seconds())
        detail = f"user {uid}"
        if ends_sessions:  # enable answers sessions_ended too (always 0): the log does not say it
            detail += f", {result['sessions_ended']} session(s) ended"
        await self._audit(f"user.{what}", detail)
        return self.success(result)

    @action(AdminValidate, "audit_list", data=schemas.page_of("AuditEntry"))
    async def audit_list(self, data: dict[str, Any]) -> JsonResponse:
        """page, limit, uid, event, since, until (Unix seconds) → {list, total, page, limit}, newest first."""
        result = await _admin.audit(_filters(data), data.get("page", 1), data.get("limit", 20))
        await self._audit("audit.list", f"filters {_shown(data)}")
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
        pii = grants(await db_read(UserRole.permissions, self.request.user.uid), "user/export_pii")
        await self._audit(f"{name}.export", f"{fmt}{' with phones' if pii else ''}, filters {_shown(data)}")
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
