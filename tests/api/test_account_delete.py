"""account/delete and the admin commands user:password and user:delete (SPEC §11)."""
from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from app.service.events import mask_phone
from tests.api.lifecycle import (
    FAST,
    LOGIN_FAILED,
    OLD_PASSWORD_WRONG,
    SMS_CODE_WRONG,
    TOKEN_INVALID,
    code_for,
    jwt_login,
    new_phone,
    password_user,
    sms_login,
)
from tests.conftest import Server, serving
from tests.support import ROOT, Client, expect_error, expect_ok, phone_index


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with serving(tmp_path_factory, "delete", **FAST) as live:
        yield live


@pytest.fixture
def me(server: Server, client: Client) -> dict[str, Any]:
    return password_user(server, client)


def test_delete_ends_every_session_and_frees_account_and_phone(server: Server, me: dict[str, Any],
                                                               client: Client) -> None:
    current = jwt_login(client, me["account"], me["password"])
    other = expect_ok(client.post("/login", {"username": me["account"], "password": me["password"]}), "v2")
    assert expect_ok(client.post("/v1/account/delete", {"password": me["password"]}, token=current["jwt"]),
                     "v1") == {}
    for token in (current["jwt"], other["token"]):
        expect_error(client.post("/v2/test", token=token), "v2", *TOKEN_INVALID)
    expect_error(client.post("/login/jwt/refresh", {"jwt": current["refresh_jwt"]}), "v2", *TOKEN_INVALID)
    expect_error(client.post("/login/jwt/get", {"account": me["account"], "pwd": me["password"]}), "v2",
                 *LOGIN_FAILED)
    # The phone and the account are free at once.
    again = sms_login(client, me["phone"])
    assert again["registered"] is True and again["uid"] != me["uid"]  # a uid is never handed out twice
    assert server.create_user(me["account"], new_phone("1350"), me["password"]) != me["uid"]
    # The audit log keeps the uid and the event, not the phone.
    assert server.query("SELECT COUNT(*) FROM audit_log WHERE event = 'account' AND outcome = 'deleted' "
                        "AND uid = ?", me["uid"]) == [(1,)]
    assert server.query("SELECT event, account FROM audit_log WHERE uid = ? AND account IS NOT NULL",
                        me["uid"]) == []
    assert server.query("SELECT COUNT(*) FROM audit_log WHERE account = ? AND created_at < "
                        "(SELECT MAX(created_at) FROM audit_log WHERE event = 'account')",
                        mask_phone(me["phone"])) == [(0,)]


def test_a_wrong_password_deletes_nothing(server: Server, me: dict[str, Any], client: Client) -> None:
    pair = jwt_login(client, me["account"], me["password"])
    expect_error(client.post("/account/delete", {"password": "wrong_pass"}, token=pair["jwt"]), "v2",
                 *OLD_PASSWORD_WRONG)
    expect_error(client.post("/account/delete", {}, token=pair["jwt"]), "v2", 60001, 9906, 400)
    assert expect_ok(client.post("/v2/test", token=pair["jwt"]), "v2")["uid"] == me["uid"]
    assert server.query("SELECT phone FROM users WHERE id = ?", me["uid"]) == [(phone_index(me["phone"]),)]


def test_a_user_without_a_password_deletes_with_a_login_code(server: Server, client: Client) -> None:
    phone = new_phone()
    pair = sms_login(client, phone)
    expect_error(client.post("/account/delete", {}, token=pair["jwt"]), "v2", 60002, 9906, 400)
    reset_code = code_for(client, phone, "reset")  # a code of another scene
    expect_error(client.post("/account/delete", {"code": reset_code}, token=pair["jwt"]), "v2", *SMS_CODE_WRONG)
    assert server.query("SELECT COUNT(*) FROM users WHERE phone = ?", phone_index(phone)) == [(1,)]
    code = code_for(client, phone, "login")
    expect_ok(client.post("/account/delete", {"code": code}, token=pair["jwt"]), "v2")
    expect_error(client.post("/v2/test", token=pair["jwt"]), "v2", *TOKEN_INVALID)
    assert server.query("SELECT COUNT(*) FROM users WHERE phone = ?", phone_index(phone)) == [(0,)]


def test_user_password_command_sets_it_and_ends_sessions(server: Server, me: dict[str, Any],
                                                         client: Client) -> None:
    pair = jwt_login(client, me["account"], me["password"])
    done = server.command("user:password", "--user", me["account"], "--password", "cli_pass_1")
    assert done.returncode == 0, done.stderr
    assert "ended 1 session(s)" in done.stdout
    expect_error(client.post("/v2/test", token=pair["jwt"]), "v2", *TOKEN_INVALID)
    jwt_login(client, me["account"], "cli_pass_1")
    # From standard input (no terminal), as a script would give it; a bad password is refused.
    piped = subprocess.run([sys.executable, str(ROOT / "server.py"), "user:password", "--user", me["phone"]],
                           input="cli_pass_2\n", cwd=ROOT, env=server.env, capture_output=True, text=True, timeout=60)
    assert piped.returncode == 0, piped.stderr
    jwt_login(client, me["account"], "cli_pass_2")
    bad = server.command("user:password", "--user", me["account"], "--password", "no")
    assert bad.returncode == 2 and "password" in bad.stderr
    assert server.command("user:password", "--user", "nobody", "--password", "cli_pass_3").returncode == 1


def test_user_delete_command(server: Server, me: dict[str, Any], client: Client) -> None:
    pair = jwt_login(client, me["account"], me["password"])
    done = server.command("user:delete", "--user", str(me["uid"]))
    assert done.returncode == 0, done.stderr
    expect_error(client.post("/v2/test", token=pair["jwt"]), "v2", *TOKEN_INVALID)
    assert server.query("SELECT account, phone, password_hash FROM users WHERE id = ?", me["uid"]) == [
        (f"deleted:{me['uid']}", phone_index(f"deleted:{me['uid']}"), "")]
    assert sms_login(client, me["phone"])["registered"] is True


def test_the_last_administrator_cannot_delete_their_account(server: Server, client: Client) -> None:
    """SPEC §10: the last active `*` holder keeps it, also through account/delete and user:delete."""
    phone = new_phone("1360")
    uid = server.create_user("lastadmin", phone, "admin_pass_1", admin=True)
    pair = jwt_login(client, "lastadmin", "admin_pass_1")
    expect_error(client.post("/v1/account/delete", {"password": "admin_pass_1"}, token=pair["jwt"]), "v1",
                 60037, 50023, 403)
    expect_error(client.post("/v2/account/delete", {"password": "admin_pass_1"}, token=pair["jwt"]), "v2",
                 60037, 50023, 403)
    refused = server.command("user:delete", "--user", "lastadmin")
    assert refused.returncode == 1 and "administrator" in refused.stderr
    # nothing changed: the admin still logs in and still holds the role
    assert expect_ok(client.post("/v2/test", token=pair["jwt"]), "v2")["uid"] == uid
    assert server.query("SELECT COUNT(*) FROM user_role WHERE uid = ?", uid) == [(1,)]
    # with a second administrator, the first may go
    server.create_user("nextadmin", new_phone("1360"), "admin_pass_1", admin=True)
    assert expect_ok(client.post("/v2/account/delete", {"password": "admin_pass_1"}, token=pair["jwt"]), "v2") == []
