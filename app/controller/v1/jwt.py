"""v1 Jwt controller: the Hyperf document's JWT endpoints (get, refresh, deactivate, status)."""
from __future__ import annotations

from typing import Any

from app.common.action import action
from app.common.auth import Auth
from app.common.openapi import schemas
from app.common.openapi.errors import LOGIN_ERRORS, TOKEN_ERRORS
from app.common.response import JsonResponse
from app.controller.common import Common
from app.validate.jwt import Jwt as JwtValidate


class Jwt(Common):
    @action(JwtValidate, "get", answer="LOGIN_OK", data=schemas.JWT_PAIR, errors=LOGIN_ERRORS)
    async def get(self, data: dict[str, Any]) -> JsonResponse:
        """account (or phone) + pwd → {jwt, refresh_jwt}."""
        user = await self.app.login_guard.attempt(data["account"], data["pwd"], self.caller())
        result = await self.app.tokens.issue(user, self.session_meta(data), self.request.client_ip, "jwt")
        return self.success({"jwt": result.access.text, "refresh_jwt": result.refresh.text}, "LOGIN_OK")

    @action(JwtValidate, "refresh", data=schemas.JWT_REFRESHED, errors=(*TOKEN_ERRORS, "REFRESH_IN_PROGRESS"))
    async def refresh(self, data: dict[str, Any]) -> JsonResponse:
        """A refresh JWT → a new access JWT (data is the token string); rotate=1 → {jwt, refresh_jwt}."""
        if data.get("rotate") == "1" or self.settings.REFRESH_ROTATE:
            pair = await self.app.rotation.rotate(data["jwt"], self.request.client_ip)
            return self.success(pair)
        token = await self.app.tokens.refresh(data["jwt"], self.request.client_ip)
        return self.success(token.text)

    @action(JwtValidate, "token", errors=TOKEN_ERRORS)
    async def deactivate(self, data: dict[str, Any]) -> JsonResponse:
        """Any token of a session → that session ends everywhere at once."""
        await self.app.tokens.deactivate(data["jwt"], self.request.client_ip)
        return self.success()

    @action(JwtValidate, "token", data=schemas.JWT_STATUS, errors=TOKEN_ERRORS)
    async def status(self, data: dict[str, Any]) -> JsonResponse:
        """A live token → {exp, uid, jwt_data: {uid, rid}, exp_date, iat_date}."""
        return self.success(await Auth.instance().status(data["jwt"]))
