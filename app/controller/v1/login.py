"""v1 Login controller: the ThinkPHP document's login and test actions."""
from __future__ import annotations

from typing import Any

from app.common.action import action
from app.common.clock import format_time
from app.common.openapi import schemas
from app.common.openapi.errors import LOGIN_ERRORS, SMS_CODE_ERRORS, TOKEN_ERRORS
from app.common.response import JsonResponse
from app.controller.common import Common
from app.validate.login import Login as LoginValidate
from app.validate.sms import Sms as SmsValidate
from app.validate.user import UserCreate
from middleware.check_api_login import require_login


class Login(Common):
    @action(LoginValidate, "login", answer="LOGIN_OK", data=schemas.LOGIN, errors=LOGIN_ERRORS)
    async def login(self, data: dict[str, Any]) -> JsonResponse:
        """username (account or phone) + password → a token of the configured driver."""
        user = await self.app.login_guard.attempt(data["username"], data["password"], self.caller())
        result = await self.app.tokens.issue(user, self.session_meta(data), self.request.client_ip)
        token = result.access
        return self.success({
            "token": token.text,
            "expires_in": token.expire_at - token.issued_at,
            "expire_time": format_time(token.expire_at, self.settings.APP_TIMEZONE),
            "uid": user.id,
        }, "LOGIN_OK")

    @action(data=schemas.ME)
    async def test(self) -> JsonResponse:
        """The logged-in user and the roles the database gives them now, behind checkLogin."""
        user = self.request.identity
        return self.success({"uid": user.uid, "account": user.account, "phone": user.phone, "rid": user.role_ids})

    @action(UserCreate, "register", answer="CREATED", errors=("ACCOUNT_TAKEN", "PHONE_TAKEN", *SMS_CODE_ERRORS))
    async def register(self, data: dict[str, Any]) -> JsonResponse:
        """account, password, password_confirmation, phone, code → a new user (HTTP 201)."""
        await self.app.registration.register(data, self.request.client_ip)
        return self.success(name="CREATED")

    # scene change_phone needs a login: the token's errors
    @action(SmsValidate, "send", data=schemas.SMS_CODE_IN_DEBUG, errors=(
        "SMS_STILL_VALID", "SMS_LIMITED", "SMS_CLIENT_LIMITED", "SMS_TOTAL_LIMITED", "SMS_SEND_FAILED",
        "CAPTCHA_REQUIRED", "CAPTCHA_WRONG", *TOKEN_ERRORS))
    async def send_sms(self, data: dict[str, Any]) -> JsonResponse:
        """phone (+ scene) → a 6-digit code valid SMS_TTL seconds; in debug mode the code is in `data`."""
        scene = data.get("scene", "register")
        if scene == "change_phone":  # sent to the new phone of a logged-in user (SPEC §11)
            await require_login(self.app, self.request)
        if self.settings.SMS_CAPTCHA:
            await self.app.captcha.require(self.request.param("captcha_id"), self.request.param("captcha_code"))
        code = await self.app.sms_scenes.send(data["phone"], self.request.client_ip, scene)
        return self.success({"code": code} if self.settings.APP_DEBUG and code else None)

    @action(data=schemas.CAPTCHA)
    async def captcha(self) -> JsonResponse:
        """→ {captcha_id, image}: a PNG data URL, valid CAPTCHA_TTL seconds, single use."""
        return self.success(await self.app.captcha.create())
