"""Refresh rotation with reuse detection, and REFRESH_LIMIT without rotation (SPEC §11)."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import jwt as pyjwt
import pytest

from tests.api.lifecycle import FAST, TOKEN_INVALID, jwt_login, password_user
from tests.conftest import Server, serving
from tests.support import Client, LiveServer, expect_error, expect_ok

GRACE = 10  # REFRESH_REUSE_GRACE's default


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with serving(tmp_path_factory, "rotation", REFRESH_LIMIT=3, **FAST) as live:
        yield live


@pytest.fixture
def pair(server: Server, client: Client) -> dict[str, Any]:
    user = password_user(server, client)
    return jwt_login(client, user["account"], user["password"])


def rotate(client: Client, refresh: str, version: str = "v2") -> Any:
    return client.post(f"/{version}/login/jwt/refresh", {"jwt": refresh, "rotate": "1"})


def cache_bytes(live: Server) -> bytes:
    """Every key and value of the server's shared cache, as raw bytes (LMDB file or Redis)."""
    if "REDIS_URL" in live.env:
        import redis
        r = redis.Redis.from_url(live.env["REDIS_URL"])
        keys = list(r.scan_iter(live.env["REDIS_PREFIX"] + "*"))
        return b"".join(k + (r.dump(k) or b"") for k in keys)
    if live.backend != "sqlite":
        pytest.skip("the database cache is read through its own tests")
    return (live.runtime / "cache.lmdb").read_bytes()


def claims(token: str) -> dict[str, Any]:
    return pyjwt.decode(token, options={"verify_signature": False})


def test_rotation_answers_a_new_pair_and_uses_the_old_token_up(pair: dict[str, str], client: Client) -> None:
    new = expect_ok(rotate(client, pair["refresh_jwt"], "v1"), "v1")
    assert set(new) == {"jwt", "refresh_jwt"}
    assert claims(new["refresh_jwt"])["type"] == "refresh" and claims(new["jwt"])["type"] == "access"
    assert claims(new["refresh_jwt"])["sid"] == claims(pair["refresh_jwt"])["sid"]
    assert expect_ok(client.post("/v2/test", token=new["jwt"]), "v2")
    # Within the grace the old token answers the same pair (a client that lost the answer retries).
    assert expect_ok(rotate(client, pair["refresh_jwt"]), "v2") == new
    # A plain refresh of a used-up token is refused too: it is no longer a live refresh token.
    expect_error(client.post("/login/jwt/refresh", {"jwt": pair["refresh_jwt"]}), "v2", *TOKEN_INVALID)
    # The new refresh token rotates in turn.
    newer = expect_ok(rotate(client, new["refresh_jwt"]), "v2")
    assert newer["refresh_jwt"] != new["refresh_jwt"]


def test_reuse_after_the_grace_ends_the_whole_session(server: Server, pair: dict[str, str],
                                                      client: Client) -> None:
    new = expect_ok(rotate(client, pair["refresh_jwt"]), "v2")
    # The grace has passed: the token was used up GRACE + 1 seconds ago (its row is keyed by its jti).
    server.query("UPDATE auth_token SET rotated_at = rotated_at - ? WHERE token_key = ?", GRACE + 1,
                 claims(pair["refresh_jwt"])["jti"])
    expect_error(rotate(client, pair["refresh_jwt"], "v1"), "v1", *TOKEN_INVALID)
    for token in (pair["jwt"], new["jwt"]):
        expect_error(client.post("/v2/test", token=token), "v2", *TOKEN_INVALID)
    expect_error(rotate(client, new["refresh_jwt"]), "v2", *TOKEN_INVALID)


def test_a_deactivated_session_cannot_rotate(pair: dict[str, str], client: Client) -> None:
    expect_ok(client.post("/login/jwt/deactivate", {"jwt": pair["jwt"]}), "v2")
    expect_error(rotate(client, pair["refresh_jwt"]), "v2", *TOKEN_INVALID)
    expect_error(rotate(client, pair["jwt"]), "v2", *TOKEN_INVALID)  # an access token is no refresh token


def test_without_rotation_a_session_keeps_refresh_limit_access_tokens(server: Server, pair: dict[str, str],
                                                                     client: Client) -> None:
    issued = [pair["jwt"]] + [expect_ok(client.post("/login/jwt/refresh", {"jwt": pair["refresh_jwt"]}), "v2")
                              for _ in range(4)]
    alive = [client.post("/v2/test", token=token).status_code == 200 for token in issued]
    assert alive == [False, False, True, True, True]  # REFRESH_LIMIT=3: the oldest two were revoked
    # The refresh token itself is untouched.
    expect_ok(client.post("/login/jwt/refresh", {"jwt": pair["refresh_jwt"]}), "v2")


def test_refresh_rotate_setting_rotates_every_refresh(tmp_path_factory: pytest.TempPathFactory) -> None:
    live = LiveServer(tmp_path_factory.mktemp("rotate-all"), REFRESH_ROTATE=1, CACHE_MAP_SIZE=16, **FAST)
    c = Client(live.url)
    try:
        user = password_user(live, c)
        first = jwt_login(c, user["account"], user["password"])
        new = expect_ok(c.post("/login/jwt/refresh", {"jwt": first["refresh_jwt"]}), "v2")
        assert set(new) == {"jwt", "refresh_jwt"}
        # The shared cache keeps the answer for the grace, sealed: no token in clear.
        stored = cache_bytes(live)
        assert b"rot:" in stored
        for token in (new["jwt"], new["refresh_jwt"], first["refresh_jwt"]):
            assert token.rsplit(".", 1)[1].encode() not in stored
    finally:
        c.http.close()
        live.stop()
