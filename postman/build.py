"""Writes the Postman collection and environment of this folder from the code: `python postman/build.py`.

    python postman/build.py            rewrite login-api.postman_collection.json and login-api.postman_environment.json
    python postman/build.py --check    only report whether they are stale (exit 1 when they are)

Every endpoint of both versions is called, in a chain that hands its tokens on through collection
variables: send SMS → register → JWT get → status → refresh → login → test → deactivate → refused,
then the role API as an administrator. Each request's tests check the HTTP status, the version's
envelope, the catalog code (app/common/error.py) and the shape of `data` (each action's declaration, app/common/action.py).
The collection-level pre-request script adds `timestamp` and `nonce` and signs every request as
SPEC §4 says; its signer is app/view/docs/sign.js, the same file the docs page uses.
"""
from __future__ import annotations

import json
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from app.common.action import ActionSpec, declared_spec  # noqa: E402
from app.common.error import BY_NAME  # noqa: E402
from app.common.openapi import schemas  # noqa: E402

HERE = Path(__file__).resolve().parent
COLLECTION = HERE / "login-api.postman_collection.json"
ENVIRONMENT = HERE / "login-api.postman_environment.json"
SIGN_JS = ROOT / "app" / "view" / "docs" / "sign.js"
SCHEMA = "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"
NAMESPACE = uuid.UUID("5b0b8f64-6c55-4a43-9d53-4a3f5d6b9c11")

# The environment: where the server is, its secret, and the users the run uses.
ENVIRONMENT_VALUES: list[tuple[str, str, str]] = [
    ("base_url", "http://127.0.0.1:8000", "default"),
    ("sign_secret", "postman-sign-secret-change-me", "secret"),
    ("appid", "", "default"),
    ("sign_method", "md5", "default"),  # md5 (SPEC §4) or hmac-sha256 (SPEC §13.1)
    ("account", "", "default"),      # empty: a fresh account each run (registration is once per account)
    ("phone", "", "default"),        # empty: a fresh mainland mobile number each run
    ("account_v1", "", "default"),   # the same, for the v1 folder's user
    ("phone_v1", "", "default"),
    ("password", "secret_123", "secret"),
    ("admin_account", "postman_admin", "default"),  # make it: python server.py user:create ... --admin
    ("admin_phone", "13800000000", "default"),
    ("admin_password", "admin_12345", "secret"),
]

# Glue between the sandbox and sign.js: runs before every request of the collection.
PREREQUEST_GLUE = r"""
// ---- sign this request: timestamp + nonce into the JSON body, then `sign` — md5 over query + body
// (SPEC §4), or with sign_method = hmac-sha256 an HMAC-SHA256 over the request as sent (§13.1) ----
(function signRequest() {
  var secret = pm.variables.get("sign_secret") || "";
  var appid = pm.variables.get("appid");
  var method = String(pm.variables.get("sign_method") || "md5").toLowerCase();
  var raw = pm.request.body && pm.request.body.mode === "raw" ? pm.variables.replaceIn(pm.request.body.raw || "") : "";
  var body = raw.trim() ? JSON.parse(raw) : {};
  body.timestamp = Math.floor(Date.now() / 1000);
  body.nonce = loginApiNonce();
  if (appid) body.appid = appid;
  var params = {}, pairs = [];
  pm.request.url.query.each(function (q) {
    if (q.disabled) return;
    var value = pm.variables.replaceIn(q.value === null || q.value === undefined ? "" : String(q.value));
    params[q.key] = value;
    pairs.push([q.key, value]);
  });
  Object.keys(body).forEach(function (key) { params[key] = body[key]; });
  var text = JSON.stringify(body);
  pm.request.body.update({ mode: "raw", raw: text, options: { raw: { language: "json" } } });
  pm.request.headers.upsert({ key: "Content-Type", value: "application/json" });
  var CryptoJS = require("crypto-js");
  if (method !== "hmac-sha256") {
    pm.request.headers.upsert({ key: "sign", value: CryptoJS.MD5(loginApiCanonical(params, secret)).toString() });
    return;
  }
  var authorization = "";
  pm.request.headers.each(function (h) {
    if (!h.disabled && String(h.key).toLowerCase() === "authorization") authorization = pm.variables.replaceIn(String(h.value));
  });
  if (authorization) pm.request.headers.upsert({ key: "Authorization", value: authorization });
  var path = "/" + pm.request.url.path.map(function (p) { return pm.variables.replaceIn(String(p)); }).join("/");
  var canonical = loginApiCanonicalRequest("POST", path, pairs, "application/json", authorization,
                                           CryptoJS.SHA256(text).toString());
  var toSign = loginApiStringToSign(body.timestamp, appid || "", CryptoJS.SHA256(canonical).toString());
  var key = CryptoJS.HmacSHA256(loginApiDay(body.timestamp), "LOGIN4" + secret);
  pm.request.headers.upsert({ key: "sign-method", value: "hmac-sha256" });
  pm.request.headers.upsert({ key: "sign", value: CryptoJS.HmacSHA256(toSign, key).toString() });
})();
""".strip("\n")

