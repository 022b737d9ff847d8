"""One operation of the document: a route in one version, from its rule and its action's declaration."""
from __future__ import annotations

from typing import Any

from app.common.action import declared_spec
from app.common.error import BY_NAME
from app.common.openapi.envelopes import data_schema, error_schema, success_schema
from app.common.openapi.errors import code_line, error_codes, route_errors
from app.common.openapi.fields import action_fields
from app.common.route import RouteRule
from config import Settings


def _signing_properties(settings: Settings) -> dict[str, Any]:
    window = settings.SIGN_WINDOW
    return {
        "timestamp": {"type": "integer", "minimum": 1,
                      "description": f"Unix time in seconds (13-digit milliseconds accepted), within {window} s "
                                     "of the server's clock; signed", "x-v1-code": 60005,
                      "examples": [1700000000]},
        "nonce": {"type": "string", "pattern": "^[A-Za-z0-9_-]{8,64}$",
                  "description": "optional, 8-64 characters of [A-Za-z0-9_-], never reused within the window; signed",
                  "examples": ["a1b2c3d4e5f6"]},
        "appid": {"type": "string", "description": "optional: selects the app's secret (SIGN_APPS); signed"},
    }


def _error_responses(version: str, names: list[str], fields: list[str],
                     errors: list[dict[str, Any]]) -> dict[str, Any]:
    """One response per HTTP status, its codes merged; each error is also listed in `errors` (x-errors)."""
    by_status: dict[int, list[str]] = {}
    for name in names:
        by_status.setdefault(BY_NAME[name].http, []).append(name)
    responses: dict[str, Any] = {}
    for status, group in sorted(by_status.items()):
        codes: set[int] = set()
        lines: dict[str, list[tuple[str, str]]] = {}  # one line per code: names that share it are merged
        for name in group:
            group_codes = error_codes(version, name, fields)
            codes |= group_codes
            message = BY_NAME[name].message(version, "en")
            lines.setdefault("/".join(map(str, sorted(group_codes))), []).append((name, message))
            errors.append({"name": name, "code": sorted(group_codes), "http": status})
        response: dict[str, Any] = {
            "description": "\n".join(code_line(code, named) for code, named in lines.items()),
            "content": {"application/json": {"schema": error_schema(version, codes, status == 500)}}}
        if status == 429:
            response["headers"] = {"Retry-After": {"$ref": "#/components/headers/Retry-After"}}
        if status == 500:
            response["headers"] = {"X-Request-Id": {"$ref": "#/components/headers/X-Request-Id"}}
        if status == 405:
            continue
        responses[str(status)] = response
    return responses


def build_operation(rule: RouteRule, version: str, settings: Settings) -> dict[str, Any]:
    """The operation of `rule` in `version`; its action must be declared (app/common/action.py)."""
    spec = declared_spec(rule.target, version)
    properties, required = action_fields(spec, settings.PHONE_PATTERN)
    fields = list(properties)
    if settings.SIGN_REQUIRED:
        properties.update(_signing_properties(settings))
        required.append("timestamp")
    properties["lang"] = {"type": "string", "enum": ["zh-cn", "zh", "en", "en-us"],
                          "description": "message language (ThinkPHP's habit); else Accept-Language; Chinese by default"}
    guarded = [alias.partition(":")[0] for alias in rule.middlewares]
    if "checkLogin" in guarded:
        properties["token"] = {"type": "string", "description": "the token, when not sent as `Authorization: Bearer`"}

    parameters: list[dict[str, Any]] = []
    if settings.SIGN_REQUIRED:
        parameters.append({"$ref": "#/components/parameters/sign"})

    answer = BY_NAME[spec.answer]
    responses: dict[str, Any] = {str(answer.http): {
        "description": f"{answer.name}: {answer.en}",
        "content": {"application/json": {"schema": success_schema(version, answer, data_schema(version, spec.data))}}}}
    if spec.files:
        responses[str(answer.http)] = {
            "description": "the file itself, streamed (`format` picks CSV, UTF-8 with a BOM, or XLSX)",
            "headers": {"Content-Disposition": {"$ref": "#/components/headers/Content-Disposition"}},
            "content": {media: {"schema": {"type": "string", "format": "binary"}} for media in spec.files}}
    errors: list[dict[str, Any]] = []
    responses.update(_error_responses(version, route_errors(rule, settings, fields, spec.errors), fields, errors))

    path = rule.path.replace("<ver>", version)
    needs = " + ".join(["sign"] * bool(settings.SIGN_REQUIRED) + [f"`{g}`" for g in guarded]) or "nothing"
    description = [f"Needs: {needs}."]
    if version == settings.DEFAULT_VERSION:
        description.append(f"Also served without the version, as `{rule.path.replace('/<ver>', '') or '/'}` "
                           f"(DEFAULT_VERSION is `{version}`).")
    description.append("Parameters travel as a JSON object body (shown), a form body or the query string; "
                       "a name given twice is a parameter error.")
    operation: dict[str, Any] = {
        "operationId": f"{version}_{path.strip('/').split('/', 1)[1].replace('/', '_')}",
        "tags": [version],
        # Swagger UI shows a summary as plain text: no Markdown backticks in it
        "summary": spec.summary.replace("`", ""),
        "description": " ".join(description),
        "parameters": parameters,
        "requestBody": {"required": bool(required), "content": {"application/json": {"schema": {
            "type": "object", "properties": properties, "required": required}}}},
        "responses": responses,
        "x-errors": errors,
        "x-action": rule.target,
    }
    if "checkLogin" in guarded:
        operation["security"] = [{"bearerAuth": []}, {"tokenHeader": []}]
    return operation
