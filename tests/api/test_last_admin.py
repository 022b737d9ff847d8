"""SPEC §10 "Roles": the last active user holding `*` keeps it (LAST_ADMIN, v1 60037 / v2 50023, 403).

Whatever takes it away — an assign, an update or delete of the role that gives it, the
`role:revoke` command, or two administrators demoting each other at the same moment — is refused
while no other active user holds `*`, and the refused change leaves nothing behind.
"""
from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests.api.test_roles import call, jwt_login, md5_login, ok, refused, unique, unique_phone
from tests.conftest import PASSWORD
from tests.support import MYSQL_ADMIN, Client, LiveServer

LAST_ADMIN = (60037, 50023, 403)


def login(server: LiveServer, account: str) -> dict[str, str]:
    client = Client(server.url)
    return {"v2": jwt_login(client, account)[0], "v1": md5_login(client, account)}


def make_admin(server: LiveServer) -> dict[str, Any]:
    account = unique("adm")
    return {"uid": server.create_user(account, unique_phone(), PASSWORD, admin=True), **login(server, account)}


def star_holders(server: LiveServer) -> list[int]:
    """Active users holding `*` (every `*` role here holds exactly ["*"])."""
    return [row[0] for row in server.query(
        "SELECT DISTINCT ur.uid FROM user_role ur JOIN role r ON r.id = ur.role_id JOIN users u ON u.id = ur.uid "
        "WHERE r.permissions_json = '[\"*\"]' AND u.status = 1 ORDER BY ur.uid")]


@pytest.fixture(scope="module")
def root_account(server: LiveServer) -> dict[str, Any]:
    uid = server.create_user("root", "13900000001", PASSWORD, admin=True)
    return {"uid": uid, **login(server, "root")}


