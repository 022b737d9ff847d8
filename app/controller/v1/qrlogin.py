"""v1 QrLogin controller: QR-code login (SPEC §12); the page creates and polls, the app scans and decides."""
from __future__ import annotations

from app.common.response import JsonResponse
from app.controller.common import Common
from app.validate.qrlogin import QrLogin as QrLoginValidate


def no_store(response: JsonResponse) -> JsonResponse:
    """An answer that carries a secret, a token or a code is never kept by a cache (SPEC §10)."""
    response.headers["Cache-Control"] = "no-store"
    return response


class QrLogin(Common):
    async def create(self) -> JsonResponse:
        """A ticket for the web page: {ticket, poll_secret, content, qrcode, expires_in, interval}."""
        data = self.validate(QrLoginValidate, scene="create")
        agent = self.request.headers.get("user-agent")
        return no_store(self.success(await self.app.qrlogin.create(data.get("platform") or "web",
                                                                   self.request.client_ip or None, agent)))

    async def poll(self) -> JsonResponse:
        """ticket + poll_secret (+ wait 0-25 s) → {state, expires_in}; `confirmed` adds the tokens, once."""
        data = self.validate(QrLoginValidate, scene="poll")
        result = await self.app.qrlogin.poll(data["ticket"], data["poll_secret"], data.get("wait", 0))
        return no_store(self.success(result, "LOGIN_OK" if "jwt" in result else "OK"))

    async def scan(self) -> JsonResponse:
        """The app scanned a ticket → {platform, ip, user_agent, created_at} of the page that made it."""
        data = self.validate(QrLoginValidate, scene="ticket")
        me = self.request.user
        return self.success(await self.app.qrlogin.scan(data["ticket"], me.uid, me.account, self.request.client_ip))

    async def confirm(self) -> JsonResponse:
        """The app confirms a ticket it scanned: the page gets a session of this user."""
        data = self.validate(QrLoginValidate, scene="ticket")
        await self.app.qrlogin.confirm(data["ticket"], self.request.user.uid, self.request.client_ip)
        return self.success()

    async def cancel(self) -> JsonResponse:
        """The app refuses a ticket it scanned: the page is told so."""
        data = self.validate(QrLoginValidate, scene="ticket")
        await self.app.qrlogin.cancel(data["ticket"], self.request.user.uid, self.request.client_ip)
        return self.success()
