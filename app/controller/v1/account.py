"""v1 Account controller: the account's life after registration (SPEC §11)."""
from __future__ import annotations

from typing import Any

from app.common.action import action
from app.common.openapi import schemas
from app.common.openapi.errors import REAUTH_ERRORS, SMS_CODE_ERRORS
from app.common.response import JsonResponse
from app.controller.common import Common
from app.validate.account import Account as AccountValidate


class Account(Common):
    @action(AccountValidate, "login_sms", answer="LOGIN_OK", data=schemas.LOGIN_SMS, errors=SMS_CODE_ERRORS)
    async def login_sms(self, data: dict[str, Any]) -> JsonResponse:
        """phone + its `login` SMS code → {jwt, refresh_jwt, uid, registered} (signs an unknown phone up)."""
        user, registered = await self.app.sms_scenes.login(data["phone"], data["code"], self.request.client_ip)
        result = await self.app.tokens.issue(user, self.session_meta(data), self.request.client_ip, "jwt")
        return self.success({"jwt": result.access.text, "refresh_jwt": result.refresh.text,
                             "uid": user.id, "registered": registered}, "LOGIN_OK")

    @action(AccountValidate, "reset", errors=SMS_CODE_ERRORS)
    async def password_reset(self, data: dict[str, Any]) -> JsonResponse:
        """phone + its `reset` SMS code + new password → every session of the user ends."""
        await self.app.account.reset_password(data, self.request.client_ip)
        return self.success()

    @action(AccountValidate, "change_password", errors=REAUTH_ERRORS)
    async def password_change(self, data: dict[str, Any]) -> JsonResponse:
        """old_password (omitted by a user without one) + new password → the user's other sessions end."""
        await self.app.account.change_password(self.caller(), data)
        return self.success()

    @action(AccountValidate, "change_phone", data=schemas.ME, errors=(*REAUTH_ERRORS, *SMS_CODE_ERRORS, "PHONE_TAKEN"))
    async def phone_change(self, data: dict[str, Any]) -> JsonResponse:
        """new phone + its `change_phone` SMS code (+ password) → the user as /test answers it."""
        await self.app.account.change_phone(self.caller(), data)
        me = self.request.identity
        user = await self.app.account.profile(me.uid)
        return self.success({"uid": me.uid, "account": user.account, "phone": user.phone, "rid": me.role_ids})

    @action(AccountValidate, "delete", errors=(*REAUTH_ERRORS, *SMS_CODE_ERRORS))
    async def delete(self, data: dict[str, Any]) -> JsonResponse:
        """password (or a `login` SMS code for a user without one) → the account is gone, every session ends."""
        await self.app.account.delete(self.caller(), data)
        return self.success()
