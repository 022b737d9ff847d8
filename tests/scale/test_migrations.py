"""Numbered migrations on SQLite, MariaDB and PostgreSQL: an old database is brought up to date, its rows intact.

The old database is made by migration 1 alone (the foundation's schema), filled with plain SQL,
then `python server.py migrate` runs against it as an operator would run it.
"""
from __future__ import annotations

import hashlib
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher

from tests.scale.helpers import FAST, fresh_database, run_sql
from tests.support import ROOT, Client, LiveServer, expect_error, expect_ok, phone_index, server_env

BACKENDS = ["sqlite", pytest.param("mysql", marks=pytest.mark.mysql),
            pytest.param("postgres", marks=pytest.mark.postgres)]
PASSWORD = "old_pass_123"


def newest_version() -> int:
    from app.model.migration import MIGRATIONS

    return MIGRATIONS[-1][0]


def every_version() -> list[tuple[int, int]]:
    """(number, 1) for each migration: numbers may skip one a parallel change has claimed."""
    from app.model.migration import MIGRATIONS

    return [(number, 1) for number, _ in MIGRATIONS]


def make_oldest_schema(url: str, through: int = 1) -> None:
    """The schema of migration 1 only (or of those up to `through`), and schema_version saying so."""
    from app.common.database import init_database, write_transaction
    from app.model.base import db
    from app.model.migration import MIGRATIONS
    from app.model.schema_version import SchemaVersion

    previous = db.obj
    database = init_database(url, 5000)
    try:
        with db.connection_context():
            with write_transaction():
                done = [(number, step) for number, step in MIGRATIONS if number <= through]
                for _, step in done:
                    step()
                db.create_tables([SchemaVersion], safe=True)
                for number, _ in done:
                    SchemaVersion.create(version=number)
    finally:
        if hasattr(database, "close_all"):
            database.close_all()
        else:
            database.close()
        db.initialize(previous)


