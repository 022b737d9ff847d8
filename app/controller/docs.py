"""Docs controller: the unversioned, unsigned pages of route/app.py.

    GET /openapi.json    the OpenAPI 3.1 document (app/common/openapi/), built for this server's settings
    GET /docs            Swagger UI on that document, with a short "how to sign" and in-browser signing
    GET /docs/<asset>    the page's assets: Swagger UI from the swagger-ui-bundle-v2 package, the rest
                         from app/view/docs/, so the page works without any network but this server
"""
from __future__ import annotations

import json
import mimetypes
from pathlib import Path
from typing import Any

from starlette.responses import Response

from app.common.error import ApiException
from app.common.openapi import build_openapi
from app.request import ApiRequest

VIEW = Path(__file__).resolve().parent.parent / "view" / "docs"
OWN_ASSETS = ("docs.css", "docs.js", "sign.js", "md5.js")
SWAGGER_ASSETS = ("swagger-ui.css", "swagger-ui-bundle.js", "favicon-32x32.png")
_CACHE: dict[str, bytes] = {}
# SPEC §10. The page loads nothing but this server: scripts, styles and fetches from 'self' only, no
# inline script or style (Swagger UI sets its styles through the DOM, which the policy allows); its
# small icons may be data: images. Nobody may frame it (a signer in a frame could be clicked into
# sending for an attacker). tests/api/test_docs_page.py uses the page in Chromium under this policy.
CONTENT_SECURITY_POLICY = ("default-src 'none'; script-src 'self'; style-src 'self'; "
                           "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; "
                           "base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
PAGE_HEADERS = {"Content-Security-Policy": CONTENT_SECURITY_POLICY, "X-Frame-Options": "DENY",
                "X-Content-Type-Options": "nosniff"}


def swagger_ui_dir() -> Path:
    """Where the installed Swagger UI lives (the package is swagger-ui-bundle-v2, module swagger_ui_bundle)."""
    from swagger_ui_bundle import swagger_ui_path

    return Path(str(swagger_ui_path))


def asset_path(name: str) -> Path | None:
    if name in OWN_ASSETS:
        return VIEW / name
    if name in SWAGGER_ASSETS:
        return swagger_ui_dir() / name
    return None


def _read(path: Path) -> bytes:
    key = str(path)
    if key not in _CACHE:
        _CACHE[key] = path.read_bytes()
    return _CACHE[key]


class Docs:
    """Not a Common controller: these pages are neither signed nor enveloped."""

    def __init__(self, app: Any, request: ApiRequest):
        self.app = app
        self.settings = app.settings
        self.request = request

    async def initialize(self) -> None:
        """Nothing to check: the pages are public and read-only."""

    async def openapi(self) -> Response:
        """The OpenAPI 3.1 document of every route of every version."""
        body = getattr(self.app, "openapi_json", None)  # built once per app, for its settings
        if body is None:
            document = build_openapi(self.settings)
            body = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
            self.app.openapi_json = body
        return Response(body, media_type="application/json",
                        headers={"Cache-Control": "no-cache", "Access-Control-Allow-Origin": "*"})

    async def page(self) -> Response:
        """The interactive docs page."""
        return Response(_read(VIEW / "index.html"), media_type="text/html; charset=utf-8",
                        headers={"Cache-Control": "no-cache", **PAGE_HEADERS})

    async def asset(self) -> Response:
        """One asset of the docs page, by its file name."""
        path = asset_path(self.request.path.rsplit("/", 1)[-1])
        if path is None or not path.is_file():
            raise ApiException("ROUTE_NOT_FOUND")
        media_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        if media_type.startswith("text/") or media_type.endswith("javascript"):
            media_type += "; charset=utf-8"
        return Response(_read(path), media_type=media_type, headers={"Cache-Control": "public, max-age=3600", **PAGE_HEADERS})
