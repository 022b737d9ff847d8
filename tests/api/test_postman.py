"""The Postman collection (postman/): fresh from postman/build.py, every endpoint of both versions, an
environment, and a pre-request signer that agrees with SPEC §4's worked examples when node runs it.

newman itself runs the collection against a live server in .ci/run (postman/ci.sh)."""
from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
from typing import Any

import pytest

import route.app  # noqa: F401 - declares the routes
from app.common.route import Route
from app.common.sign import make_sign
from tests.support import ROOT

_spec = importlib.util.spec_from_file_location("postman_build", ROOT / "postman" / "build.py")
build = sys.modules["postman_build"] = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(build)

VECTORS_PATH = ROOT / "tests" / "data" / "sign-vectors.json"
VECTORS = json.loads(VECTORS_PATH.read_text(encoding="utf-8"))
NODE = shutil.which("node")
COLLECTION = json.loads(build.COLLECTION.read_text(encoding="utf-8"))
ENVIRONMENT = json.loads(build.ENVIRONMENT.read_text(encoding="utf-8"))

# Runs the collection's pre-request script as Postman's sandbox would, with a stand-in `pm` and
# crypto-js's MD5 made of node's crypto; prints what the request became.
NODE_HARNESS = r"""
const crypto = require("crypto"), vm = require("vm"), fs = require("fs");
const input = JSON.parse(fs.readFileSync(0, "utf8"));
const script = input.script;
const md5 = (s) => crypto.createHash("md5").update(s, "utf8").digest("hex");
// WordArray stand-ins: {bytes, toString() → hex}; a key may be a string (UTF-8) or a WordArray.
const words = (b) => ({ bytes: b, toString: () => b.toString("hex") });
const cryptoJs = { MD5: (s) => ({ toString: () => md5(s) }),
                   SHA256: (s) => words(crypto.createHash("sha256").update(s, "utf8").digest()),
                   HmacSHA256: (m, k) => words(crypto
                       .createHmac("sha256", typeof k === "string" ? Buffer.from(k, "utf8") : k.bytes)
                       .update(m, "utf8").digest()) };
function run(vars, raw, query, given, path) {
  const headers = Object.assign({}, given || {});
  const body = { mode: "raw", raw: raw, update(o) { this.mode = o.mode; this.raw = o.raw; } };
  const pm = {
    variables: { get: (k) => vars[k],
                 replaceIn: (s) => String(s).replace(/\{\{(\w+)\}\}/g,
                                                     (_, k) => vars[k] === undefined ? "" : vars[k]) },
    request: { body: body, url: { query: { each: (f) => query.forEach(f) }, path: path || ["v2", "test"] },
               headers: { upsert: (h) => { headers[h.key] = h.value; },
                          each: (f) => Object.keys(headers).forEach((k) => f({ key: k, value: headers[k] })) } },
  };
  const context = vm.createContext({ pm,
                                     require: (name) => {
                                       if (name !== "crypto-js") throw new Error(name);
                                       return cryptoJs;
                                     },
                                     Date, Math, JSON, Object, Array, Number, String, isFinite, parseInt });
  vm.runInContext(script, context);
  return { context, body: body.raw, headers };
}
const out = { vectors: [], requests: [] };
const first = run({ sign_secret: "x" }, "{}", []).context;
for (const v of input.vectors) {
  const canonical = first.loginApiCanonical(v.params, v.secret);
  out.vectors.push({ canonical, sign: md5(canonical) });
}
for (const r of input.requests) out.requests.push(run(r.vars, r.raw, r.query, r.headers, r.path));
out.requests = out.requests.map((r) => ({ body: r.body, headers: r.headers }));
process.stdout.write(JSON.stringify(out));
"""


