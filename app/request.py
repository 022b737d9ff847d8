"""The request as controllers and middleware see it (ThinkPHP's Request): parameters, version, user."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from app.common.error import ApiException
from app.common.text import Text

if TYPE_CHECKING:
    from app.common.auth import Identity

# checkLogin's reason for a request that carries no token (TOKEN_INVALID).
NO_TOKEN = Text("缺少令牌", "no token given")


class ApiRequest:
    """One API call: its version, language, merged parameters, and the user once checkLogin ran."""

    __slots__ = ("scope", "headers", "version", "lang", "params", "path", "user", "token", "client_ip", "body")

    def __init__(self, scope: dict[str, Any], version: str, path: str):
        self.scope = scope
        # One pass over the raw headers into a dict (names are lower-case in ASGI); the first of a
        # repeated header wins, as with Starlette's Headers.get. Read on every request, so kept cheap.
        self.headers: dict[str, str] = {name.decode("latin-1"): value.decode("latin-1")
                                        for name, value in reversed(scope.get("headers", ()))}
        self.version = version
        self.path = path
        self.lang = "zh"
        self.params: dict[str, Any] = {}
        # The raw body as received: the HMAC-SHA256 signature covers its bytes (SPEC §13.1).
        self.body = b""
        self.user: Identity | None = None
        self.token: str | None = None
        client = scope.get("client")
        self.client_ip: str = client[0] if client else ""

    @property
    def identity(self) -> Identity:
        """The logged-in user, for actions behind checkLogin, which always sets it.

        Without one the action answers as checkLogin does to a request with no token, rather than
        failing on None: `user` stays `Identity | None` for code that runs before checkLogin.
        """
        if self.user is None:
            raise ApiException("TOKEN_INVALID", reason=NO_TOKEN)
        return self.user

    def header_lines(self, name: bytes) -> str | None:
        """Every line of header `name` (lower-case) joined in order with commas, or None without one.

        For list headers such as X-Forwarded-For, where each line counts (RFC 9110 §5.3): a proxy
        that appends its own line after the client's must not be outvoted by the first one.
        """
        lines = [value.decode("latin-1") for key, value in self.scope.get("headers", ()) if key == name]
        return ",".join(lines) if lines else None

    def param(self, name: str, default: Any = None) -> Any:
        """One request parameter (query string or body), ThinkPHP's `$request->param('name')`."""
        return self.params.get(name, default)
