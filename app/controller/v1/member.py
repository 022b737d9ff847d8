"""v1 Member controller: the member code (会员码, SPEC §12), shown by the app, read at a counter."""
from __future__ import annotations

from typing import Any

from app.common.action import action
from app.common.openapi import schemas
from app.common.response import JsonResponse
from app.controller.common import Common
from app.controller.v1.qrlogin import no_store
from app.validate.qrlogin import MemberCode


class Member(Common):
    @action(data=schemas.MEMBER_CODE)
    async def code(self) -> JsonResponse:
        """A new one-time member code of the user → {code, qrcode, barcode, expires_in}; the previous one ends."""
        return no_store(self.success(await self.app.member_codes.issue(self.request.identity.uid, self.request.client_ip)))

    @action(MemberCode, data=schemas.MEMBER, errors=("MEMBER_CODE_INVALID",))
    async def verify(self, data: dict[str, Any]) -> JsonResponse:
        """A counter reads a member code → {uid, account, phone (masked)}; the code is used up."""
        return self.success(await self.app.member_codes.verify(data["code"], self.request.identity.uid,
                                                               self.request.client_ip))
