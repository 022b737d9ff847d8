"""GET /openapi.json: a valid OpenAPI 3.1 document of every route of every version, every catalog code,
parameters from the validators, the signature, and envelopes that live answers conform to."""
from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from openapi_spec_validator import OpenAPIV31SpecValidator, validate

import route.app  # noqa: F401 - declares the routes
from app.common.action import declared_spec
from app.common.error import BY_NAME, CATALOG, V1_FIELD_CODES
from app.common.openapi import build_openapi
from app.common.openapi.errors import ROUTING_ERRORS
from app.common.openapi.fields import field_schema
from app.common.route import Route
from app.common.text import Text
from app.validate.base import BaseValidate
from config import load_settings
from tests.conftest import Server
from tests.support import Client, expect_ok

VERSIONS = ["v1", "v2"]
SUCCESSES = {"OK", "LOGIN_OK", "CREATED"}
# SPEC §11's routes behind checkLogin.
LIFECYCLE_GUARDED = {"password/change", "phone/change", "account/delete", "session/list", "session/end"}
# SPEC §12's routes behind checkLogin.
QR_GUARDED = {"qrlogin/scan", "qrlogin/confirm", "qrlogin/cancel", "member/code", "member/verify"}


@pytest.fixture(scope="module")
def doc(server: Server) -> dict[str, Any]:
    response = Client(server.url).raw("GET", "/openapi.json")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    return response.json()


def resolve(node: Any, doc: dict[str, Any]) -> Any:
    """`node` with every local `$ref` replaced by what it points at."""
    if isinstance(node, dict):
        if "$ref" in node:
            target: Any = doc
            for part in node["$ref"].lstrip("#/").split("/"):
                target = target[part]
            return resolve(target, doc)
        return {k: resolve(v, doc) for k, v in node.items()}
    if isinstance(node, list):
        return [resolve(v, doc) for v in node]
    return node


def response_schema(doc: dict[str, Any], path: str, status: int) -> dict[str, Any]:
    return resolve(doc["paths"][path]["post"]["responses"][str(status)]["content"]["application/json"]["schema"], doc)


def body_schema(doc: dict[str, Any], path: str) -> dict[str, Any]:
    return resolve(doc["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"], doc)


def test_is_valid_openapi_3_1(doc: dict[str, Any]) -> None:
    assert doc["openapi"].startswith("3.1.")
    validate(doc, cls=OpenAPIV31SpecValidator)


def test_every_route_of_every_version_is_described(doc: dict[str, Any]) -> None:
    for rule in Route.rules:
        for version in VERSIONS:
            path = rule.path.replace("<ver>", version)
            assert path in doc["paths"], path
            operation = doc["paths"][path][rule.method.lower()]
            assert operation["tags"] == [version]
            assert operation["summary"], path
            assert operation["x-action"] == rule.target
    ids = [op["operationId"] for item in doc["paths"].values() for op in item.values()]
    assert len(ids) == len(set(ids))
    assert len(doc["paths"]) == 2 * len(Route.rules) + 2  # + /openapi.json and /docs
    assert doc["info"]["x-default-version"] == "v2"
    assert "served without the version" in doc["paths"]["/v2/login/jwt/get"]["post"]["description"]
    assert "`/login/jwt/get`" in doc["paths"]["/v2/login/jwt/get"]["post"]["description"]


def test_every_route_declares_its_action() -> None:
    """A route's action says its success answer, data and business errors in its @action declaration."""
    for rule in Route.rules:
        for version in VERSIONS:
            spec = declared_spec(rule.target, version)  # raises for an undeclared action
            assert spec.answer in SUCCESSES
            assert all(name in BY_NAME for name in spec.errors)


def test_whole_catalog_is_in_the_document(doc: dict[str, Any]) -> None:
    listed = {entry["name"]: entry for entry in doc["x-error-catalog"]}
    assert list(listed) == [a.name for a in CATALOG]
    for answer in CATALOG:
        entry = listed[answer.name]
        assert (entry["v1"], entry["v2"], entry["http"], entry["zh"], entry["en"]) == \
            (answer.v1, answer.v2, answer.http, answer.zh, answer.en)
    assert doc["x-v1-field-codes"] == V1_FIELD_CODES
    assert {e["name"] for e in doc["x-routing-errors"]} == set(ROUTING_ERRORS)


