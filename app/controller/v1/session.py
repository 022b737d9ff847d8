"""v1 Session controller: the logged-in user's sessions, listed and ended (SPEC §11)."""
from __future__ import annotations

from typing import Any

from app.common.action import action
from app.common.error import ApiException
from app.common.openapi import schemas
from app.common.response import JsonResponse
from app.common.text import Text
from app.controller.common import Common
from app.validate.account import Account as AccountValidate

_ONE_OF = Text("请给出 sid 或 scope 之一", "give either sid or scope")


class Session(Common):
    @action(data=schemas.SESSION_LIST)
    async def list(self) -> JsonResponse:
        """→ {list: [{sid, current, platform, device, ip, user_agent, created_at, last_seen_at}]}, newest first."""
        me = self.request.identity
        return self.success({"list": await self.app.sessions.list(me.uid, me.sid)})

    @action(AccountValidate, "end_session", data=schemas.SESSIONS_ENDED, errors=("NOT_FOUND",))
    async def end(self, data: dict[str, Any]) -> JsonResponse:
        """sid (one of the user's), or scope = others / all → {ended: N}."""
        if ("sid" in data) == ("scope" in data):
            raise ApiException("PARAM_INVALID", field="sid", reason=_ONE_OF)
        me = self.request.identity
        ended = await self.app.sessions.end(me.uid, me.sid, data.get("sid"), data.get("scope"), self.request.client_ip)
        return self.success({"ended": ended})
