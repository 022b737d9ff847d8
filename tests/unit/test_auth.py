"""The Auth singleton on a real SQLite database: passwords, md5 tokens stored as hashes, checks."""
from __future__ import annotations

import asyncio
import hashlib
import re
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import server
from app.common.auth import Auth
from app.common.error import ApiException
from app.model.base import db
from app.model.user import User, account_key
from tests.support import JWT_SECRET, SIGN_SECRET

PASSWORD = "secret_123"


class Env:
    def __init__(self, runtime: Path, auth: Auth, settings: Any):
        self.runtime = runtime
        self.auth = auth
        self.settings = settings
        self.db_path = runtime / "app.db"

    def add_user(self, account: str, phone: str, password: str = PASSWORD, status: int = 1) -> User:
        return User.create(account=account, account_key=account_key(account), phone=phone, status=status,
                           password_hash=self.auth.passwords.hash_sync(password))

    def sql(self, statement: str, *args: Any) -> list[tuple]:
        """A statement through a connection of its own, as another process would run it."""
        with sqlite3.connect(self.db_path) as conn:
            rows = conn.execute(statement, args).fetchall()
        conn.close()
        return rows


def boot_auth(runtime: Path, **overrides: Any) -> Env:
    settings = server.boot({"RUNTIME_DIR": str(runtime), "SIGN_SECRET": SIGN_SECRET, "JWT_SECRET": JWT_SECRET,
                            "LOG_LEVEL": "warning", **overrides})
    return Env(runtime, Auth.install(settings), settings)


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    e = boot_auth(tmp_path / "runtime")
    e.add_user("Foo", "13911119999")
    yield e
    e.auth.close()
    db.close()


def run(coroutine: Any) -> Any:
    return asyncio.run(coroutine)


def failure(coroutine: Any) -> ApiException:
    with pytest.raises(ApiException) as caught:
        run(coroutine)
    return caught.value


def test_install_makes_the_instance(env: Env) -> None:
    assert Auth.instance() is env.auth
    again = Auth.install(env.settings)
    assert Auth.instance() is again and again is not env.auth
    env.auth = again


@pytest.mark.parametrize("identity", ["Foo", "foo", "FOO", " Foo ", "13911119999"])
def test_attempt_by_account_in_any_case_or_phone(env: Env, identity: str) -> None:
    user = run(env.auth.attempt(identity, PASSWORD))
    assert (user.account, user.phone) == ("Foo", "13911119999")


@pytest.mark.parametrize("identity, password", [
    ("Foo", "wrong_password"),
    ("Foo", PASSWORD.upper()),
    ("Foo", ""),
    ("nobody", PASSWORD),
    ("13900000000", PASSWORD),
])
def test_wrong_password_and_unknown_user_fail_alike(env: Env, identity: str, password: str) -> None:
    exc = failure(env.auth.attempt(identity, password))
    assert exc.answer.name == "LOGIN_FAILED"
    assert exc.fields == {"account": identity}
    assert (exc.code("v1"), exc.code("v2"), exc.answer.http) == (60001, 50006, 401)


def test_disabled_user_fails_like_a_wrong_password(env: Env) -> None:
    env.add_user("Off", "13922223333", status=0)
    assert failure(env.auth.attempt("Off", PASSWORD)).answer.name == "LOGIN_FAILED"


def test_reveal_unknown_switch(tmp_path: Path) -> None:
    e = boot_auth(tmp_path / "runtime", LOGIN_REVEAL_UNKNOWN=1)
    try:
        e.add_user("Foo", "13911119999")
        exc = failure(e.auth.attempt("nobody", PASSWORD))
        assert exc.answer.name == "USER_NOT_FOUND"
        assert (exc.code("v1"), exc.code("v2")) == (60009, 50006)
        # A known user with a wrong password still gets the wrong-password answer.
        assert failure(e.auth.attempt("Foo", "wrong_password")).answer.name == "LOGIN_FAILED"
    finally:
        e.auth.close()
        db.close()