def run_node(requests: list[dict[str, Any]]) -> dict[str, Any]:
    payload = json.dumps({"script": build.prerequest_script(), "vectors": VECTORS, "requests": requests})
    done = subprocess.run([NODE, "-e", NODE_HARNESS], input=payload, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _requests(collection: dict[str, Any]) -> list[dict[str, Any]]:
    return [item for folder in collection["item"] for item in folder["item"]]


def test_files_are_fresh_from_build() -> None:
    done = subprocess.run([sys.executable, str(ROOT / "postman" / "build.py"), "--check"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, f"run `python postman/build.py`: {done.stderr}"


def test_collection_is_v2_1_with_every_endpoint_of_both_versions() -> None:
    assert COLLECTION["info"]["schema"] == "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"
    called = {("/" + "/".join(item["request"]["url"]["path"])).lower() for item in _requests(COLLECTION)}
    for rule in Route.rules:
        for version in ("v1", "v2"):
            assert rule.path.replace("<ver>", version).lower() in called, rule.path
    for item in _requests(COLLECTION):
        request = item["request"]
        assert request["method"] == "POST"
        assert request["url"]["raw"].startswith("{{base_url}}/v")
        json.loads(build._raw_body({}))  # raw bodies with variables are JSON once resolved (checked by newman)
        tests = "\n".join(next(e for e in item["event"] if e["listen"] == "test")["script"]["exec"])
        assert "pm.response.to.have.status(" in tests
        if "a file download" in tests:  # an export answers the file, not an envelope
            assert "Content-Disposition" in tests
            continue
        assert "envelope" in tests and ("body.errorcode).to.eql(" in tests or "body.code).to.eql(" in tests)
        assert "data shape" in tests or "data is" in tests
    [event] = COLLECTION["event"]
    assert event["listen"] == "prerequest"


def test_requests_are_chained_through_variables() -> None:
    names = [item["name"] for item in COLLECTION["item"][0]["item"]]
    order = ["send SMS code (debug mode answers it)", "register", "JWT get", "JWT status", "JWT refresh",
             "JWT deactivate (ends the session)", "JWT status → refused after deactivate"]
    assert [n for n in names if n in order] == order
    text = json.dumps(COLLECTION)
    for variable in ("sms_code_v2", "jwt_v2", "refresh_jwt_v2", "access_jwt_v2", "token_v2", "uid_v1"):
        assert f'pm.collectionVariables.set(\\"{variable}\\"' in text and "{{" + variable + "}}" in text


def test_environment_file() -> None:
    keys = {value["key"]: value["value"] for value in ENVIRONMENT["values"]}
    assert {"base_url", "sign_secret", "account", "phone", "password", "admin_account", "admin_password"} <= set(keys)
    assert keys["sign_secret"] and keys["base_url"].startswith("http://127.0.0.1:")
    assert ENVIRONMENT["_postman_variable_scope"] == "environment"


@pytest.mark.skipif(not NODE, reason="node is not installed")
def test_js_signer_agrees_with_the_sign_vectors() -> None:
    result = run_node([])
    for vector, got in zip(VECTORS, result["vectors"], strict=True):
        assert got == {"canonical": vector["canonical"], "sign": vector["sign"]}


@pytest.mark.skipif(not NODE, reason="node is not installed")
def test_prerequest_script_signs_what_it_sends() -> None:
    """timestamp and nonce are added, variables resolved, and `sign` is what the server computes over query + body."""
    secret = "s3cr3t-中"
    cases = [
        {"vars": {"sign_secret": secret, "phone": "13911119999"}, "raw": '{\n  "phone": "{{phone}}"\n}', "query": []},
        {"vars": {"sign_secret": secret, "uid": "7", "appid": "ios"}, "raw": '{"uid": {{uid}}, "rid": [3, 1], '
         '"nick": "小明 & co", "f": 1.5, "tiny": 0.00001, "t": true, "n": null, "e": "", "o": {"z": 1, "y": "中"}}',
         "query": [{"key": "lang", "value": "en"}, {"key": "off", "value": "x", "disabled": True}]},
        {"vars": {"sign_secret": secret}, "raw": "", "query": []},
    ]
    result = run_node(cases)
    for case, got in zip(cases, result["requests"], strict=True):
        body = json.loads(got["body"])
        assert isinstance(body["timestamp"], int) and 8 <= len(body["nonce"]) <= 64
        query = {q["key"]: q["value"] for q in case["query"] if not q.get("disabled")}
        assert got["headers"]["Content-Type"] == "application/json"
        assert got["headers"]["sign"] == make_sign({**query, **body}, secret), (case, got)
    assert json.loads(result["requests"][0]["body"])["phone"] == "13911119999"
    second = json.loads(result["requests"][1]["body"])
    assert (second["uid"], second["appid"]) == (7, "ios")


@pytest.mark.skipif(not NODE, reason="node is not installed")
def test_prerequest_script_signs_with_hmac_when_asked() -> None:
    """sign_method = hmac-sha256: the script's `sign` is SPEC §13.1's over what it sends, Authorization included."""
    from client.signing import hmac_sign

    secret = "s3cr3t-中"
    cases = [
        {"vars": {"sign_secret": secret, "sign_method": "hmac-sha256", "tok": "abc.def.ghi"},
         "raw": '{"n": "小明 & co"}',
         "query": [{"key": "lang", "value": "en"}, {"key": "note", "value": "a b/é"}],
         "headers": {"Authorization": "Bearer {{tok}}"}, "path": ["v2", "test"]},
        {"vars": {"sign_secret": secret, "sign_method": "hmac-sha256", "appid": "ios"}, "raw": "",
         "query": [], "headers": {}, "path": ["v1", "login", "jwt", "get"]},
    ]
    result = run_node(cases)
    for case, got in zip(cases, result["requests"], strict=True):
        body = json.loads(got["body"])
        query = "&".join(f"{q['key']}={q['value']}" for q in case["query"])
        authorization = got["headers"].get("Authorization", "")
        assert got["headers"]["sign-method"] == "hmac-sha256"
        assert got["headers"]["sign"] == hmac_sign(secret, body["timestamp"], case["vars"].get("appid", ""), "POST",
                                                   "/" + "/".join(case["path"]), query, "application/json",
                                                   authorization, got["body"].encode("utf-8"))
    assert result["requests"][0]["headers"]["Authorization"] == "Bearer abc.def.ghi"


@pytest.mark.skipif(not NODE, reason="node is not installed")
def test_js_hmac_parts_agree_with_the_hmac_vectors() -> None:
    """sign.js's canonical request, string to sign and day (the docs page and Postman share them)."""
    # %-formatting: the JavaScript's braces would all need doubling in an f-string.
    script = ("const S = require(%s), c = require('crypto'), vs = require(%s);"  # noqa: UP031
              "const sha = (x) => c.createHash('sha256').update(x, 'utf8').digest('hex');"
              "process.stdout.write(JSON.stringify(vs.map((v) => {"
              " const cr = S.canonicalRequest(v.method, v.path, v.query,"
              " v.content_type, v.authorization, sha(v.body));"
              " const sts = S.stringToSign(v.timestamp, v.appid, sha(cr));"
              " const key = c.createHmac('sha256', 'LOGIN4' + v.secret).update(S.day(v.timestamp)).digest();"
              " return [cr, sts, c.createHmac('sha256', key).update(sts, 'utf8').digest('hex')]; })));"
              % (json.dumps(str(ROOT / "app" / "view" / "docs" / "sign.js")),
                 json.dumps(str(ROOT / "tests" / "data" / "sign-vectors-hmac.json"))))
    done = subprocess.run([NODE, "-e", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    vectors = json.loads((ROOT / "tests" / "data" / "sign-vectors-hmac.json").read_text(encoding="utf-8"))
    for vector, (canonical, to_sign, sign) in zip(vectors, json.loads(done.stdout), strict=True):
        assert (canonical, to_sign, sign) == (vector["canonical_request"], vector["string_to_sign"], vector["sign"])


@pytest.mark.skipif(not NODE, reason="node is not installed")
def test_docs_page_md5_matches_node_crypto() -> None:
    """app/view/docs/md5.js (the docs page has no CryptoJS) against node's md5, on the vectors and odd lengths."""
    strings = [v["canonical"] for v in VECTORS] + ["", "a", "中文😀", "x" * 55, "x" * 56, "y" * 64, "z" * 1000]
    script = ("const md5 = require(%s), c = require('crypto'); const xs = %s;"  # noqa: UP031
              "process.stdout.write(JSON.stringify(xs.map(s =>"
              " [md5(s), c.createHash('md5').update(s, 'utf8').digest('hex')])));"
              % (json.dumps(str(ROOT / "app" / "view" / "docs" / "md5.js")), json.dumps(strings)))
    done = subprocess.run([NODE, "-e", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    for ours, theirs in json.loads(done.stdout):
        assert ours == theirs


def test_ci_runs_the_collection_with_newman() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "postman/ci.sh" in ci
    script = (ROOT / "postman" / "ci.sh").read_text(encoding="utf-8")
    assert "newman@" in script and "APP_DEBUG=1" in script and "deliberately-wrong-secret" in script


def test_readme_shows_the_postman_import() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"**Import** `postman/{build.COLLECTION.name}` and\n   `postman/{build.ENVIRONMENT.name}`" in readme
    assert "APP_DEBUG=1" in readme and "python postman/build.py" in readme
