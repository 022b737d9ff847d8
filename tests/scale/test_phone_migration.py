"""Migration 11 (SPEC §13.3) on SQLite, MariaDB and PostgreSQL: a database of plain phones is encrypted in place.

The old database is made by migrations 1 to 10, without the `phone_enc` column they did not have,
filled with plain SQL, then `python server.py migrate` runs against it as an operator would run it.
"""
from __future__ import annotations

import time
from pathlib import Path

from argon2 import PasswordHasher

from tests.scale.helpers import FAST, run_sql

# `database`: a fresh database of each backend, the fixture of the migration tests
from tests.scale.test_migrations import database, finish, make_oldest_schema, migrate  # noqa: F401
from tests.support import Client, LiveServer, expect_ok, phone_index

PASSWORD = "old_pass_123"
PHONE, STRANGER = "13912340011", "13912340022"


def make_version_10(url: str) -> None:
    make_oldest_schema(url, through=10)
    run_sql(url, "ALTER TABLE users DROP COLUMN phone_enc")  # today's model has it; version 10 had not


def test_migration_11_encrypts_every_plain_phone(database: str, tmp_path: Path) -> None:
    url = database
    make_version_10(url)
    now = int(time.time())
    old_hash = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash(PASSWORD)
    run_sql(url, "INSERT INTO users (account, account_key, phone, password_hash, status, created_at, updated_at) "
                 "VALUES (?, ?, ?, ?, ?, ?, ?)", "OldUser", "olduser", PHONE, old_hash, 1, now, now)
    run_sql(url, "INSERT INTO sms_code (phone, scene, code_hash, created_at, expire_at, attempts) "
                 "VALUES (?, ?, ?, ?, ?, ?)", STRANGER, "register", "0" * 64, now, now + 300, 0)
    run_sql(url, "INSERT INTO audit_log (created_at, event, outcome, account, ip) VALUES (?, ?, ?, ?, ?)",
            now, "sms", "sent", STRANGER, "127.0.0.1")

    for _ in range(2):  # the second run finds nothing to do
        code, out, err = finish(migrate(url, tmp_path / "runtime"))
        assert code == 0 and "Traceback" not in err, (out, err)
    (index, encrypted), = run_sql(url, "SELECT phone, phone_enc FROM users")
    assert index == phone_index(PHONE) and encrypted.startswith("v1:") and PHONE not in encrypted
    assert run_sql(url, "SELECT phone FROM sms_code") == [(phone_index(STRANGER),)]
    assert run_sql(url, "SELECT account FROM audit_log WHERE event = 'sms'") == [("139****0022",)]

    server = LiveServer(tmp_path / "live", DATABASE_URL=url, REDIS_URL="", **FAST)
    client = Client(server.url)
    try:
        data = expect_ok(client.post("/login/jwt/get", {"account": PHONE, "pwd": PASSWORD}), "v2")
        assert expect_ok(client.post("/v2/test", token=data["jwt"]), "v2")["phone"] == PHONE
    finally:
        client.http.close()
        server.stop()