PICK_USER = r"""
// This folder registers a user of its own: the environment's {account}/{phone}, or fresh ones.
var account = pm.variables.get("{account}"), phone = pm.variables.get("{phone}");
if (!account) account = "pm_" + Date.now().toString(36) + Math.floor(Math.random() * 1e6).toString(36);
if (!phone) phone = "139" + String(Math.floor(Math.random() * 1e8)).padStart(8, "0");
pm.collectionVariables.set("run_account_{v}", account);
pm.collectionVariables.set("run_phone_{v}", phone);
pm.collectionVariables.set("run_sms_phone_{v}", "137" + String(Math.floor(Math.random() * 1e8)).padStart(8, "0"));
pm.collectionVariables.set("run_new_phone_{v}", "136" + String(Math.floor(Math.random() * 1e8)).padStart(8, "0"));
pm.collectionVariables.set("run_role_{v}", "pm_{v}_" + Date.now().toString(36) + Math.floor(Math.random() * 1e6).toString(36));
""".strip("\n")


class Raw(str):
    """A body value written into the JSON text as it is (an unquoted `{{number}}` variable)."""


@dataclass
class Step:
    name: str
    path: str                      # within the version: "/login/jwt/get"
    body: dict[str, Any]
    expect: str                    # catalog name of the answer
    token: str | None = None       # collection variable holding the bearer token
    query: dict[str, str] = field(default_factory=dict)
    save: dict[str, str] = field(default_factory=dict)   # variable → JS expression over `body`
    checks: list[str] = field(default_factory=list)      # extra JS test lines
    pre: str = ""                  # request-level pre-request script
    data: Any = "action"           # "action": the action's data schema; None: empty data
    file: str = ""                 # an export: the file's media type (the answer is the file, not an envelope)


