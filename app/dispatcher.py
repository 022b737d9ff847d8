"""The ASGI dispatcher: path → version and route, input → parameters, action → envelope.

Resolved once at start: every (version, path) pair maps to a ready endpoint, so a request
costs a dict lookup to route. Every failure, from an unknown path to an unexpected bug,
goes through exception_handle and leaves in the version's envelope.
"""
from __future__ import annotations

import importlib
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any

from app.common.client_ip import client_address
from app.common.error import ApiException
from app.common.lang import choose_language, lang_in_query
from app.common.param_names import check_names, refuse_secrets
from app.common.request_id import current as current_request_id, request_id_for
from app.common.request_input import merge, parse_body, parse_query, read_body
from app.common.route import Route, RouteRule
from app.exception_handle import render_exception
from app.request import ApiRequest
from config import Settings

Endpoint = Callable[[ApiRequest], Awaitable[Any]]
_VERSION_SHAPE = re.compile(r"v\d+")


def _load(dotted: str) -> Any:
    module, _, name = dotted.rpartition(".")
    return getattr(importlib.import_module(module), name)


class Dispatcher:
    def __init__(self, app: Any, rules: list[RouteRule], aliases: dict[str, str],
                 pages: list[RouteRule] | None = None):
        self.app = app
        self.settings: Settings = app.settings
        self.versions = set(self.settings.VERSIONS)
        self.table: dict[tuple[str, str], dict[str, Endpoint]] = {}
        middleware_cache: dict[str, Any] = {}
        for rule in rules:
            for version in self.settings.VERSIONS:
                endpoint = self._endpoint(rule, version, aliases, middleware_cache)
                if endpoint is not None:
                    path = rule.path.replace("<ver>", "").lower().rstrip("/") or "/"
                    self.table.setdefault((version, path.replace("//", "/")), {})[rule.method] = endpoint
        # Unversioned pages (route/app.py: Route.get('/docs', 'Docs/page')): exact paths, default version.
        self.pages: dict[str, dict[str, Endpoint]] = {}
        for rule in Route.pages if pages is None else pages:
            endpoint = self._endpoint(rule, self.settings.DEFAULT_VERSION, aliases, middleware_cache)
            if endpoint is None:
                raise RuntimeError(f"route {rule.method} {rule.path}: no action {rule.target}")
            self.pages.setdefault(rule.path.lower().rstrip("/") or "/", {})[rule.method] = endpoint
        # Requests by route and status, and latency (app/common/metrics.py); None when switched off.
        self.metrics = None
        if getattr(self.settings, "METRICS_ENABLED", False):
            from app.common.metrics import RECENT
            self.metrics = RECENT

    def _endpoint(self, rule: RouteRule, version: str, aliases: dict[str, str],
                  cache: dict[str, Any]) -> Endpoint | None:
        controller_name, _, action_name = rule.target.replace("<ver>", version).partition("/")
        package, _, class_name = controller_name.rpartition(".")
        try:
            module = importlib.import_module(".".join(filter(None, ("app.controller", package, class_name.lower()))))
        except ModuleNotFoundError:
            return None
        controller_class = getattr(module, class_name, None)
        action = getattr(controller_class, action_name, None)
        if controller_class is None or action is None:
            return None
        middlewares = []
        for declared in rule.middlewares:
            # ThinkPHP passes a middleware its parameter after a colon: 'checkPermission:role/create'.
            alias, _, argument = declared.partition(":")
            if alias not in cache:
                cache[alias] = _load(aliases[alias])(self.app)
            middlewares.append((cache[alias], (argument,) if argument else ()))
        app = self.app

        async def endpoint(request: ApiRequest) -> Any:
            controller = controller_class(app, request)
            await controller.initialize()

            async def call_action(_: ApiRequest) -> Any:
                return await action(controller)

            step: Endpoint = call_action
            for middleware, arguments in reversed(middlewares):
                step = _bind(middleware, step, arguments)
            return await step(request)

        return endpoint

    def split(self, raw_path: str) -> tuple[str, str, bool]:
        """(version, path within it, known); unversioned paths get DEFAULT_VERSION."""
        path = raw_path.lower().rstrip("/") or "/"
        first, _, rest = path[1:].partition("/")
        if first in self.versions:
            return first, "/" + rest if rest else "/", True
        if _VERSION_SHAPE.fullmatch(first):
            return self.settings.DEFAULT_VERSION, path, False
        return self.settings.DEFAULT_VERSION, path, True

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        started = time.perf_counter()
        page_path = scope["path"].lower().rstrip("/") or "/"
        page = self.pages.get(page_path)
        if page is not None:
            status = await self._page(page, scope, receive, send)
            if self.metrics is not None:
                self.metrics.observe(page_path, status, time.perf_counter() - started)
            return
        version, path, known = self.split(scope["path"])
        request = ApiRequest(scope, version, path)
        request_id = request_id_for(request.headers.get("x-request-id"))
        current_request_id.set(request_id)
        route = "unmatched"
        if self.settings.TRUSTED_PROXIES:
            request.client_ip = client_address(request.client_ip, request.header_lines(b"x-forwarded-for"),
                                               self.settings.TRUSTED_PROXIES)
        try:
            # `?lang=` counts from the start, so even a 404 or a 413 answers in the language asked for.
            request.lang = choose_language(lang_in_query(scope.get("query_string", b"")),
                                           request.headers.get("accept-language"))
            methods = self.table.get((version, path)) if known else None
            if methods is None:
                raise ApiException("ROUTE_NOT_FOUND")
            route = f"/{version}{path}"
            endpoint = methods.get(scope["method"])
            if endpoint is None:
                raise ApiException("METHOD_NOT_ALLOWED", headers={"Allow": ", ".join(sorted(methods))})
            body = await read_body(receive, request.headers.get("content-length"), self.settings.MAX_BODY_SIZE)
            request.body = body
            query = parse_query(scope.get("query_string", b""))
            if query:
                refuse_secrets(query)
            request.params = merge(query, parse_body(body, request.headers.get("content-type", "")))
            check_names(request.params)
            lang = request.params.get("lang")
            if lang is not None:
                request.lang = choose_language(lang, request.headers.get("accept-language"))
            response = await endpoint(request)
            response.raw_headers.append((b"x-request-id", request_id.encode("ascii")))
        except Exception as exc:  # noqa: BLE001 - the one place every failure becomes an envelope
            response = render_exception(request, exc, self.settings.APP_DEBUG)  # carries the id too
        await response(scope, receive, send)
        if self.metrics is not None:
            self.metrics.observe(route, response.status_code, time.perf_counter() - started)

    async def _page(self, methods: dict[str, Endpoint], scope: dict[str, Any], receive: Any, send: Any) -> int:
        """An unversioned page: no body, no signature; its errors in the default version's envelope.

        Returns the status it answered with."""
        request = ApiRequest(scope, self.settings.DEFAULT_VERSION, scope["path"].lower())
        request_id = request_id_for(request.headers.get("x-request-id"))
        current_request_id.set(request_id)
        try:
            request.lang = choose_language(lang_in_query(scope.get("query_string", b"")),
                                           request.headers.get("accept-language"))
            endpoint = methods.get(scope["method"])
            if endpoint is None:
                raise ApiException("METHOD_NOT_ALLOWED", headers={"Allow": ", ".join(sorted(methods))})
            request.params = parse_query(scope.get("query_string", b""))
            response = await endpoint(request)
            response.raw_headers.append((b"x-request-id", request_id.encode("ascii")))
        except Exception as exc:  # noqa: BLE001 - as in __call__
            response = render_exception(request, exc, self.settings.APP_DEBUG)
        await response(scope, receive, send)
        status: int = response.status_code  # an action's answer: a Response, typed Any as actions are
        return status


def _bind(middleware: Any, next_: Endpoint, arguments: tuple[str, ...]) -> Endpoint:
    async def step(request: ApiRequest) -> Any:
        return await middleware.handle(request, next_, *arguments)
    return step
