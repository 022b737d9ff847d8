"""v1 Account controller: the account's life after registration (SPEC §11)."""
from __future__ import annotations

from app.common.auth import Auth
from app.common.response import JsonResponse
from app.controller.common import Common
from app.service.session import SessionMeta
from app.validate.account import Account as AccountValidate


class Account(Common):
    async def login_sms(self) -> JsonResponse:
        """phone + its `login` SMS code → {jwt, refresh_jwt, uid, registered} (signs an unknown phone up)."""
        data = self.validate(AccountValidate, scene="login_sms")
        user, registered = await self.app.sms_scenes.login(data["phone"], data["code"], self.request.client_ip)
        if registered:
            await self.app.audit.record("register", "ok", uid=user.id, account=user.account,
                                        ip=self.request.client_ip, detail="login/sms")
        await self.app.audit.record("login", "ok", uid=user.id, ip=self.request.client_ip, detail="login/sms")
        result = await Auth.instance().login(user, "jwt", SessionMeta.of(self.request, data))
        await self.audit_token("issued", user.id)
        return self.success({"jwt": result.access.text, "refresh_jwt": result.refresh.text,
                             "uid": user.id, "registered": registered}, "LOGIN_OK")

    async def password_reset(self) -> JsonResponse:
        """phone + its `reset` SMS code + new password → every session of the user ends."""
        data = self.validate(AccountValidate, scene="reset")
        await self.app.account.reset_password(data, self.request.client_ip)
        return self.success()

    async def password_change(self) -> JsonResponse:
        """old_password (omitted by a user without one) + new password → the user's other sessions end."""
        data = self.validate(AccountValidate, scene="change_password")
        await self.app.account.change_password(self.request, data)
        return self.success()

    async def phone_change(self) -> JsonResponse:
        """new phone + its `change_phone` SMS code (+ password) → the user as /test answers it."""
        data = self.validate(AccountValidate, scene="change_phone")
        await self.app.account.change_phone(self.request, data)
        me = self.request.user
        user = await self.app.account.profile(me.uid)
        return self.success({"uid": me.uid, "account": user.account, "phone": user.phone, "rid": me.role_ids})

    async def delete(self) -> JsonResponse:
        """password (or a `login` SMS code for a user without one) → the account is gone, every session ends."""
        data = self.validate(AccountValidate, scene="delete")
        await self.app.account.delete(self.request, data)
        return self.success()