def test_a_weaker_stored_hash_is_upgraded_on_login(env: Env) -> None:
    from argon2 import PasswordHasher

    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD)
    User.update(password_hash=weak).where(User.account_key == "foo").execute()
    run(env.auth.attempt("Foo", PASSWORD))
    stored = User.get(User.account_key == "foo").password_hash
    assert stored != weak and stored.startswith("$argon2id$")
    assert f"m={env.settings.PASSWORD_MEMORY_COST},t={env.settings.PASSWORD_TIME_COST}" in stored
    run(env.auth.attempt("Foo", PASSWORD))          # and it still verifies


def test_passwords_are_stored_as_argon2id(env: Env) -> None:
    (stored,) = env.sql("SELECT password_hash FROM users WHERE account = 'Foo'")[0]
    assert stored.startswith("$argon2id$") and PASSWORD not in stored


def login(env: Env, identity: str = "Foo") -> Any:
    return run(env.auth.login(run(env.auth.attempt(identity, PASSWORD))))


def test_login_issues_a_32_lowercase_hex_token_stored_as_its_sha256(env: Env) -> None:
    before = int(time.time())
    result = login(env)
    token = result.access
    assert re.fullmatch(r"[0-9a-f]{32}", token.text)
    assert result.refresh is None
    assert token.expire_at - token.issued_at == 7200
    assert before <= token.issued_at <= time.time()
    key = hashlib.sha256(token.text.encode("ascii")).hexdigest()
    rows = env.sql("SELECT token_key, kind, uid, expire_at, revoked FROM auth_token")
    assert rows == [(key, "md5", result.user.id, token.expire_at, 0)]
    assert env.sql("SELECT uid FROM auth_session") == [(result.user.id,)]
    db.close()
    stored = b"".join(p.read_bytes() for p in env.runtime.glob("app.db*"))
    assert key.encode() in stored                   # the search below looks where the rows are
    assert token.text.encode() not in stored
    assert token.text.upper().encode() not in stored


def test_every_login_gets_a_new_token(env: Env) -> None:
    tokens = {login(env).access.text for _ in range(5)}
    assert len(tokens) == 5


def test_check_a_live_token(env: Env) -> None:
    result = login(env)
    identity = run(env.auth.check(result.access.text))
    assert (identity.uid, identity.account, identity.phone) == (result.user.id, "Foo", "13911119999")
    assert identity.expire_at == result.access.expire_at


def test_check_a_revoked_token(env: Env) -> None:
    token = login(env).access.text
    env.sql("UPDATE auth_token SET revoked = 1")
    exc = failure(env.auth.check(token))
    assert exc.answer.name == "TOKEN_INVALID"
    assert (exc.code("v1"), exc.code("v2"), exc.answer.http) == (60010, 9908, 401)


def test_check_an_expired_token(env: Env) -> None:
    token = login(env).access.text
    env.sql("UPDATE auth_token SET expire_at = ?", int(time.time()) - 1)
    exc = failure(env.auth.check(token))
    assert exc.answer.name == "TOKEN_EXPIRED"
    assert (exc.code("v1"), exc.code("v2"), exc.answer.http) == (60011, 9908, 401)


def test_check_a_token_of_a_disabled_user(env: Env) -> None:
    token = login(env).access.text
    env.sql("UPDATE users SET status = 0")
    assert failure(env.auth.check(token)).answer.name == "TOKEN_INVALID"


@pytest.mark.parametrize("text", ["", "abc", "g" * 32, "0" * 31, "0" * 33, "0" * 32, "a.b.c", "中" * 32,
                                  "00000000-0000-0000-0000-000000000000"])
def test_check_a_malformed_or_unknown_token(env: Env, text: str) -> None:
    login(env)
    assert failure(env.auth.check(text)).answer.name == "TOKEN_INVALID"


def test_a_token_is_not_its_stored_key(env: Env) -> None:
    token = login(env).access.text
    (key,) = env.sql("SELECT token_key FROM auth_token")[0]
    # Someone who reads the table cannot use what they read.
    assert failure(env.auth.check(key)).answer.name == "TOKEN_INVALID"
    assert run(env.auth.check(token)).account == "Foo"
