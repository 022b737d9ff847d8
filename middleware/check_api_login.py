"""CheckApiLogin (alias `checkLogin`): the request's token must be a live access token."""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from app.common.auth import Auth
from app.common.error import ApiException
from app.request import NO_TOKEN, ApiRequest


def token_of(request: ApiRequest) -> str | None:
    """The token from `Authorization: Bearer …`, a `token` header, or a `token` body parameter.

    `params` holds no query-string token: the dispatcher refuses one before any action runs (SPEC §10).
    """
    authorization = request.headers.get("authorization")
    if authorization:
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
    token = request.headers.get("token") or request.params.get("token")
    return token.strip() if isinstance(token, str) and token.strip() else None


class CheckApiLogin:
    def __init__(self, app: Any):
        self.app = app

    async def handle(self, request: ApiRequest, next_: Callable[[ApiRequest], Awaitable[Any]]) -> Any:
        token = token_of(request)
        if token is None:
            raise ApiException("TOKEN_INVALID", reason=NO_TOKEN)
        request.user = await Auth.instance().check(token)
        request.token = token
        self.app.sessions.touch(request.user.sid)  # last_seen_at, at most once a minute, not awaited
        return await next_(request)


async def require_login(app: Any, request: ApiRequest) -> None:
    """checkLogin inside an action whose need for it depends on a parameter (send/sms scene change_phone)."""
    async def done(_: ApiRequest) -> None:
        return None
    await CheckApiLogin(app).handle(request, done)
