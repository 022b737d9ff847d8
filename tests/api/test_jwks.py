"""JWT_ALG=EdDSA end to end: the JWKS page, `kid`, `jwt:rotate`, and a verifier that is not ours."""
from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import jwt as pyjwt
import pytest

from tests.conftest import serving
from tests.support import Client, LiveServer, expect_ok

PASSWORD = "secret_123"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    # live: Node's `jose` fetches the JWKS url over HTTP
    with serving(tmp_path_factory, "runtime", live=True, JWT_ALG="EdDSA", JWT_AUDIENCE="shop") as live:
        live.create_user("Jwks", "13911110001", PASSWORD)
        yield live


def _login(client: Client) -> dict:
    return expect_ok(client.post("/v2/login/jwt/get", {"account": "Jwks", "pwd": PASSWORD}), "v2")


def _jwks(client: Client) -> dict:
    response = client.raw("GET", "/.well-known/jwks.json")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert "max-age=" in response.headers["cache-control"]
    return response.json()


def test_jwks_publishes_the_key_that_signs_tokens(server: LiveServer, client: Client) -> None:
    tokens = _login(client)
    keys = _jwks(client)["keys"]
    header = pyjwt.get_unverified_header(tokens["jwt"])
    assert header["alg"] == "EdDSA" and [k["kid"] for k in keys] == [header["kid"]]
    assert keys[0]["kty"] == "OKP" and keys[0]["crv"] == "Ed25519" and "d" not in keys[0]
    # any JWT library verifies with the published key alone, no secret
    claims = pyjwt.decode(tokens["jwt"], pyjwt.PyJWK(keys[0]).key, algorithms=["EdDSA"],
                          issuer="login-api", audience="shop")
    assert claims["type"] == "access"
    assert expect_ok(client.post("/v2/test", token=tokens["jwt"]), "v2")["account"] == "Jwks"


def test_rotation_keeps_old_tokens_working_and_publishes_both(server: LiveServer, client: Client) -> None:
    before = _login(client)
    result = server.command("jwt:rotate")
    assert result.returncode == 0, result.stderr
    after = _login(client)  # the running worker sees the new key within a second… or at once for a new kid
    old_kid = pyjwt.get_unverified_header(before["jwt"])["kid"]
    kids = [k["kid"] for k in _jwks(client)["keys"]]
    assert len(kids) == 2 and kids[1] == old_kid
    for tokens in (before, after):
        assert expect_ok(client.post("/v2/test", token=tokens["jwt"]), "v2")["account"] == "Jwks"
    refreshed = expect_ok(client.post("/v2/login/jwt/refresh", {"jwt": before["refresh_jwt"]}), "v2")
    assert expect_ok(client.post("/v2/test", token=refreshed), "v2")["account"] == "Jwks"


def test_hs256_server_publishes_an_empty_set(client: Client, tmp_path: Path) -> None:
    live = LiveServer(tmp_path / "runtime")
    try:
        assert Client(live.url).raw("GET", "/.well-known/jwks.json").json() == {"keys": []}
        assert live.command("jwt:rotate").returncode == 2
    finally:
        live.stop()


VERIFY_WITH_JOSE = """
const { createRemoteJWKSet, jwtVerify } = require('jose');
const [url, token] = process.argv.slice(2);
jwtVerify(token, createRemoteJWKSet(new URL(url)), { issuer: 'login-api', audience: 'shop' })
  .then(({ payload, protectedHeader }) => console.log(JSON.stringify({ payload, protectedHeader })))
  .catch((err) => { console.error(err.code || err.message); process.exit(1); });
"""


@pytest.fixture(scope="module")
def jose_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("Node.js is not installed: the check with the npm package `jose` needs it")
    folder = tmp_path_factory.mktemp("jose")
    installed = subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--silent", "jose@6"],
                               cwd=folder, capture_output=True, text=True, timeout=300)
    assert installed.returncode == 0, installed.stderr
    (folder / "verify.js").write_text(VERIFY_WITH_JOSE, encoding="utf-8")
    return folder


def test_node_jose_verifies_an_access_token_with_the_jwks_url(server: LiveServer, client: Client,
                                                             jose_dir: Path) -> None:
    tokens = _login(client)
    url = server.url + "/.well-known/jwks.json"
    verified = subprocess.run(["node", "verify.js", url, tokens["jwt"]], cwd=jose_dir,
                              capture_output=True, text=True, timeout=60)
    assert verified.returncode == 0, verified.stderr
    result = json.loads(verified.stdout)
    assert result["payload"]["uid"] == tokens_uid(tokens) and result["payload"]["aud"] == "shop"
    assert result["protectedHeader"]["alg"] == "EdDSA"
    # and it refuses a token whose payload was changed
    head, payload, signature = tokens["jwt"].split(".")
    tampered = ".".join((head, payload[:-2] + ("A" if payload[-2] != "A" else "B") + payload[-1], signature))
    refused = subprocess.run(["node", "verify.js", url, tampered], cwd=jose_dir,
                             capture_output=True, text=True, timeout=60)
    assert refused.returncode == 1


def tokens_uid(tokens: dict) -> int:
    return pyjwt.decode(tokens["jwt"], options={"verify_signature": False})["uid"]