def steps(v: str) -> list[Step]:
    """The chain of one version's folder; {{…_v}} variables are this version's."""
    account, phone, role = f"{{{{run_account_{v}}}}}", f"{{{{run_phone_{v}}}}}", f"{{{{run_role_{v}}}}}"
    english = {"v1": "Success", "v2": "ok"}[v]
    return [
        # First, as its pre-request script picks the folder's user: the collection's signing runs before a
        # request's own pre-request script, so no request may use what its own script sets.
        Step("captcha (and pick this folder's user)", "/captcha", {}, "OK",
             pre=PICK_USER.replace("{account}", "account" if v == "v2" else "account_v1")
             .replace("{phone}", "phone" if v == "v2" else "phone_v1").replace("{v}", v)),
        Step("send SMS code (debug mode answers it)", "/login/send/sms", {"phone": phone}, "OK",
             save={f"sms_code_{v}": "body.data.code"}),
        Step("send SMS code again → still valid (English)", "/login/send/sms", {"phone": phone, "lang": "en"},
             "SMS_STILL_VALID", checks=['pm.test("message is English", function () { '
                                        f'pm.expect(body.{"message" if v == "v1" else "msg"}).to.match(/still valid/); }});']),
        # SPEC §13.2: the key password fields may be encrypted with (Postman's sandbox has no RSA, so
        # this run sends them in clear; a server with PASSWORD_TRANSPORT=rsa would refuse them).
        Step("crypto key (RSA password transport)", "/crypto/key", {}, "OK",
             checks=['pm.test("an RSA-OAEP-256 public key", function () { pm.expect(body.data.alg).to.eql('
                     '"RSA-OAEP-256"); pm.expect(body.data.public_key).to.match(/^-----BEGIN PUBLIC KEY-----/); });']),
        Step("register", "/login/register", {"account": account, "password": "{{password}}",
                                             "password_confirmation": "{{password}}", "phone": phone,
                                             "code": f"{{{{sms_code_{v}}}}}"}, "CREATED"),
        Step("JWT get", "/login/jwt/get", {"account": account, "pwd": "{{password}}"}, "LOGIN_OK",
             save={f"jwt_{v}": "body.data.jwt", f"refresh_jwt_{v}": "body.data.refresh_jwt"}),
        Step("JWT status", "/login/jwt/status", {"jwt": f"{{{{jwt_{v}}}}}"}, "OK",
             save={f"uid_{v}": "body.data.uid"},
             checks=['pm.test("a day to live", function () { pm.expect(body.data.exp).to.be.within(1, 86400); });']),
        Step("JWT refresh", "/login/jwt/refresh", {"jwt": f"{{{{refresh_jwt_{v}}}}}"}, "OK",
             save={f"access_jwt_{v}": "body.data"}),
        Step("login (md5 token) by phone", "/login", {"username": phone, "password": "{{password}}"}, "LOGIN_OK",
             save={f"token_{v}": "body.data.token"},
             checks=['pm.test("md5-style token", function () { pm.expect(body.data.token).to.match(/^[0-9a-f]{32}$/); });']),
        Step("test (the logged-in user, lang=en in the query)", "/test", {}, "OK", token=f"token_{v}",
             query={"lang": "en"},
             checks=[f'pm.test("it is the registered user", function () {{ pm.expect(body.data.uid).to.eql('
                     f'Number(pm.collectionVariables.get("uid_{v}"))); pm.expect(body.data.phone).to.eql('
                     f'pm.collectionVariables.get("run_phone_{v}")); }});',
                     f'pm.test("English message", function () {{ pm.expect(body.{"message" if v == "v1" else "msg"})'
                     f'.to.eql("{english}"); }});']),
        Step("JWT deactivate (ends the session)", "/login/jwt/deactivate", {"jwt": f"{{{{access_jwt_{v}}}}}"}, "OK"),
        Step("JWT status → refused after deactivate", "/login/jwt/status", {"jwt": f"{{{{jwt_{v}}}}}"},
             "TOKEN_INVALID"),
        Step("JWT refresh → refused after deactivate", "/login/jwt/refresh", {"jwt": f"{{{{refresh_jwt_{v}}}}}"},
             "TOKEN_INVALID"),
        Step("admin login", "/login", {"username": "{{admin_account}}", "password": "{{admin_password}}"},
             "LOGIN_OK", save={f"admin_token_{v}": "body.data.token"}),
        Step("role list", "/role/list", {"page": Raw("1"), "limit": Raw("20")}, "OK", token=f"admin_token_{v}"),
        Step("role create", "/role/create", {"name": role, "title": "Postman reader", "permissions": ["role/list"]},
             "CREATED", token=f"admin_token_{v}", save={f"role_id_{v}": "body.data.id"}),
        Step("role update", "/role/update", {"id": Raw(f"{{{{role_id_{v}}}}}"), "title": "Postman lister"}, "OK",
             token=f"admin_token_{v}",
             checks=['pm.test("title changed", function () { pm.expect(body.data.title).to.eql("Postman lister"); });']),
        Step("role assign (to the registered user)", "/role/assign",
             {"uid": Raw(f"{{{{uid_{v}}}}}"), "rid": [Raw(f"{{{{role_id_{v}}}}}")]}, "OK", token=f"admin_token_{v}"),
        Step("role user", "/role/user", {"uid": Raw(f"{{{{uid_{v}}}}}")}, "OK", token=f"admin_token_{v}",
             checks=['pm.test("granted role/list", function () { '
                     'pm.expect(body.data.permissions).to.include("role/list"); });']),
        Step("role list as the user (granted)", "/role/list", {}, "OK", token=f"token_{v}"),
        Step("role delete", "/role/delete", {"id": Raw(f"{{{{role_id_{v}}}}}")}, "OK", token=f"admin_token_{v}"),
        Step("role list as the user → refused after delete", "/role/list", {}, "PERMISSION_DENIED", token=f"token_{v}"),
        *admin_steps(v),
    ]


