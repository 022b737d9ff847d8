"""v1 Jwt controller: the Hyperf document's JWT endpoints (get, refresh, deactivate, status)."""
from __future__ import annotations

from app.common.auth import Auth
from app.common.response import JsonResponse
from app.controller.common import Common
from app.service.session import SessionMeta
from app.validate.jwt import Jwt as JwtValidate


class Jwt(Common):
    async def get(self) -> JsonResponse:
        """account (or phone) + pwd → {jwt, refresh_jwt}."""
        data = self.validate(JwtValidate, scene="get")
        user = await self.app.login_guard.attempt(self.request, data["account"], data["pwd"])
        result = await Auth.instance().login(user, "jwt", SessionMeta.of(self.request, data))
        await self.audit_token("issued", user.id)
        return self.success({"jwt": result.access.text, "refresh_jwt": result.refresh.text}, "LOGIN_OK")

    async def refresh(self) -> JsonResponse:
        """A refresh JWT → a new access JWT (data is the token string); rotate=1 → {jwt, refresh_jwt}."""
        data = self.validate(JwtValidate, scene="refresh")
        if data.get("rotate") == "1" or self.settings.REFRESH_ROTATE:
            pair = await self.app.rotation.rotate(data["jwt"], self.request.client_ip)
            return self.success(pair)
        token = await Auth.instance().refresh(data["jwt"])
        await self.audit_token("refreshed", token.uid)
        return self.success(token.text)

    async def deactivate(self) -> JsonResponse:
        """Any token of a session → that session ends everywhere at once."""
        data = self.validate(JwtValidate, scene="token")
        uid = await Auth.instance().deactivate(data["jwt"])
        await self.audit_token("revoked", uid)
        return self.success()

    async def status(self) -> JsonResponse:
        """A live token → {exp, uid, jwt_data: {uid, rid}, exp_date, iat_date}."""
        data = self.validate(JwtValidate, scene="token")
        return self.success(await Auth.instance().status(data["jwt"]))
