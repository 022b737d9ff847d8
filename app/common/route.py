"""The route table in ThinkPHP's manner: `Route.post('/<ver>/login', '<ver>.Login/login').middleware('checkLogin')`.

`<ver>` stands for every configured version and resolves the controller to
`app/controller/<ver>/<name>.py`; a version whose controller lacks the action does not serve it.

A path without `<ver>` declares an unversioned page instead (`Route.get('/openapi.json',
'Docs/openapi')`, controller in `app/controller/docs.py`): served at exactly that path, outside
the versions, the signature check and the envelope. Pages live in `Route.pages`, not in
`Route.rules`, so the API tables and the OpenAPI document list only the API routes.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class RouteRule:
    method: str
    path: str
    target: str
    middlewares: list[str] = field(default_factory=list)

    def middleware(self, *names: str) -> RouteRule:
        """Run these middleware aliases (config/middleware.py) before the action."""
        self.middlewares.extend(names)
        return self


class Route:
    """Collects the rules that route/app.py declares."""

    rules: list[RouteRule] = []
    # Unversioned pages (paths without `<ver>`): the OpenAPI document, the docs page and its assets.
    pages: list[RouteRule] = []

    @classmethod
    def rule(cls, method: str, path: str, target: str) -> RouteRule:
        entry = RouteRule(method.upper(), path, target)
        (cls.rules if "<ver>" in path else cls.pages).append(entry)
        return entry

    @classmethod
    def post(cls, path: str, target: str) -> RouteRule:
        return cls.rule("POST", path, target)

    @classmethod
    def get(cls, path: str, target: str) -> RouteRule:
        return cls.rule("GET", path, target)
