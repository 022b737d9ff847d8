"""The request as controllers and middleware see it (ThinkPHP's Request): parameters, version, user."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.datastructures import Headers

if TYPE_CHECKING:
    from app.common.auth import Identity


class ApiRequest:
    """One API call: its version, language, merged parameters, and the user once checkLogin ran."""

    __slots__ = ("scope", "headers", "version", "lang", "params", "path", "user", "token", "client_ip")

    def __init__(self, scope: dict[str, Any], version: str, path: str):
        self.scope = scope
        self.headers = Headers(scope=scope)
        self.version = version
        self.path = path
        self.lang = "zh"
        self.params: dict[str, Any] = {}
        self.user: Identity | None = None
        self.token: str | None = None
        client = scope.get("client")
        self.client_ip: str = client[0] if client else ""

    def param(self, name: str, default: Any = None) -> Any:
        """One request parameter (query string or body), ThinkPHP's `$request->param('name')`."""
        return self.params.get(name, default)
