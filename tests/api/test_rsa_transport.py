"""RSA password transport (SPEC §13.2): /crypto/key, encrypted password fields, bad input, rotation,
and two instances on one database sharing the keys."""
from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

from client import ApiError, LoginApiClient
from tests.api.lifecycle import FAST, LOGIN_FAILED, jwt_login, new_phone, password_user
from tests.conftest import Server, serving
from tests.support import SIGN_SECRET, Client, LiveServer, expect_error, expect_ok, sms_code

INVALID = (60038, 50024, 400)
PARAM_PASSWORD = (60001, 9906, 400)
MESSAGES = {"加密字段无效，请重新获取公钥后加密",
            "An encrypted field is invalid; fetch the key from crypto/key and encrypt again"}
OAEP = padding.OAEP(mgf=padding.MGF1(algorithm=hashes.SHA256()), algorithm=hashes.SHA256(), label=None)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def fetch_key(client: Client, version: str = "v2") -> dict[str, Any]:
    return expect_ok(client.post(f"/{version}/crypto/key"), version)


def ciphertext(key: dict[str, Any], password: str) -> bytes:
    public = serialization.load_pem_public_key(key["public_key"].encode("ascii"))
    return public.encrypt(password.encode("utf-8"), OAEP)


def sealed(key: dict[str, Any], password: str) -> str:
    """The field value a client sends: rsa:<kid>:<base64url of the RSA-OAEP-256 ciphertext>."""
    return f"rsa:{key['kid']}:{b64url(ciphertext(key, password))}"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with serving(tmp_path_factory, "rsa", LOGIN_CAPTCHA_AFTER=100, LOGIN_LOCK_AFTER=100, **FAST) as live:
        yield live


def test_the_key_is_published_made_once_and_audited(server: Server, client: Client) -> None:
    v2, v1 = fetch_key(client), fetch_key(client, "v1")
    assert set(v2) == {"kid", "alg", "public_key", "expires_at"} and v1 == v2
    assert v2["alg"] == "RSA-OAEP-256"
    public = serialization.load_pem_public_key(v2["public_key"].encode("ascii"))
    assert public.key_size >= 2048
    assert abs(v2["expires_at"] - (time.time() + 604800)) < 60
    assert server.query("SELECT COUNT(*) FROM rsa_key") == [(1,)]
    made = server.query("SELECT detail FROM audit_log WHERE event = 'crypto_key' AND outcome = 'created'")
    assert len(made) == 1 and v2["kid"] in made[0][0]
    # The private key is not in the database in clear.
    stored = server.query("SELECT sealed_private FROM rsa_key")[0][0]
    assert "PRIVATE" not in stored and not stored.startswith("MII")


def test_login_with_an_encrypted_password_v1_and_v2(server: Server, client: Client) -> None:
    me = password_user(server, client)
    key = fetch_key(client)
    expect_ok(client.post("/login/jwt/get", {"account": me["account"], "pwd": sealed(key, me["password"])}), "v2")
    data = expect_ok(client.post("/v1/login", {"username": me["account"], "password": sealed(key, me["password"])}),
                     "v1")
    assert data["token"]
    # A wrong password encrypted is a wrong password, not a transport error.
    expect_error(client.post("/login/jwt/get", {"account": me["account"], "pwd": sealed(key, "not_it_123")}),
                 "v2", *LOGIN_FAILED)
    # Plain passwords still work under PASSWORD_TRANSPORT=plain.
    jwt_login(client, me["account"], me["password"])


def test_register_and_change_with_encrypted_passwords(server: Server, client: Client) -> None:
    key = fetch_key(client)
    phone, account = new_phone("1390"), f"rsa{new_phone()[-6:]}"
    params = {"account": account, "phone": phone, "code": sms_code(client, phone),
              "password": sealed(key, "reg_pass_1"), "password_confirmation": sealed(key, "reg_pass_1")}
    assert client.post("/login/register", params).status_code == 201
    token = jwt_login(client, account, "reg_pass_1")["jwt"]
    change = {"old_password": sealed(key, "reg_pass_1"), "password": sealed(key, "new_pass_2"),
              "password_confirmation": sealed(key, "new_pass_2")}
    expect_ok(client.post("/v2/password/change", change, token=token), "v2")
    jwt_login(client, account, "new_pass_2")


def test_length_rules_apply_to_the_decrypted_password(server: Server, client: Client) -> None:
    key = fetch_key(client)
    phone = new_phone("1391")
    params = {"account": f"short{phone[-6:]}", "phone": phone, "code": sms_code(client, phone),
              "password": sealed(key, "abc"), "password_confirmation": sealed(key, "abc")}
    expect_error(client.post("/login/register", params), "v2", *PARAM_PASSWORD)
    # The longest password (32) arrives as a 363-character field, past the max:128 of login's pwd.
    me = password_user(server, client, password="p" * 32)
    expect_ok(client.post("/login/jwt/get", {"account": me["account"], "pwd": sealed(key, me["password"])}), "v2")


