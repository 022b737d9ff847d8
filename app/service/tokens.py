"""Token decisions as the API makes them: Auth issues, refreshes and revokes; each decision is audited here."""
from __future__ import annotations

from app.common.auth import Auth, LoginResult
from app.common.token.driver import IssuedToken
from app.model.user import User
from app.service.audit import Audit
from app.service.session import SessionMeta


class TokenService:
    def __init__(self, audit: Audit):
        self.audit = audit

    async def issue(self, user: User, meta: SessionMeta, ip: str, driver: str | None = None) -> LoginResult:
        """A new session of `user` with its tokens (the configured driver unless `driver`)."""
        result = await Auth.instance().login(user, driver, meta)
        await self.audit.record("token", "issued", uid=user.id, ip=ip)
        return result

    async def refresh(self, text: str, ip: str) -> IssuedToken:
        """A new access JWT in the session of the refresh JWT `text`."""
        token = await Auth.instance().refresh(text)
        await self.audit.record("token", "refreshed", uid=token.uid, ip=ip)
        return token

    async def deactivate(self, text: str, ip: str) -> int:
        """End the session of the token `text` everywhere at once; the uid it belonged to."""
        uid = await Auth.instance().deactivate(text)
        await self.audit.record("token", "revoked", uid=uid, ip=ip)
        return uid
