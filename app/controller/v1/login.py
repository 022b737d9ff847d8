"""v1 Login controller: the ThinkPHP document's login and test actions."""
from __future__ import annotations

from app.common.auth import Auth
from app.common.clock import format_time
from app.common.response import JsonResponse
from app.controller.common import Common
from app.validate.login import Login as LoginValidate
from app.validate.sms import Sms as SmsValidate
from app.validate.user import UserCreate


class Login(Common):
    async def login(self) -> JsonResponse:
        """username (account or phone) + password → a token of the configured driver."""
        data = self.validate(LoginValidate, scene="login")
        auth = Auth.instance()
        user = await auth.attempt(data["username"], data["password"])
        result = await auth.login(user)
        token = result.access
        return self.success({
            "token": token.text,
            "expires_in": token.expire_at - token.issued_at,
            "expire_time": format_time(token.expire_at, self.settings.APP_TIMEZONE),
            "uid": user.id,
        }, "LOGIN_OK")

    async def test(self) -> JsonResponse:
        """The logged-in user, behind checkLogin."""
        user = self.request.user
        rid = await Auth.instance().role_ids(user.uid)
        return self.success({"uid": user.uid, "account": user.account, "phone": user.phone, "rid": rid})

    async def register(self) -> JsonResponse:
        """account, password, password_confirmation, phone, code → a new user (HTTP 201)."""
        data = self.validate(UserCreate, scene="register")
        await self.app.registration.register(data)
        return self.success(name="CREATED")

    async def send_sms(self) -> JsonResponse:
        """phone → a 6-digit code valid SMS_TTL seconds; in debug mode the code is in `data`."""
        data = self.validate(SmsValidate, scene="send")
        code = await self.app.sms.send(data["phone"])
        return self.success({"code": code} if self.settings.APP_DEBUG else None)