def migrate(url: str, runtime: Path) -> subprocess.Popen:
    """`python server.py migrate` against `url`, started (not waited for)."""
    return subprocess.Popen([sys.executable, str(ROOT / "server.py"), "migrate"], cwd=ROOT, text=True,
                            env=server_env(runtime, DATABASE_URL=url, REDIS_URL=""),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def finish(process: subprocess.Popen) -> tuple[int, str, str]:
    out, err = process.communicate(timeout=60)
    return process.returncode, out, err


def versions(url: str) -> list[tuple[int, int]]:
    rows = run_sql(url, "SELECT version, COUNT(*) FROM schema_version GROUP BY version ORDER BY version")
    return [(int(v), int(n)) for v, n in rows]


@pytest.fixture(params=BACKENDS)
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with fresh_database(request.param, tmp_path / "db") as url:
        yield url


def test_migrate_brings_the_oldest_schema_up_to_date_and_keeps_its_rows(database: str, tmp_path: Path) -> None:
    url = database
    make_oldest_schema(url)
    assert versions(url) == [(1, 1)]
    now = int(time.time())
    old_hash = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash(PASSWORD)
    run_sql(url, "INSERT INTO users (account, account_key, phone, password_hash, status, created_at, updated_at) "
                 "VALUES (?, ?, ?, ?, ?, ?, ?)", "OldUser", "olduser", "13912345678", old_hash, 1, now - 86400,
            now - 86400)
    (uid,), = run_sql(url, "SELECT id FROM users WHERE account_key = 'olduser'")
    live_sid, dead_sid = secrets.token_hex(16), secrets.token_hex(16)
    live_token, dead_token = secrets.token_hex(16), secrets.token_hex(16)
    run_sql(url, "INSERT INTO auth_session (id, uid, created_at, expire_at, revoked_at) VALUES (?, ?, ?, ?, NULL)",
            live_sid, uid, now - 60, now + 3600)
    run_sql(url, "INSERT INTO auth_session (id, uid, created_at, expire_at, revoked_at) VALUES (?, ?, ?, ?, ?)",
            dead_sid, uid, now - 120, now + 3600, now - 30)
    for token, sid, revoked in ((live_token, live_sid, 0), (dead_token, dead_sid, 1)):
        run_sql(url, "INSERT INTO auth_token (token_key, kind, uid, sid, issued_at, expire_at, revoked) "
                     "VALUES (?, ?, ?, ?, ?, ?, ?)",
                hashlib.sha256(token.encode()).hexdigest(), "md5", uid, sid, now - 60, now + 3600, revoked)
    # Every column but the phone, which migration 11 encrypts (SPEC §13.3; checked below).
    tables = {"users": "id, account, account_key, password_hash, status, created_at, updated_at",
              "auth_session": "*", "auth_token": "*"}
    before = {t: run_sql(url, f"SELECT {c} FROM {t} ORDER BY id") for t, c in tables.items()}

    code, out, err = finish(migrate(url, tmp_path / "runtime"))
    assert code == 0, (out, err)
    assert out.strip() == f"schema version {newest_version()}", (out, err)
    assert "Traceback" not in err, err
    assert versions(url) == every_version()
    assert {t: run_sql(url, f"SELECT {c} FROM {t} ORDER BY id") for t, c in tables.items()} == before
    (index, encrypted), = run_sql(url, "SELECT phone, phone_enc FROM users")
    assert index == phone_index("13912345678") and encrypted.startswith("v1:")
    assert run_sql(url, "SELECT name, builtin FROM role WHERE name = 'admin'") == [("admin", 1)]


    server = LiveServer(tmp_path / "live", DATABASE_URL=url, REDIS_URL="", **FAST)
    client = Client(server.url)
    try:
        data = expect_ok(client.post("/v2/login", {"username": "OldUser", "password": PASSWORD}), "v2")
        assert data["uid"] == uid
        me = expect_ok(client.post("/v2/test", token=live_token), "v2")
        assert (me["uid"], me["account"], me["phone"]) == (uid, "OldUser", "13912345678")
        expect_error(client.post("/v2/test", token=dead_token), "v2", 60010, 9908, 401)
        expect_ok(client.post("/v2/test", token=data["token"]), "v2")
    finally:
        client.http.close()
        server.stop()


def test_two_migrate_processes_at_once_apply_each_version_once(database: str, tmp_path: Path) -> None:
    url = database
    first, second = migrate(url, tmp_path / "r1"), migrate(url, tmp_path / "r2")
    results = [finish(first), finish(second)]
    for code, out, err in results:
        assert code == 0, (out, err)
        assert out.strip() == f"schema version {newest_version()}", (out, err)
    assert versions(url) == every_version()
    assert run_sql(url, "SELECT COUNT(*) FROM role WHERE name = 'admin'") == [(1,)]


def test_opening_a_new_sqlite_file_waits_while_another_process_creates_it(tmp_path: Path) -> None:
    """The race behind a flaky "database is locked" of two `migrate`s on a new file: switching a file that
    is still in rollback mode to WAL needs the write lock, and SQLite refuses at once (no busy wait) while
    another connection holds it. Opening must wait for the lock like any statement does."""
    import sqlite3
    import threading

    from app.common.database import open_database

    path = tmp_path / "new.db"
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)  # mid-creation, rollback mode
    other.execute("BEGIN IMMEDIATE")
    other.execute("CREATE TABLE made_by_the_other (x)")
    threading.Timer(0.3, other.execute, ("COMMIT",)).start()
    database = open_database(f"sqlite:///{path}", 5000)
    started = time.monotonic()
    database.connect()
    try:
        assert database.execute_sql("PRAGMA journal_mode").fetchone() == ("wal",)
        assert time.monotonic() - started >= 0.2  # it waited for the other's commit
        assert database.execute_sql("SELECT count(*) FROM made_by_the_other").fetchone() == (0,)
    finally:
        database.close()
        other.close()