def _codes_in(response: dict[str, Any], key: str) -> set[int]:
    schema = response["content"]["application/json"]["schema"]["properties"][key]
    return {schema["const"]} if "const" in schema else set(schema["enum"])


@pytest.mark.parametrize("version", VERSIONS)
def test_every_catalog_code_is_answered_by_some_route(doc: dict[str, Any], version: str) -> None:
    """Each error (but the routing ones) is listed by some operation, under its HTTP status and code."""
    key = "errorcode" if version == "v1" else "code"
    seen: set[str] = set()
    for path, item in doc["paths"].items():
        if not path.startswith(f"/{version}/"):
            continue
        operation = item["post"]
        for error in operation["x-errors"]:
            seen.add(error["name"])
            answer = BY_NAME[error["name"]]
            assert error["http"] == answer.http
            codes = _codes_in(operation["responses"][str(answer.http)], key)
            assert set(error["code"]) <= codes, (path, error)
            assert answer.code(version) in error["code"], (path, error)
        success = [s for s in operation["responses"] if int(s) < 300]
        assert len(success) == 1
    expected = {a.name for a in CATALOG} - SUCCESSES - set(ROUTING_ERRORS)
    assert expected - seen == set()


def test_common_errors_on_every_route(doc: dict[str, Any]) -> None:
    common = {"SIGN_INVALID", "TIMESTAMP_INVALID", "REQUEST_EXPIRED", "REQUEST_REPLAYED", "PARAM_INVALID",
              "PARAMS_UNREADABLE", "BODY_TOO_LARGE", "UNSUPPORTED_MEDIA_TYPE", "UNKNOWN_ERROR"}
    for path, item in doc["paths"].items():
        if path.startswith("/v"):
            assert common <= {e["name"] for e in item["post"]["x-errors"]}, path


def test_route_specific_errors(doc: dict[str, Any]) -> None:
    def names(path: str) -> set[str]:
        return {e["name"] for e in doc["paths"][path]["post"]["x-errors"]}

    assert {"LOGIN_FAILED", "CAPTCHA_REQUIRED", "LOGIN_THROTTLED"} <= names("/v1/login")
    assert {"TOKEN_INVALID", "TOKEN_EXPIRED"} <= names("/v1/test")
    assert "TOKEN_INVALID" not in names("/v1/login")
    assert {"TOKEN_INVALID", "TOKEN_EXPIRED", "PERMISSION_DENIED", "ROLE_PROTECTED"} <= names("/v2/role/delete")
    assert {"SMS_STILL_VALID", "SMS_LIMITED"} <= names("/v2/login/send/sms")
    assert {"ACCOUNT_TAKEN", "PHONE_TAKEN", "SMS_CODE_WRONG"} <= names("/v2/login/register")
    # v1 answers a validation failure with the field's code: 60000 for username, 60001 for password
    assert {60000, 60001, 60006} <= _codes_in(doc["paths"]["/v1/login"]["post"]["responses"]["400"], "errorcode")
    assert _codes_in(doc["paths"]["/v2/login"]["post"]["responses"]["401"], "code") >= {50006, 9907}
    assert "Retry-After" in doc["paths"]["/v2/login/send/sms"]["post"]["responses"]["429"]["headers"]


def test_parameters_come_from_the_validators(doc: dict[str, Any]) -> None:
    register = body_schema(doc, "/v2/login/register")
    assert register["required"] == ["account", "password", "password_confirmation", "phone", "code", "timestamp"]
    props = register["properties"]
    assert (props["password"]["minLength"], props["password"]["maxLength"]) == (6, 32)
    assert props["password"]["pattern"] == "^[A-Za-z0-9_]+$"
    assert props["phone"]["pattern"] == r"^1[3-9]\d{9}$"
    assert (props["code"]["minLength"], props["code"]["maxLength"], props["code"]["pattern"]) == (6, 6, "^[0-9]+$")
    assert props["account"]["maxLength"] == 32 and props["account"]["x-v1-code"] == 60000
    assert props["password_confirmation"]["x-confirms"] == "password"
    login = body_schema(doc, "/v1/login")
    assert login["required"] == ["username", "password", "timestamp"]
    assert set(login["properties"]) >= {"username", "password", "captcha_id", "captcha_code", "nonce", "appid"}
    update = body_schema(doc, "/v1/role/update")
    assert update["required"] == ["id", "timestamp"]  # title? and permissions? are optional in that scene
    assert update["properties"]["id"] == {**update["properties"]["id"], "type": "integer", "minimum": 1,
                                          "maximum": 2147483647}
    assert update["properties"]["permissions"]["type"] == "array"
    assert update["properties"]["permissions"]["maxItems"] == 100
    assert body_schema(doc, "/v2/role/list")["properties"]["limit"]["maximum"] == 100
    assert "token" in body_schema(doc, "/v2/test")["properties"]
    assert body_schema(doc, "/v2/captcha")["required"] == ["timestamp"]


