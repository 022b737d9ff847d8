"""Asymmetric JWTs: the keyring, `kid`, rotation, key confusion, and the `iss` / `aud` checks."""
from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from app.common.error import ApiException
from app.common.token.jwt import JwtDriver
from app.common.token.keyring import Keyring

SECRET = "test-jwt-secret-0123456789abcdef0123456789abcdef"
LONGEST = 1000


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


def _driver(folder: Path, alg: str = "EdDSA", clock: Clock | None = None, **kwargs: Any) -> JwtDriver:
    keyring = Keyring(folder, alg, LONGEST, clock or Clock())
    return JwtDriver(SECRET, keyring=keyring, **kwargs)


def _issue(driver: JwtDriver) -> str:
    return driver.issue(uid=7, sid="s" * 32, kind="access", ttl=100, rid=["1"], now=int(time.time())).text


def _refused(driver: JwtDriver, text: str) -> ApiException:
    with pytest.raises(ApiException) as caught:
        driver.parse(text, verify_exp=False)
    assert caught.value.answer.name == "TOKEN_INVALID"
    return caught.value


@pytest.mark.parametrize("alg", ["EdDSA", "ES256", "RS256"])
def test_token_names_its_kid_and_verifies_with_the_published_key(tmp_path: Path, alg: str) -> None:
    driver = _driver(tmp_path, alg)
    text = _issue(driver)
    header = jwt.get_unverified_header(text)
    assert header["alg"] == alg
    (jwk,) = [key.jwk() for key in driver.keyring.published()]
    assert jwk["kid"] == header["kid"] and jwk["alg"] == alg and jwk["use"] == "sig"
    assert "d" not in jwk  # the private part is never published
    public = jwt.PyJWK(jwk).key
    claims = jwt.decode(text, public, algorithms=[alg], issuer="login-api", options={"verify_exp": False})
    assert claims["uid"] == 7 and claims["iss"] == "login-api"
    assert driver.parse(text, verify_exp=False).claims["uid"] == 7


def test_keys_are_owner_only(tmp_path: Path) -> None:
    _driver(tmp_path / "jwt")
    assert (tmp_path / "jwt").stat().st_mode & 0o777 == 0o700
    for path in (tmp_path / "jwt").iterdir():
        assert path.stat().st_mode & 0o777 == 0o600, path


def test_hs256_signed_with_the_public_key_is_refused(tmp_path: Path) -> None:
    """Key confusion: the public key (which anyone has) used as an HMAC secret."""
    driver = _driver(tmp_path)
    key = driver.keyring.current()
    pem = key.public_key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    claims = jwt.decode(_issue(driver), options={"verify_signature": False})
    import base64
    import hashlib
    import hmac  # noqa: E401 - PyJWT itself refuses to HMAC with a PEM key
    b64 = lambda data: base64.urlsafe_b64encode(data).rstrip(b"=")  # noqa: E731
    signing_input = b64(json.dumps({"alg": "HS256", "kid": key.kid, "typ": "JWT"}).encode()) + b"." + \
        b64(json.dumps(claims).encode())
    forged = (signing_input + b"." + b64(hmac.new(pem, signing_input, hashlib.sha256).digest())).decode()
    _refused(driver, forged)


def test_hs256_token_is_refused_by_an_asymmetric_service_and_back(tmp_path: Path) -> None:
    hs = JwtDriver(SECRET)
    ed = _driver(tmp_path)
    assert "kid" in str(_refused(ed, _issue(hs)).fields["reason"])
    _refused(hs, _issue(ed))


def test_a_foreign_key_under_our_kid_is_refused(tmp_path: Path) -> None:
    driver = _driver(tmp_path)
    claims = jwt.decode(_issue(driver), options={"verify_signature": False})
    forged = jwt.encode(claims, ed25519.Ed25519PrivateKey.generate(), algorithm="EdDSA",
                        headers={"kid": driver.keyring.current().kid})
    _refused(driver, forged)


def test_unknown_kid_is_refused(tmp_path: Path) -> None:
    driver = _driver(tmp_path)
    claims = jwt.decode(_issue(driver), options={"verify_signature": False})
    key = driver.keyring.current()
    assert "kid" in str(_refused(driver, jwt.encode(claims, key.private_key, algorithm="EdDSA",
                                                     headers={"kid": "nope"})).fields["reason"])
    _refused(driver, jwt.encode(claims, key.private_key, algorithm="EdDSA"))  # no kid at all


@pytest.mark.parametrize("change", [{"iss": "someone-else"}, {"iss": None}, {"aud": "other"}, {"aud": None}])
def test_wrong_or_missing_issuer_and_audience_are_refused(tmp_path: Path, change: dict[str, Any]) -> None:
    driver = _driver(tmp_path, audience="billing")
    claims = jwt.decode(_issue(driver), options={"verify_signature": False})
    assert claims["aud"] == "billing"
    for name, value in change.items():
        claims.pop(name) if value is None else claims.update({name: value})
    key = driver.keyring.current()
    _refused(driver, jwt.encode(claims, key.private_key, algorithm="EdDSA", headers={"kid": key.kid}))


def test_a_rotated_key_verifies_until_its_last_token_expires(tmp_path: Path) -> None:
    clock = Clock()
    driver = _driver(tmp_path, clock=clock)
    old = _issue(driver)
    old_kid = driver.keyring.current().kid
    new_kid = driver.keyring.rotate().kid
    assert new_kid != old_kid
    assert jwt.get_unverified_header(_issue(driver))["kid"] == new_kid
    assert driver.parse(old, verify_exp=False).claims["uid"] == 7
    assert [k.kid for k in driver.keyring.published()] == [new_kid, old_kid]
    clock.now += LONGEST + 61  # past the last token the old key can have signed
    driver._verified.cache_clear()
    _refused(driver, old)
    assert [k.kid for k in driver.keyring.published()] == [new_kid]


def test_a_rotation_by_another_process_is_seen(tmp_path: Path) -> None:
    clock = Clock()
    worker = _driver(tmp_path, clock=clock)
    operator = Keyring(tmp_path, "EdDSA", LONGEST, clock)  # as `jwt:rotate` opens it
    new = operator.rotate()
    token = jwt.encode({"iss": "login-api", "uid": 7, "rid": [], "iat": 1, "exp": 2, "jti": "j", "sid": "s",
                        "type": "access"}, new.private_key, algorithm="EdDSA", headers={"kid": new.kid})
    assert worker.parse(token, verify_exp=False).claims["uid"] == 7  # an unknown kid reloads the list
    clock.now += 1
    assert worker.keyring.current().kid == new.kid


def test_workers_starting_at_once_make_one_key(tmp_path: Path) -> None:
    kids: list[str] = []
    threads = [threading.Thread(target=lambda: kids.append(Keyring(tmp_path, "ES256", LONGEST).current().kid))
               for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(kids)) == 1 and len(json.loads((tmp_path / "keys.json").read_text())) == 1


def test_changing_jwt_alg_makes_a_key_of_the_new_algorithm(tmp_path: Path) -> None:
    ed = _driver(tmp_path, "EdDSA")
    ed_token = _issue(ed)
    rs = _driver(tmp_path, "RS256")
    assert jwt.get_unverified_header(_issue(rs))["alg"] == "RS256"
    # the old key still verifies its own tokens, with its own algorithm
    assert rs.parse(ed_token, verify_exp=False).claims["uid"] == 7
