"""v1 QrLogin controller: QR-code login (SPEC §12); the page creates and polls, the app scans and decides."""
from __future__ import annotations

from typing import Any

from app.common.action import action
from app.common.openapi import schemas
from app.common.response import JsonResponse
from app.controller.common import Common
from app.validate.qrlogin import QrLogin as QrLoginValidate

# A ticket the app acts on: unknown or expired, or not in the state the step needs.
_TICKET_ERRORS = ("QR_TICKET_INVALID", "QR_TICKET_STATE")


def no_store(response: JsonResponse) -> JsonResponse:
    """An answer that carries a secret, a token or a code is never kept by a cache (SPEC §10)."""
    response.headers["Cache-Control"] = "no-store"
    return response


class QrLogin(Common):
    @action(QrLoginValidate, "create", data=schemas.QR_TICKET)
    async def create(self, data: dict[str, Any]) -> JsonResponse:
        """A ticket for the web page: {ticket, poll_secret, content, qrcode, expires_in, interval}."""
        agent = self.request.headers.get("user-agent")
        return no_store(self.success(await self.app.qrlogin.create(data.get("platform") or "web",
                                                                   self.request.client_ip or None, agent)))

    @action(QrLoginValidate, "poll", data=schemas.QR_POLL, errors=("QR_TICKET_INVALID",))
    async def poll(self, data: dict[str, Any]) -> JsonResponse:
        """ticket + poll_secret (+ wait 0-25 s) → {state, expires_in}; `confirmed` adds the tokens, once."""
        result = await self.app.qrlogin.poll(data["ticket"], data["poll_secret"], data.get("wait", 0))
        return no_store(self.success(result, "LOGIN_OK" if "jwt" in result else "OK"))

    @action(QrLoginValidate, "ticket", data=schemas.QR_SCANNED, errors=_TICKET_ERRORS)
    async def scan(self, data: dict[str, Any]) -> JsonResponse:
        """The app scanned a ticket → {platform, ip, user_agent, created_at} of the page that made it."""
        me = self.request.identity
        return self.success(await self.app.qrlogin.scan(data["ticket"], me.uid, me.account, self.request.client_ip))

    @action(QrLoginValidate, "ticket", errors=_TICKET_ERRORS)
    async def confirm(self, data: dict[str, Any]) -> JsonResponse:
        """The app confirms a ticket it scanned: the page gets a session of this user."""
        await self.app.qrlogin.confirm(data["ticket"], self.request.identity.uid, self.request.client_ip)
        return self.success()

    @action(QrLoginValidate, "ticket", errors=_TICKET_ERRORS)
    async def cancel(self, data: dict[str, Any]) -> JsonResponse:
        """The app refuses a ticket it scanned: the page is told so."""
        await self.app.qrlogin.cancel(data["ticket"], self.request.identity.uid, self.request.client_ip)
        return self.success()