def test_bad_encrypted_fields_are_one_error(server: Server, client: Client) -> None:
    me = password_user(server, client)
    key = fetch_key(client)
    good = ciphertext(key, me["password"])
    flipped = bytearray(good)
    flipped[100] ^= 0x01
    not_utf8 = ciphertext_of_bytes(key, bytes([0xFF, 0xFE]))
    bad = {
        "unknown kid": f"rsa:0123456789abcdef:{b64url(good)}",
        "truncated": f"rsa:{key['kid']}:{b64url(good[:-10])}",
        "bit-flipped": f"rsa:{key['kid']}:{b64url(bytes(flipped))}",
        "not base64url": f"rsa:{key['kid']}:{b64url(good)}$",
        "no kid": f"rsa::{b64url(good)}",
        "not UTF-8": f"rsa:{key['kid']}:{b64url(not_utf8)}",
        "empty": "rsa:",
    }
    messages = set()
    for why, value in bad.items():
        for version, path, field in (("v2", "/login/jwt/get", "pwd"), ("v1", "/v1/login", "password")):
            account = "account" if version == "v2" else "username"
            response = client.post(path, {account: me["account"], field: value})
            messages.add(expect_error(response, version, *INVALID))
            assert response.status_code == 400, why
    assert messages <= MESSAGES
    assert key["kid"] not in "".join(messages)


def ciphertext_of_bytes(key: dict[str, Any], data: bytes) -> bytes:
    public = serialization.load_pem_public_key(key["public_key"].encode("ascii"))
    return public.encrypt(data, OAEP)


def test_rotation_keeps_the_old_key_for_a_day(server: Server, client: Client) -> None:
    me = password_user(server, client)
    old = fetch_key(client)
    old_value = sealed(old, me["password"])
    day, week = 86400, 604800
    # The current key is past its RSA_KEY_TTL: the next request for the key makes the next one.
    server.query("UPDATE rsa_key SET created_at = created_at - ?", week + 10)
    new = fetch_key(client)
    assert new["kid"] != old["kid"] and fetch_key(client)["kid"] == new["kid"]
    # Within a day of the new key, the old one still decrypts; both do.
    expect_ok(client.post("/login/jwt/get", {"account": me["account"], "pwd": old_value}), "v2")
    expect_ok(client.post("/login/jwt/get", {"account": me["account"], "pwd": sealed(new, me["password"])}), "v2")
    # A day after the new key appeared, the old one decrypts no more; the new one does.
    server.query("UPDATE rsa_key SET created_at = created_at - ? WHERE kid = ?", day + 1, new["kid"])
    expect_error(client.post("/login/jwt/get", {"account": me["account"], "pwd": old_value}), "v2", *INVALID)
    expect_ok(client.post("/login/jwt/get", {"account": me["account"], "pwd": sealed(new, me["password"])}), "v2")


def test_rsa_only_refuses_plain_passwords(tmp_path_factory: pytest.TempPathFactory) -> None:
    # A live server beside the module's in-process app
    live = LiveServer(tmp_path_factory.mktemp("rsa-only"), PASSWORD_TRANSPORT="rsa", **FAST)
    client = Client(live.url)
    try:
        me = password_user(live, client)
        for version, path, params in (
                ("v2", "/login/jwt/get", {"account": me["account"], "pwd": me["password"]}),
                ("v1", "/v1/login", {"username": me["account"], "password": me["password"]})):
            assert expect_error(client.post(path, params), version, *INVALID) in MESSAGES
        key = fetch_key(client)
        # One clear field among encrypted ones is refused too.
        phone = new_phone("1392")
        params = {"account": f"only{phone[-6:]}", "phone": phone, "code": sms_code(client, phone),
                  "password": sealed(key, "reg_pass_1"), "password_confirmation": "reg_pass_1"}
        expect_error(client.post("/login/register", params), "v2", *INVALID)
        expect_ok(client.post("/login/jwt/get", {"account": me["account"], "pwd": sealed(key, me["password"])}), "v2")
        check_the_client(live, me)
    finally:
        client.http.close()
        live.stop()


def check_the_client(live: Server, me: dict[str, Any]) -> None:
    """The Python client encrypts on its own, and fetches the key again once when its kept one is retired."""
    for version in ("v1", "v2"):
        api = LoginApiClient(live.url, SIGN_SECRET, version=version)
        assert api.login(me["account"], me["password"]).access
        assert api.login_token(me["account"], me["password"])["token"]
        plain = LoginApiClient(live.url, SIGN_SECRET, version=version, password_transport="plain")
        with pytest.raises(ApiError) as refused:
            plain.login(me["account"], me["password"])
        assert (refused.value.code, refused.value.status) == ({"v1": 60038, "v2": 50024}[version], 400)
    kept = api.transport._key
    # The client's key is replaced and retired on the server while the client still holds it.
    live.query("UPDATE rsa_key SET created_at = created_at - ?", 604800 + 10)
    fresh = fetch_key(Client(live.url))
    live.query("UPDATE rsa_key SET created_at = created_at - ? WHERE kid = ?", 86400 + 1, fresh["kid"])
    assert api.login(me["account"], me["password"]).access
    assert api.transport._key["kid"] == fresh["kid"] != kept["kid"]


def test_two_instances_share_the_keys(server: Server, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Server B, on A's database, decrypts what A's key encrypted, and publishes the same key."""
    url = server.env.get("DATABASE_URL") or f"sqlite:///{server.db_path}"
    b = LiveServer(tmp_path_factory.mktemp("rsa-b"), DATABASE_URL=url, **FAST)
    ca, cb = Client(server.url), Client(b.url)
    try:
        me = password_user(server, ca)
        key = fetch_key(ca)
        assert fetch_key(cb) == key
        expect_ok(cb.post("/login/jwt/get", {"account": me["account"], "pwd": sealed(key, me["password"])}), "v2")
    finally:
        ca.http.close()
        cb.http.close()
        b.stop()