def admin_steps(v: str) -> list[Step]:
    """The admin user API and its exports (SPEC §14), on the folder's user, as the administrator."""
    admin, uid = f"admin_token_{v}", {"uid": Raw(f"{{{{uid_{v}}}}}")}
    return [
        Step("admin user list (the registered user, phone masked)", "/admin/user/list",
             {"keyword": f"{{{{run_account_{v}}}}}"}, "OK", token=admin,
             checks=['pm.test("one user, phone masked", function () { pm.expect(body.data.total).to.eql(1); '
                     'pm.expect(body.data.list[0].phone).to.match(/^[0-9]{3}\\*{4}[0-9]{4}$/); });']),
        Step("admin user sessions", "/admin/user/sessions", uid, "OK", token=admin),
        Step("admin audit list (the user's logins)", "/admin/audit/list",
             {**uid, "event": "login", "limit": Raw("5")}, "OK", token=admin),
        Step("admin user export (CSV file download)", "/admin/user/export", {"format": "csv"}, "OK", token=admin,
             file="text/csv"),
        Step("admin audit export (XLSX file download)", "/admin/audit/export", {**uid, "format": "xlsx"}, "OK",
             token=admin, file="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        Step("admin user disable", "/admin/user/disable", uid, "OK", token=admin),
        Step("test as the disabled user → refused at once", "/test", {}, "TOKEN_INVALID", token=f"token_{v}"),
        Step("admin user enable", "/admin/user/enable", uid, "OK", token=admin),
        Step("admin user logout (ends every session)", "/admin/user/logout", uid, "OK", token=admin),
    ]


def lifecycle_steps(v: str) -> list[Step]:
    """SPEC §11, chained: SMS login → change password → list sessions → end others → reset by SMS →
    rotate refresh → change phone → delete."""
    phone = f"{{{{run_sms_phone_{v}}}}}"
    pw = "{{password}}"
    return [
        Step("send SMS code (scene login)", "/login/send/sms", {"phone": phone, "scene": "login"}, "OK",
             save={f"sms_login_code_{v}": "body.data.code"}),
        Step("SMS login (signs the phone up)", "/login/sms",
             {"phone": phone, "code": f"{{{{sms_login_code_{v}}}}}", "platform": "ios", "device": "Postman"},
             "LOGIN_OK", save={f"sms_jwt_{v}": "body.data.jwt"},
             checks=['pm.test("a new account", function () { pm.expect(body.data.registered).to.eql(true); });']),
        Step("change password (none yet: old_password omitted)", "/password/change",
             {"password": pw, "password_confirmation": pw}, "OK", token=f"sms_jwt_{v}"),
        Step("JWT get by phone (a second session)", "/login/jwt/get", {"account": phone, "pwd": pw, "platform": "web"},
             "LOGIN_OK", save={f"sms_jwt2_{v}": "body.data.jwt"}),
        Step("list sessions", "/session/list", {}, "OK", token=f"sms_jwt_{v}",
             checks=['pm.test("two sessions, the current one marked", function () { '
                     'pm.expect(body.data.list.length).to.eql(2); '
                     'pm.expect(body.data.list.filter(function (s) { return s.current; }).length).to.eql(1); });']),
        Step("end the other sessions", "/session/end", {"scope": "others"}, "OK", token=f"sms_jwt_{v}",
             checks=['pm.test("one ended", function () { pm.expect(body.data.ended).to.eql(1); });']),
        Step("the other session → refused", "/test", {}, "TOKEN_INVALID", token=f"sms_jwt2_{v}"),
        Step("send SMS code (scene reset)", "/login/send/sms", {"phone": phone, "scene": "reset"}, "OK",
             save={f"sms_reset_code_{v}": "body.data.code"}),
        Step("reset password by SMS (ends every session)", "/password/reset",
             {"phone": phone, "code": f"{{{{sms_reset_code_{v}}}}}", "password": pw, "password_confirmation": pw},
             "OK"),
        Step("JWT get after the reset", "/login/jwt/get", {"account": phone, "pwd": pw}, "LOGIN_OK",
             save={f"sms_refresh_{v}": "body.data.refresh_jwt"}),
        Step("rotate the refresh token", "/login/jwt/refresh", {"jwt": f"{{{{sms_refresh_{v}}}}}", "rotate": "1"},
             "OK", save={f"sms_jwt3_{v}": "body.data.jwt"},
             checks=['pm.test("a new pair", function () { pm.expect(body.data).to.have.property("refresh_jwt"); });']),
        Step("send SMS code to a new phone (scene change_phone, logged in)", "/login/send/sms",
             {"phone": f"{{{{run_new_phone_{v}}}}}", "scene": "change_phone"}, "OK", token=f"sms_jwt3_{v}",
             save={f"sms_phone_code_{v}": "body.data.code"}),
        Step("change the phone", "/phone/change", {"phone": f"{{{{run_new_phone_{v}}}}}",
                                                   "code": f"{{{{sms_phone_code_{v}}}}}", "password": pw},
             "OK", token=f"sms_jwt3_{v}",
             checks=[f'pm.test("the new phone", function () {{ pm.expect(body.data.phone).to.eql('
                     f'pm.collectionVariables.get("run_new_phone_{v}")); }});']),
        Step("delete the account", "/account/delete", {"password": pw}, "OK", token=f"sms_jwt3_{v}"),
        Step("test → refused after delete", "/test", {}, "TOKEN_INVALID", token=f"sms_jwt3_{v}"),
    ]


def qrlogin_steps(v: str) -> list[Step]:
    """SPEC §12, chained: create → scan → confirm → poll gets the tokens → poll again refused; a cancelled
    ticket; a member code issued and verified once (the registered user's app, the administrator's counter)."""
    ticket = {"ticket": f"{{{{qr_ticket_{v}}}}}"}
    polled = {**ticket, "poll_secret": f"{{{{qr_secret_{v}}}}}"}
    state = 'pm.test("state {0}", function () {{ pm.expect(body.data.state).to.eql("{0}"); }});'
    return [
        # The folder's md5 token ended with the admin steps' logout: the app logs in again.
        Step("JWT get (the app that will scan)", "/login/jwt/get",
             {"account": f"{{{{run_account_{v}}}}}", "pwd": "{{password}}", "platform": "ios"}, "LOGIN_OK",
             save={f"app_jwt_{v}": "body.data.jwt"}),
        Step("QR login: create (the web page)", "/qrlogin/create", {"platform": "web"}, "OK",
             save={f"qr_ticket_{v}": "body.data.ticket", f"qr_secret_{v}": "body.data.poll_secret"}),
        Step("QR login: poll (pending)", "/qrlogin/poll", polled, "OK", checks=[state.format("pending")]),
        Step("QR login: scan (the logged-in app)", "/qrlogin/scan", ticket, "OK", token=f"app_jwt_{v}"),
        Step("QR login: confirm", "/qrlogin/confirm", ticket, "OK", token=f"app_jwt_{v}"),
        Step("QR login: poll → the tokens, once", "/qrlogin/poll", polled, "LOGIN_OK",
             save={f"qr_jwt_{v}": "body.data.jwt"},
             checks=[state.format("confirmed"), 'pm.test("tokens handed over", function () { '
                     'pm.expect(body.data.jwt).to.be.a("string"); pm.expect(body.data.refresh_jwt).to.be.a("string"); });']),
        Step("QR login: poll again → refused (used up)", "/qrlogin/poll", polled, "QR_TICKET_INVALID"),
        Step("test with the QR login's token", "/test", {}, "OK", token=f"qr_jwt_{v}"),
        Step("QR login: another ticket", "/qrlogin/create", {}, "OK",
             save={f"qr_ticket_{v}": "body.data.ticket", f"qr_secret_{v}": "body.data.poll_secret"}),
        Step("QR login: confirm before scan → refused", "/qrlogin/confirm", ticket, "QR_TICKET_STATE", token=f"app_jwt_{v}"),
        Step("QR login: scan it", "/qrlogin/scan", ticket, "OK", token=f"app_jwt_{v}"),
        Step("QR login: cancel", "/qrlogin/cancel", ticket, "OK", token=f"app_jwt_{v}"),
        Step("QR login: poll (cancelled)", "/qrlogin/poll", polled, "OK", checks=[state.format("cancelled")]),
        Step("member code", "/member/code", {}, "OK", token=f"app_jwt_{v}", save={f"member_code_{v}": "body.data.code"}),
        Step("member verify (the administrator's counter)", "/member/verify", {"code": f"{{{{member_code_{v}}}}}"},
             "OK", token=f"admin_token_{v}"),
        Step("member verify again → refused (used up)", "/member/verify", {"code": f"{{{{member_code_{v}}}}}"},
             "MEMBER_CODE_INVALID", token=f"admin_token_{v}"),
    ]


def action_of(path: str, version: str) -> ActionSpec:
    """The declaration of the action of the route at `path` (within `version`), from route/app.py."""
    import route.app  # noqa: F401 - declares the routes
    from app.common.route import Route

    for rule in Route.rules:
        if rule.path.replace("/<ver>", "").lower() == path.lower():
            return declared_spec(rule.target, version)
    raise KeyError(f"no route {path}")


def _js(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _raw_body(body: dict[str, Any]) -> str:
    def text(value: Any) -> str:
        if isinstance(value, Raw):
            return str(value)
        if isinstance(value, list):
            return "[" + ", ".join(text(v) for v in value) + "]"
        return _js(value)
    if not body:
        return "{}"
    return "{\n" + ",\n".join(f"  {_js(k)}: {text(v)}" for k, v in body.items()) + "\n}"


def _resolve(schema: Any) -> Any:
    if isinstance(schema, dict):
        if "$ref" in schema:
            return _resolve(schemas.COMPONENTS[schema["$ref"].rpartition("/")[2]])
        return {k: _resolve(v) for k, v in schema.items()}
    if isinstance(schema, list):
        return [_resolve(v) for v in schema]
    return schema


def shape_checks(schema: dict[str, Any], expr: str) -> list[str]:
    """JS assertions that `expr` has the JSON Schema's type, required keys and patterns (recursively)."""
    kind = schema.get("type")
    lines: list[str] = []
    label = _js(expr.replace("body.", "", 1))
    if kind == "object":
        lines.append(f"pm.expect({expr}, {label}).to.be.an('object').that.is.not.an('array');")
        for key in schema.get("required", []):
            lines.append(f"pm.expect({expr}, {label}).to.have.property({_js(key)});")
        for key, sub in schema.get("properties", {}).items():
            inner = shape_checks(sub, f"{expr}.{key}")
            if key in schema.get("required", []) or not inner:
                lines += inner
            else:  # an optional key is checked where it is present (a QR poll's `jwt` comes once)
                lines.append(f"if ({expr}.{key} !== undefined) {{ {' '.join(inner)} }}")
    elif kind == "array":
        lines.append(f"pm.expect({expr}, {label}).to.be.an('array');")
        items = schema.get("items")
        if items:
            inner = shape_checks(items, f"{expr}[0]")
            if inner:
                lines.append(f"if ({expr}.length) {{ {' '.join(inner)} }}")
    elif kind == "integer":
        lines.append(f"pm.expect(Number.isInteger({expr}), {label} + ' is an integer').to.be.true;")
    elif kind == "string":
        lines.append(f"pm.expect({expr}, {label}).to.be.a('string');")
        if "pattern" in schema:
            lines.append(f"pm.expect({expr}, {label}).to.match(new RegExp({_js(schema['pattern'])}));")
    return lines


def file_test_script(step: Step) -> list[str]:
    """An export answers the file itself: HTTP 200, its media type, and an attachment name."""
    return [f'pm.test("HTTP 200, a file download ({step.file})", function () {{ pm.response.to.have.status(200); '
            f'pm.expect(pm.response.headers.get("Content-Type")).to.include({_js(step.file)}); '
            'pm.expect(pm.response.headers.get("Content-Disposition")).to.match(/^attachment; filename="/); });']


def test_script(v: str, step: Step) -> list[str]:
    if step.file:
        return file_test_script(step)
    answer = BY_NAME[step.expect]
    ok = answer.http < 400
    code = answer.code(v)
    lines = ["var body = pm.response.json();",
             f'pm.test("HTTP {answer.http}", function () {{ pm.response.to.have.status({answer.http}); }});']
    if v == "v1":
        lines.append('pm.test("v1 envelope {message, data, errorcode}", function () { '
                     'pm.expect(Object.keys(body).sort()).to.eql(["data", "errorcode", "message"]); '
                     'pm.expect(body.message).to.be.a("string").and.not.be.empty; });')
        lines.append(f'pm.test("errorcode {code} ({answer.name})", function () {{ pm.expect(body.errorcode).to.eql({code}); }});')
    else:
        lines.append('pm.test("v2 envelope {code, msg, status, data}", function () { '
                     'pm.expect(Object.keys(body).sort()).to.eql(["code", "data", "msg", "status"]); '
                     f'pm.expect(body.msg).to.be.a("string").and.not.be.empty; pm.expect(body.status).to.eql({_js(ok)}); }});')
        lines.append(f'pm.test("code {code} ({answer.name})", function () {{ pm.expect(body.code).to.eql({code}); }});')
    data: Any = None
    if ok and step.data == "action":
        data = action_of(step.path, v).data
        if data == schemas.SMS_CODE_IN_DEBUG:
            data = {"type": "object", "required": ["code"], "properties": {"code": {"type": "string", "pattern": "^[0-9]{6}$"}}}
    if data is None:
        empty = "{}" if v == "v1" else "[]"
        lines.append(f'pm.test("data is {empty}", function () {{ pm.expect(body.data).to.eql({empty}); }});')
    else:
        checks = " ".join(shape_checks(_resolve(data), "body.data"))
        lines.append(f'pm.test("data shape", function () {{ {checks} }});')
    lines += step.checks
    for variable, js in step.save.items():
        lines.append(f"if (pm.response.code < 300) pm.collectionVariables.set({_js(variable)}, {js});")
    return lines


def _request(v: str, step: Step) -> dict[str, Any]:
    path = f"/{v}{step.path}"
    url: dict[str, Any] = {"raw": "{{base_url}}" + path, "host": ["{{base_url}}"], "path": path.strip("/").split("/")}
    if step.query:
        url["raw"] += "?" + "&".join(f"{k}={val}" for k, val in step.query.items())
        url["query"] = [{"key": k, "value": val} for k, val in step.query.items()]
    request: dict[str, Any] = {
        "method": "POST",
        "header": [{"key": "Content-Type", "value": "application/json"}],
        "body": {"mode": "raw", "raw": _raw_body(step.body), "options": {"raw": {"language": "json"}}},
        "url": url,
        "description": (f"`POST {path}` — answers the file itself ({step.file}); in Postman use "
                        "Send and Download." if step.file else
                        f"`POST {path}` — expects {step.expect} "
                        f"({'errorcode' if v == 'v1' else 'code'} {BY_NAME[step.expect].code(v)}, "
                        f"HTTP {BY_NAME[step.expect].http})."),
    }
    if step.token:
        # An explicit header, not Postman's bearer auth (added only at send time): the HMAC signature
        # (sign_method = hmac-sha256) covers the Authorization header, so the pre-request script reads it.
        request["header"] = [*request.get("header", []),
                             {"key": "Authorization", "value": f"Bearer {{{{{step.token}}}}}", "type": "text"}]
    events = []
    if step.pre:
        events.append({"listen": "prerequest", "script": {"type": "text/javascript", "exec": step.pre.split("\n")}})
    events.append({"listen": "test", "script": {"type": "text/javascript", "exec": test_script(v, step)}})
    return {"name": step.name, "event": events, "request": request}


def prerequest_script() -> str:
    """The collection-level pre-request script: sign.js, then the glue that signs the request."""
    return SIGN_JS.read_text(encoding="utf-8").rstrip("\n") + "\n\n" + PREREQUEST_GLUE + "\n"


def collection() -> dict[str, Any]:
    folders = []
    variables: list[dict[str, str]] = []
    for v, title in (("v2", "v2 — Hyperf envelope {code, msg, status, data}"),
                     ("v1", "v1 — ThinkPHP envelope {message, data, errorcode}")):
        items = [_request(v, step) for step in steps(v) + lifecycle_steps(v) + qrlogin_steps(v)]
        folders.append({"name": title, "item": items,
                        "description": f"Every endpoint of {v}, chained: each request hands its tokens on in "
                                       f"collection variables ending in _{v}."})
        for name in ("run_account", "run_phone", "run_role", "sms_code", "jwt", "refresh_jwt", "uid", "access_jwt",
                     "token", "admin_token", "role_id", "run_sms_phone", "sms_login_code", "sms_jwt", "sms_jwt2",
                     "sms_reset_code", "sms_refresh", "sms_jwt3", "run_new_phone", "sms_phone_code",
                     "qr_ticket", "qr_secret", "qr_jwt", "member_code"):
            variables.append({"key": f"{name}_{v}", "value": ""})
    return {
        "info": {
            "_postman_id": str(uuid.uuid5(NAMESPACE, "collection")),
            "name": "Login API",
            "description": ("Every endpoint of both versions of the login API, chained (send SMS → register → JWT get → "
                            "status → refresh → login → test → deactivate → refused, then the role API as an "
                            "administrator, then the account lifecycle: SMS login → change password → list sessions → "
                            "end others → reset by SMS → rotate refresh → change phone → delete). The collection's pre-request script adds `timestamp` and `nonce` and "
                            "signs each request with `sign_secret` (SPEC §4). Run the server with APP_DEBUG=1 (the "
                            "SMS code comes back in the response) and create the administrator of the environment: "
                            "`python server.py user:create --account postman_admin --phone 13800000000 "
                            "--password admin_12345 --admin`. Generated by postman/build.py."),
            "schema": SCHEMA,
        },
        "event": [{"listen": "prerequest", "script": {"type": "text/javascript",
                                                       "exec": prerequest_script().rstrip("\n").split("\n")}}],
        "variable": variables,
        "item": folders,
    }


def environment() -> dict[str, Any]:
    return {
        "id": str(uuid.uuid5(NAMESPACE, "environment")),
        "name": "Login API (local)",
        "values": [{"key": k, "value": v, "type": t, "enabled": True} for k, v, t in ENVIRONMENT_VALUES],
        "_postman_variable_scope": "environment",
    }


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def main(argv: list[str]) -> int:
    files = {COLLECTION: render(collection()), ENVIRONMENT: render(environment())}
    stale = [path for path, text in files.items() if not path.is_file() or path.read_text(encoding="utf-8") != text]
    if "--check" in argv:
        for path in stale:
            print(f"stale: {path.relative_to(ROOT)} (run `python postman/build.py`)", file=sys.stderr)
        return 1 if stale else 0
    for path, text in files.items():
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