def test_examples_satisfy_their_schemas(doc: dict[str, Any]) -> None:
    for path in doc["paths"]:
        if not path.startswith("/v"):
            continue
        for schema in body_schema(doc, path)["properties"].values():
            for example in schema.get("examples", []):
                jsonschema.validate(example, schema, cls=jsonschema.Draft202012Validator)


def test_signature_and_token(doc: dict[str, Any]) -> None:
    sign = doc["components"]["parameters"]["sign"]
    # needed by the server, but not `required` in the document: Swagger UI would refuse to send "Try it out"
    # before the docs page's signer fills it in (tests/api/test_docs_page.py presses Execute)
    assert (sign["in"], sign["name"], sign["required"]) == ("header", "sign", False)
    assert "needed on every request" in sign["description"]
    timestamp = body_schema(doc, "/v1/login")["properties"]["timestamp"]
    assert timestamp["type"] == "integer"
    assert body_schema(doc, "/v1/login")["properties"]["nonce"]["pattern"] == "^[A-Za-z0-9_-]{8,64}$"
    for path, item in doc["paths"].items():
        if path.startswith("/v"):
            assert {"$ref": "#/components/parameters/sign"} in item["post"]["parameters"]
            guarded = (path.endswith("/test") or "/role/" in path or "/admin/" in path
                       or path.split("/", 2)[2] in LIFECYCLE_GUARDED | QR_GUARDED)
            assert ("security" in item["post"]) == guarded, path
    assert doc["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert "md5 of that string" in doc["info"]["description"]


def test_signing_off_drops_the_signature(tmp_path: Path) -> None:
    settings = load_settings({"SIGN_REQUIRED": "0", "RUNTIME_DIR": str(tmp_path), "SIGN_SECRET": "x",
                              "JWT_SECRET": "y" * 32})
    document = build_openapi(settings)
    operation = document["paths"]["/v1/login"]["post"]
    assert operation["parameters"] == []
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    assert "timestamp" not in schema["properties"] and schema["required"] == ["username", "password"]
    assert "SIGN_INVALID" not in {e["name"] for e in operation["x-errors"]}
    validate(document, cls=OpenAPIV31SpecValidator)


def test_document_does_not_tell_whether_debug_mode_is_on(tmp_path: Path) -> None:
    """SPEC §10: /openapi.json is public; the same document whatever APP_DEBUG is, and both debug
    answers of send/sms (empty data or the code) fit its schema."""
    def build(debug: str) -> dict[str, Any]:
        return build_openapi(load_settings({"APP_DEBUG": debug, "RUNTIME_DIR": str(tmp_path), "SIGN_SECRET": "x",
                                            "JWT_SECRET": "y" * 32}, environ={}))

    document = build("0")
    assert document == build("1")
    for version, empty in (("v1", {}), ("v2", [])):
        schema = resolve(response_schema(document, f"/{version}/login/send/sms", 200), document)
        data = schema["properties"]["data"]
        jsonschema.validate(empty, data)
        jsonschema.validate({"code": "123456"}, data)


def test_docs_page_text_reads_cleanly(doc: dict[str, Any]) -> None:
    """Swagger UI shows summaries as plain text (no Markdown backticks), and each code once per status:
    names that share a code (v2 9906, 50006) are merged into one line."""
    for path, item in doc["paths"].items():
        for operation in item.values():
            assert "`" not in operation["summary"], (path, operation["summary"])
            for status, response in operation["responses"].items():
                codes = re.findall(r"^- `([0-9/]+)`", response["description"], re.M)
                assert len(codes) == len(set(codes)), (path, status, response["description"])
    login = doc["paths"]["/v2/login/jwt/get"]["post"]["responses"]
    assert "`50006` LOGIN_FAILED / USER_NOT_FOUND" in login["401"]["description"]


def test_field_schema_is_generic() -> None:
    class Sample(BaseValidate):
        rule = {"kind": "require|in:a,b", "slug": "alphaDash|max:20", "pin": "length:4|number",
                "age": "integer|between:18,120", "tags": "array|min:1|max:5", "word": ["require", ("regex", "a|b")]}
        field = {"kind": Text("类型", "kind")}

    kind, required = field_schema(Sample, "kind", r"^\d+$")
    assert required and kind["enum"] == ["a", "b"] and kind["description"].startswith("类型 / kind")
    slug, required = field_schema(Sample, "slug", "")
    assert not required and slug["pattern"] == "^[A-Za-z0-9_-]+$" and slug["maxLength"] == 20
    pin, _ = field_schema(Sample, "pin", "")
    assert (pin["minLength"], pin["maxLength"], pin["pattern"]) == (4, 4, "^[0-9]+$")
    age, _ = field_schema(Sample, "age", "")
    assert (age["type"], age["minimum"], age["maximum"]) == ("integer", 18, 120)
    tags, _ = field_schema(Sample, "tags", "")
    assert (tags["type"], tags["minItems"], tags["maxItems"]) == ("array", 1, 5)
    word, _ = field_schema(Sample, "word", "")
    assert word["pattern"] == "^(?:a|b)$" and re.fullmatch(word["pattern"], "a")


def _check(body: Any, schema: dict[str, Any]) -> None:
    jsonschema.validate(body, schema, cls=jsonschema.Draft202012Validator)


@pytest.mark.parametrize("version", VERSIONS)
def test_live_answers_conform_to_the_document(doc: dict[str, Any], server: Server, user: dict,
                                              version: str) -> None:
    """Successes and errors of a live server validate against the document's envelope schemas."""
    client = Client(server.url)
    login = client.post(f"/{version}/login", {"username": user["account"], "password": user["password"]})
    _check(login.json(), response_schema(doc, f"/{version}/login", 200))
    token = expect_ok(login, version)["token"]
    me = client.post(f"/{version}/test", token=token)
    _check(me.json(), response_schema(doc, f"/{version}/test", 200))
    jwt = client.post(f"/{version}/login/jwt/get", {"account": user["account"], "pwd": user["password"]})
    _check(jwt.json(), response_schema(doc, f"/{version}/login/jwt/get", 200))
    pair = expect_ok(jwt, version)
    for path, params in (("status", {"jwt": pair["jwt"]}), ("refresh", {"jwt": pair["refresh_jwt"]}),
                         ("deactivate", {"jwt": pair["jwt"]})):
        response = client.post(f"/{version}/login/jwt/{path}", params)
        _check(response.json(), response_schema(doc, f"/{version}/login/jwt/{path}", 200))
    refused = client.post(f"/{version}/login/jwt/status", {"jwt": pair["jwt"]})
    _check(refused.json(), response_schema(doc, f"/{version}/login/jwt/status", refused.status_code))
    captcha = client.post(f"/{version}/captcha")
    _check(captcha.json(), response_schema(doc, f"/{version}/captcha", 200))
    unsigned = client.post(f"/{version}/login", {"username": "x", "password": "y"}, sign=False)
    assert unsigned.status_code == 400  # no timestamp
    _check(unsigned.json(), response_schema(doc, f"/{version}/login", 400))
    bad_sign = client.post(f"/{version}/login", {"username": "x"}, headers={"sign": "0" * 32})
    _check(bad_sign.json(), response_schema(doc, f"/{version}/login", 401))
    invalid = client.post(f"/{version}/login/register", {"account": "ok_name", "password": "short"})
    assert invalid.status_code == 400
    _check(invalid.json(), response_schema(doc, f"/{version}/login/register", 400))
    wrong = client.post(f"/{version}/login", {"username": user["account"], "password": "wrong_password"})
    _check(wrong.json(), response_schema(doc, f"/{version}/login", wrong.status_code))
    # a schema that forbids a wrong code really fails
    other = copy.deepcopy(response_schema(doc, f"/{version}/login", 401))
    key = "errorcode" if version == "v1" else "code"
    other["properties"][key] = {"const": -1}
    with pytest.raises(jsonschema.ValidationError):
        _check(bad_sign.json(), other)