@pytest.fixture
def root(server: LiveServer, root_account: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Root, the only active administrator when the test starts; so again after it."""
    yield root_account
    server.query("DELETE FROM user_role WHERE uid <> ? AND role_id IN "
                 "(SELECT id FROM role WHERE permissions_json = '[\"*\"]')", root_account["uid"])
    if not server.query("SELECT 1 FROM user_role WHERE uid = ? AND role_id = 1", root_account["uid"]):
        server.query("INSERT INTO user_role (uid, role_id, created_at) VALUES (?, 1, 0)", root_account["uid"])
    assert star_holders(server) == [root_account["uid"]]


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_an_admin_demotes_another_but_not_the_last(server: LiveServer, client: Client, root: dict[str, Any],
                                                   version: str) -> None:
    other = make_admin(server)
    ok(client, version, "assign", {"uid": other["uid"], "rid": []}, root[version])
    assert star_holders(server) == [root["uid"]]
    lesser = ok(client, "v2", "create", {"name": unique("r"), "title": "t", "permissions": ["role/*"]}, root["v2"],
                status=201)
    for rid in ([], [lesser["id"]]):
        refused(call(client, version, "assign", {"uid": root["uid"], "rid": rid}, root[version]), version, LAST_ADMIN)
        assert server.query("SELECT role_id FROM user_role WHERE uid = ?", root["uid"]) == [(1,)]
    # the other way round too: the last administrator is not demoted by the one demoted before
    ok(client, "v2", "assign", {"uid": other["uid"], "rid": [1]}, root["v2"])
    ok(client, version, "assign", {"uid": root["uid"], "rid": []}, other[version])
    refused(call(client, version, "assign", {"uid": other["uid"], "rid": []}, other[version]), version, LAST_ADMIN)
    assert star_holders(server) == [other["uid"]]


def test_a_disabled_admin_does_not_count(server: LiveServer, client: Client, root: dict[str, Any]) -> None:
    other = make_admin(server)
    server.query("UPDATE users SET status = 0 WHERE id = ?", other["uid"])
    refused(call(client, "v2", "assign", {"uid": root["uid"], "rid": []}, root["v2"]), "v2", LAST_ADMIN)
    server.query("UPDATE users SET status = 1 WHERE id = ?", other["uid"])
    ok(client, "v2", "assign", {"uid": root["uid"], "rid": []}, root["v2"])
    assert star_holders(server) == [other["uid"]]


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_the_role_that_is_the_last_admins_only_star_stays(server: LiveServer, client: Client, root: dict[str, Any],
                                                          version: str) -> None:
    star = ok(client, "v2", "create", {"name": unique("star"), "title": "Stars", "permissions": ["*"]}, root["v2"],
              status=201)
    account = unique("c")
    uid = server.create_user(account, unique_phone(), PASSWORD)
    ok(client, "v2", "assign", {"uid": uid, "rid": [star["id"]]}, root["v2"])
    ok(client, "v2", "assign", {"uid": root["uid"], "rid": []}, root["v2"])   # the star role is all that is left
    token = login(server, account)[version]
    before = server.query("SELECT title, permissions_json FROM role WHERE id = ?", star["id"])
    for permissions in ([], ["role/*"], ["role/update"]):
        refused(call(client, version, "update", {"id": star["id"], "permissions": permissions}, token),
                version, LAST_ADMIN)
    refused(call(client, version, "delete", {"id": star["id"]}, token), version, LAST_ADMIN)
    assert server.query("SELECT title, permissions_json FROM role WHERE id = ?", star["id"]) == before
    assert star_holders(server) == [uid]
    # what does not take `*` away still works
    assert ok(client, version, "update", {"id": star["id"], "title": "Still stars"}, token)["title"] == "Still stars"
    # with `*` from the built-in role as well, the star role may go
    ok(client, version, "assign", {"uid": uid, "rid": [1, star["id"]]}, token)
    ok(client, version, "delete", {"id": star["id"]}, token)
    assert star_holders(server) == [uid]


def test_two_admins_demoting_each_other_at_once_leave_one(server: LiveServer, root: dict[str, Any]) -> None:
    for _ in range(3):
        other = make_admin(server)
        barrier = threading.Barrier(2)

        # B023 below: the threads run, and are joined, within this iteration.
        def demote(target: int, token: str) -> requests.Response:
            c = Client(server.url)
            barrier.wait(30)  # noqa: B023
            return call(c, "v2", "assign", {"uid": target, "rid": []}, token)
        results: list[requests.Response] = []
        threads = [threading.Thread(target=lambda t=t, k=k: results.append(demote(t, k)))  # noqa: B023
                   for t, k in ((other["uid"], root["v2"]), (root["uid"], other["v2"]))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        codes = sorted(response.json()["code"] for response in results)
        # The loser no longer holds `*` when its turn comes: refused by the permission check
        # (9914), by the rule that it cannot take away what it lacks (50015), or as LAST_ADMIN.
        assert len(codes) == 2 and codes[0] == 200 and codes[1] in (9914, 50015, 50023), \
            [response.text for response in results]
        assert len(star_holders(server)) == 1
        server.query("DELETE FROM user_role WHERE uid = ?", other["uid"])
        if not star_holders(server):  # root was the one demoted: root again, for the next round
            server.query("INSERT INTO user_role (uid, role_id, created_at) VALUES (?, 1, 0)", root["uid"])


@contextlib.contextmanager
def role_lock_held(server: LiveServer) -> Iterator[Any]:
    """A transaction of the test's own holding the lock every role change takes first; commits at exit."""
    if server.backend == "sqlite":
        conn = sqlite3.connect(server.db_path, isolation_level=None, timeout=10)
        conn.execute("BEGIN IMMEDIATE")
        execute = conn.execute
    elif server.backend == "mysql":
        import pymysql
        conn = pymysql.connect(**MYSQL_ADMIN, database=server.database_name, autocommit=False)
        cursor = conn.cursor()
        execute = lambda sql, params=(): cursor.execute(sql.replace("?", "%s"), params)  # noqa: E731
        execute("SELECT id FROM role WHERE builtin = 1 FOR UPDATE")
    else:
        import psycopg
        conn = psycopg.connect(f"host=127.0.0.1 port=5432 user=postgres dbname={server.database_name}")
        execute = lambda sql, params=(): conn.execute(sql.replace("?", "%s"), params)  # noqa: E731
        execute("SELECT id FROM role WHERE builtin = 1 FOR UPDATE")
    try:
        yield execute
        conn.commit() if server.backend != "sqlite" else conn.execute("COMMIT")
    finally:
        conn.close()


def wait_until_blocked(server: LiveServer) -> None:
    """Until the server's transaction waits for the test's lock (SQLite cannot say: a short pause)."""
    if server.backend == "sqlite":
        time.sleep(0.3)
        return
    sql = ("SELECT count(*) FROM information_schema.innodb_trx t JOIN information_schema.processlist p "
           "ON p.id = t.trx_mysql_thread_id WHERE t.trx_state = 'LOCK WAIT' AND p.db = database()"
           if server.backend == "mysql" else
           "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()")
    deadline = time.monotonic() + 10
    while not server.query(sql)[0][0]:
        assert time.monotonic() < deadline, "the demotion never waited for the lock"
        time.sleep(0.02)


def test_a_demotion_waits_for_the_change_in_flight(server: LiveServer, root: dict[str, Any]) -> None:
    """Root demotes itself while another transaction is demoting the only other administrator."""
    other = make_admin(server)
    answer: list[requests.Response] = []
    with role_lock_held(server) as execute:
        thread = threading.Thread(target=lambda: answer.append(
            call(Client(server.url), "v2", "assign", {"uid": root["uid"], "rid": []}, root["v2"])))
        thread.start()
        wait_until_blocked(server)
        execute("DELETE FROM user_role WHERE uid = ?", (other["uid"],))
    thread.join(30)
    refused(answer[0], "v2", LAST_ADMIN)
    assert star_holders(server) == [root["uid"]]


def test_role_revoke_command_keeps_the_last_admin(server: LiveServer, root: dict[str, Any]) -> None:
    done = server.command("role:revoke", "--user", "root", "--role", "admin")
    assert done.returncode == 1 and "last active administrator" in done.stderr, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr and "revoked" not in done.stdout
    assert star_holders(server) == [root["uid"]]
    other = make_admin(server)
    done = server.command("role:revoke", "--user", str(other["uid"]), "--role", "admin")
    assert done.returncode == 0 and "revoked" in done.stdout, (done.stdout, done.stderr)
    assert star_holders(server) == [root["uid"]]
