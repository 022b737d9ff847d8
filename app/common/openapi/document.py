"""The OpenAPI 3.1 document of every API route of every version, generated from the code.

What comes from where, so the document cannot drift from the service:

- paths and guards: `route/app.py` (Route.rules) and each rule's middleware aliases;
- each action's declaration (`@action(...)`, app/common/action.py): its validator and scene, whose
  `rule`, `field` and `scene` give the parameters; its success answer, the shape of its `data`
  (schemas.py) and its business errors; the first line of its docstring, the summary;
- the signature parameters, their requirement and the `sign` header: SPEC §4 and the settings;
- envelopes and codes: the error catalog (`app/common/error.py`) and `V1_FIELD_CODES`.

An action without a declaration stops the build: the document never guesses.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from app.common.action import find_action
from app.common.error import BY_NAME, CATALOG, V1_FIELD_CODES
from app.common.openapi.envelopes import catalog_entry
from app.common.openapi.errors import ROUTING_ERRORS
from app.common.openapi.operation import build_operation
from app.common.openapi.schemas import COMPONENTS
from app.common.route import Route, RouteRule
from config import Settings

OPENAPI_VERSION = "3.1.0"
API_VERSION = "1.0.0"


def _description(settings: Settings) -> str:
    versions = ", ".join(f"`{v}`" for v in settings.VERSIONS)
    sign = ("""
## Signing a request

Every API request carries `timestamp` (Unix seconds, within %(window)s s of the server's clock),
an optional `nonce` (8–64 characters of `[A-Za-z0-9_-]`, never reused) and an md5 `sign`, in the
HTTP header `sign` (or as a parameter):

1. take every request parameter, query string and body together, except `sign` and except those
   whose value is `null` or the empty string;
2. sort them by name and write each as `name=value`: strings as they are (not URL-encoded),
   numbers as JSON writes them, `true`/`false`, arrays and objects as compact JSON with sorted
   keys and non-ASCII left as is;
3. join them with `&`, then append `&key=` and the app's secret;
4. `sign` is the md5 of that string's UTF-8 bytes, as 32 hex digits.

Example: `nonce=a1b2c3d4&password=123456&timestamp=1700000000&username=13911119999&key=s3cr3t`
→ `f631f0e462db6c880048d2f78d4f65ab`.
""" % {"window": settings.SIGN_WINDOW}) if settings.SIGN_REQUIRED else "\nSigning is switched off on this server (SIGN_REQUIRED=0).\n"
    return f"""A login API in two dialects of one contract. Every route is `POST` under `/{{ver}}/`, `ver` in {versions}:

- **v1** answers in the ThinkPHP envelope `{{message, data, errorcode}}` (`errorcode` 0 on success, 60000 up on errors; errors carry `data: {{}}`);
- **v2** answers in the Hyperf envelope `{{code, msg, status, data}}` (`code` 200 on success, 99xx/500xx on errors; errors carry `data: []`).

A path without a version (`/login/jwt/get`) is served as the default version, `{settings.DEFAULT_VERSION}`.
Paths match case-insensitively. Every answer also sets a real HTTP status. Messages are Chinese
unless the client prefers English (`Accept-Language: en`, or a `lang=en` parameter).

Routes behind `checkLogin` take the token as `Authorization: Bearer TOKEN` (or a `token` header or parameter).
Each operation lists every code it can answer (`x-errors`); `x-error-catalog` holds the whole catalog.
{sign}"""


def build_openapi(settings: Settings, rules: Sequence[RouteRule] | None = None) -> dict[str, Any]:
    """The document for this server's settings (versions, signing, debug mode, phone pattern)."""
    if rules is None:
        import route.app  # noqa: F401 - declares the routes
        rules = Route.rules
    paths: dict[str, Any] = {}
    for version in settings.VERSIONS:
        for rule in rules:
            if find_action(rule.target, version) is None:
                continue  # a version whose controller lacks the action does not serve it
            path = rule.path.replace("<ver>", version)
            paths.setdefault(path, {})[rule.method.lower()] = build_operation(rule, version, settings)
    paths["/openapi.json"] = {"get": {
        "operationId": "openapi", "tags": ["pages"], "summary": "This document (OpenAPI 3.1), unsigned",
        "responses": {"200": {"description": "the OpenAPI document",
                              "content": {"application/json": {"schema": {"type": "object", "required": ["openapi"]}}}}}}}
    paths["/docs"] = {"get": {
        "operationId": "docs", "tags": ["pages"], "summary": "The interactive docs page (works offline), unsigned",
        "responses": {"200": {"description": "an HTML page", "content": {"text/html": {"schema": {"type": "string"}}}}}}}
    versions = list(settings.VERSIONS)
    return {
        "openapi": OPENAPI_VERSION,
        "info": {"title": "Login API", "version": API_VERSION, "description": _description(settings),
                 "x-versions": versions, "x-default-version": settings.DEFAULT_VERSION,
                 "x-unversioned-alias": f"a path without a version is served as {settings.DEFAULT_VERSION}"},
        "tags": [{"name": v, "description": "ThinkPHP envelope {message, data, errorcode}" if v == "v1"
                  else "Hyperf envelope {code, msg, status, data}"} for v in versions]
                + [{"name": "pages", "description": "Unversioned pages: this document and the docs page"}],
        "paths": paths,
        "components": {
            "schemas": dict(COMPONENTS),
            # Not `required`: Swagger UI would refuse to send "Try it out" with the field empty, before the
            # docs page's signer fills it in. The server refuses an unsigned request all the same (60007/9907).
            "parameters": {"sign": {
                "name": "sign", "in": "header", "required": False,
                "description": "md5 signature of the request (see the description above), needed on every "
                               "request; may be sent as a `sign` parameter instead. On the docs page leave it "
                               "empty: the page signs \"Try it out\" with the secret typed at the top",
                "schema": {"type": "string", "pattern": "^[0-9a-fA-F]{32}$"}}},
            "headers": {
                "Retry-After": {"description": "seconds until the limit lifts", "schema": {"type": "string"}},
                "X-Request-Id": {"description": "the id under which the failure was logged", "schema": {"type": "string"}},
                "Content-Disposition": {"description": "`attachment; filename=\"users-YYYYMMDD-HHMMSS.csv\"`",
                                        "schema": {"type": "string", "pattern": "^attachment; filename="}},
            },
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer",
                               "description": "an md5 token from /{ver}/login or an access JWT from /{ver}/login/jwt/get"},
                "tokenHeader": {"type": "apiKey", "in": "header", "name": "token",
                                "description": "the same token in a `token` header"},
            },
        },
        "x-error-catalog": [catalog_entry(a) for a in CATALOG],
        "x-v1-field-codes": dict(V1_FIELD_CODES),
        "x-routing-errors": [{"name": n, "v1": BY_NAME[n].v1, "v2": BY_NAME[n].v2, "http": BY_NAME[n].http}
                             for n in ROUTING_ERRORS],
    }
