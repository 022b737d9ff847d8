"""Phones at rest (SPEC §13.3): no table holds a phone in clear, and `data:rekey` moves them to a new key."""
from __future__ import annotations

import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.api.lifecycle import FAST, LOGIN_FAILED, code_for, jwt_login, new_phone
from tests.support import (
    ROOT,
    TEST_BACKEND,
    Client,
    LiveServer,
    create_database,
    drop_database,
    expect_error,
    expect_ok,
    phone_index,
    register_user,
)

PASSWORD = "rest_pass_1"


def dump(server: LiveServer) -> str:
    """Every row of every table, as text: `sqlite3 app.db .dump`, or SELECT * of each table."""
    if server.backend == "sqlite":
        with sqlite3.connect(server.db_path) as conn:
            return "\n".join(conn.iterdump())
    if server.backend == "mysql":
        tables = [row[0] for row in server.query("SHOW TABLES")]
    else:
        tables = [row[0] for row in server.query("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")]
    assert "users" in tables and "sms_code" in tables and "audit_log" in tables
    return "\n".join(f"{table}: {server.query(f'SELECT * FROM {table}')!r}" for table in tables)


def data_key(server: LiveServer) -> str:
    return (server.runtime / "secrets" / "data_key").read_text().strip()


@pytest.fixture(scope="module")
def database_url() -> Iterator[dict[str, str]]:
    """A database of the test's own, so a server can be stopped for data:rekey and another started on it."""
    if TEST_BACKEND == "sqlite":
        yield {}
        return
    name, url = create_database(TEST_BACKEND)
    yield {"DATABASE_URL": url}
    drop_database(TEST_BACKEND, name)


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("runtime")


def start(runtime: Path, database_url: dict[str, str]) -> LiveServer:
    # DATA_KEY unset: generated into runtime/secrets/data_key, as in production, so data:rekey can replace it.
    return LiveServer(runtime, DATA_KEY="", **FAST, **database_url)


@pytest.fixture(scope="module")
def server(runtime: Path, database_url: dict[str, str]) -> Iterator[LiveServer]:
    live = start(runtime, database_url)
    yield live
    live.stop()


def test_no_table_holds_a_phone_in_clear(server: LiveServer, client: Client) -> None:
    phone, stranger = new_phone("1391"), new_phone("1392")
    account = f"rest{phone[-6:]}"
    register_user(client, account, phone, PASSWORD)
    pair = jwt_login(client, phone, PASSWORD)  # login by phone
    expect_error(client.post("/login/jwt/get", {"account": phone, "pwd": "wrong_pass"}), "v2", *LOGIN_FAILED)
    code_for(client, phone, "login")  # an SMS send
    # A phone without an account: answered like a send, audited, no code sent.
    expect_ok(client.post("/login/send/sms", {"phone": stranger, "scene": "reset"}), "v2")

    text = dump(server)
    assert phone not in text and stranger not in text
    assert phone_index(phone, data_key(server)) in text  # the index is where the phone was

    me = expect_ok(client.post("/v2/test", token=pair["jwt"]), "v2")
    assert (me["account"], me["phone"]) == (account, phone)
    admin_phone = new_phone("1393")
    server.create_user("restadmin", admin_phone, PASSWORD, admin=True)
    admin = jwt_login(client, "restadmin", PASSWORD)["jwt"]
    found = expect_ok(client.post("/v2/admin/user/list", {"keyword": phone}, token=admin), "v2")
    assert [row["account"] for row in found["list"]] == [account]

    moved = new_phone("1394")
    code = code_for(client, moved, "change_phone", token=pair["jwt"])
    expect_ok(client.post("/phone/change", {"phone": moved, "code": code, "password": PASSWORD},
                          token=pair["jwt"]), "v2")
    assert expect_ok(client.post("/v2/test", token=pair["jwt"]), "v2")["phone"] == moved
    jwt_login(client, moved, PASSWORD)
    expect_error(client.post("/login/jwt/get", {"account": phone, "pwd": PASSWORD}), "v2", *LOGIN_FAILED)
    text = dump(server)
    assert moved not in text and phone not in text and admin_phone not in text


def test_data_rekey_moves_every_phone_to_a_new_key(server: LiveServer, runtime: Path,
                                                   database_url: dict[str, str]) -> None:
    client = Client(server.url)
    phone = new_phone("1395")
    register_user(client, f"rekey{phone[-6:]}", phone, PASSWORD)
    pair = jwt_login(client, phone, PASSWORD)
    code_for(client, new_phone("1396"), "login")  # a pending code: rekey drops it
    old_key = data_key(server)
    before = dict(server.query("SELECT id, phone_enc FROM users"))
    client.http.close()

    server.stop()  # an offline operation
    done = server.command("data:rekey")  # DATA_KEY="" in its env: the key comes from the file
    assert done.returncode == 0, done.stderr
    assert "pending SMS codes" in done.stdout and old_key not in done.stdout
    new_key = data_key(server)
    assert new_key != old_key
    assert (runtime / "secrets" / "data_key.old").read_text() == old_key
    after = dict(server.query("SELECT id, phone_enc FROM users"))
    assert set(after) == set(before) and all(after[uid] != before[uid] for uid in before)
    assert server.query("SELECT COUNT(*) FROM sms_code") == [(0,)]
    assert server.query("SELECT COUNT(*) FROM users WHERE phone = ?", phone_index(phone, new_key)) == [(1,)]

    again = start(runtime, database_url)
    client = Client(again.url)
    try:
        assert expect_ok(client.post("/v2/test", token=pair["jwt"]), "v2")["phone"] == phone
        jwt_login(client, phone, PASSWORD)
        assert phone not in dump(again)
    finally:
        client.http.close()
        again.stop()


def test_data_rekey_refuses_a_key_from_the_environment(server: LiveServer) -> None:
    env: dict[str, Any] = {**server.env, "DATA_KEY": data_key(server)}
    done = subprocess.run([sys.executable, str(ROOT / "server.py"), "data:rekey"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "--new-key" in done.stderr
