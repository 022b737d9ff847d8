"""The admin commands beside server.py (issue 4, SPEC §9), run as an operator runs them.

Each command works against the live server's database: what it changes, the server sees at once.
"""
from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt as pyjwt
import pytest

from app.command import COMMANDS
from app.common.clock import ManualClock, format_time
from tests.conftest import PASSWORD
from tests.inprocess import InProcessServer
from tests.scale.helpers import run_sql
from tests.support import ROOT, Client, LiveServer, expect_error, expect_ok, server_env

TOKEN_INVALID = (60010, 9908, 401)
PERMISSION_DENIED = (60018, 9914, 403)


def assert_clean_failure(done: subprocess.CompletedProcess, *words: str) -> None:
    """Non-zero exit, a one-line-ish `error: …` on stderr naming `words`, no traceback, nothing on stdout."""
    assert done.returncode != 0, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr and "Traceback" not in done.stdout, done.stderr
    assert "error" in done.stderr.lower(), done.stderr
    for word in words:
        assert word.lower() in done.stderr.lower(), (word, done.stderr)
    assert "created" not in done.stdout and "granted" not in done.stdout, done.stdout


def user_list(server: LiveServer) -> dict[str, list[str]]:
    """account → the rest of its row in `user:list` (id, phone, status, …, roles last)."""
    done = server.command("user:list")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines and "account" in lines[0] and "roles" in lines[0], done.stdout
    rows = {}
    for line in lines[1:]:
        fields = line.split()
        rows[fields[1]] = fields
    return rows


def user_count(server: LiveServer) -> int:
    return db_rows(server, "SELECT count(*) FROM users")[0][0]


def jwt_login(client: Client, account: str) -> tuple[str, str]:
    data = expect_ok(client.post("/v2/login/jwt/get", {"account": account, "pwd": PASSWORD}), "v2")
    return data["jwt"], data["refresh_jwt"]


def db_rows(where: LiveServer | Path, sql: str, *args: Any) -> list[tuple]:
    """Rows of `sql` (`?` parameters) on a server's database, whichever backend it runs on, or on an SQLite file."""
    if isinstance(where, Path):
        return run_sql(f"sqlite:///{where}", sql, *args)
    return run_sql(where.env.get("DATABASE_URL") or f"sqlite:///{where.db_path}", sql, *args)


def run_in(runtime: Path, *args: str, **settings: Any) -> subprocess.CompletedProcess:
    """A command against its own runtime folder (no server)."""
    runtime.mkdir(parents=True, exist_ok=True)
    return subprocess.run([sys.executable, str(ROOT / "server.py"), *args], cwd=ROOT,
                          env=server_env(runtime, **settings), capture_output=True, text=True, timeout=60)


# -- help, unknown, migrate ----------------------------------------------------------------------


@pytest.mark.parametrize("flag", ["help", "-h", "--help"])
def test_help_lists_every_command(tmp_runtime: Path, flag: str) -> None:
    done = run_in(tmp_runtime, flag)
    assert done.returncode == 0, done.stderr
    listed = {line.split()[0] for line in done.stdout.splitlines() if line.startswith("  ") and line.strip()}
    assert set(COMMANDS) <= listed, (set(COMMANDS) - listed, done.stdout)
    for name in ("user:create", "user:list", "role:grant", "role:revoke", "session:list", "session:end",
                 "purge", "migrate"):
        assert name in listed, done.stdout
    # each with a one-line description
    for line in done.stdout.splitlines():
        if line.startswith("  ") and line.split()[0] in COMMANDS:
            assert len(line.split()) > 1, line


def test_help_into_a_closed_pipe_prints_no_traceback(tmp_runtime: Path) -> None:
    """`python server.py help | head -1`: the reader leaves early; the command exits quietly."""
    done = subprocess.run(f"{sys.executable} {ROOT / 'server.py'} help | head -1", shell=True, cwd=ROOT,
                          env=server_env(tmp_runtime), capture_output=True, text=True, timeout=60)
    assert done.stdout.startswith("usage:") and len(done.stdout.splitlines()) == 1
    assert "Traceback" not in done.stderr and "BrokenPipe" not in done.stderr, done.stderr


def _start_log(runtime: Path, **settings: Any) -> str:
    """What create_app logs at start-up, at level info, for these settings."""
    env = server_env(runtime, LOG_LEVEL="info", **settings)
    done = subprocess.run([sys.executable, "-c", "import server; server.create_app()"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stderr


def test_start_log_says_generated_then_read_and_warns_without_signing(tmp_runtime: Path) -> None:
    first = _start_log(tmp_runtime, SIGN_SECRET="")
    assert re.search(r"SIGN_SECRET was generated into \S+sign_secret", first), first
    assert "is read from" not in first and "SIGN_REQUIRED" not in first
    second = _start_log(tmp_runtime, SIGN_SECRET="")
    assert re.search(r"SIGN_SECRET is read from \S+sign_secret", second), second
    unsigned = _start_log(tmp_runtime, SIGN_REQUIRED="0")
    assert re.search(r"WARNING .*SIGN_REQUIRED is off", unsigned), unsigned


@pytest.mark.parametrize("name", ["nope", "user:remove", "role"])
def test_unknown_command_exits_2(tmp_runtime: Path, name: str) -> None:
    done = run_in(tmp_runtime, name)
    assert done.returncode == 2, (done.returncode, done.stdout, done.stderr)
    assert name in done.stderr and "help" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr


def test_migrate_prints_the_schema_version(tmp_runtime: Path) -> None:
    first = run_in(tmp_runtime, "migrate")
    assert first.returncode == 0, first.stderr
    match = re.fullmatch(r"schema version (\d+)\n", first.stdout)
    assert match, first.stdout
    version = int(match.group(1))
    assert version >= 1
    newest = db_rows(tmp_runtime / "app.db", "SELECT max(version) FROM schema_version")[0][0]
    assert newest == version
    # idempotent
    again = run_in(tmp_runtime, "migrate")
    assert again.returncode == 0 and again.stdout == first.stdout, (again.stdout, again.stderr)
    tables = {row[0] for row in db_rows(tmp_runtime / "app.db", "SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"users", "role", "user_role", "auth_token", "auth_session", "schema_version"} <= tables
    # the built-in administrator role exists from the first start
    assert db_rows(tmp_runtime / "app.db", "SELECT id, name, permissions_json FROM role WHERE id = 1") == \
        [(1, "admin", '["*"]')]


def test_commands_follow_database_url(tmp_path: Path) -> None:
    """`DATABASE_URL` picks the database, not the runtime folder's default file."""
    other = tmp_path / "elsewhere.db"
    runtime = tmp_path / "runtime"
    url = f"sqlite:///{other}"
    done = run_in(runtime, "user:create", "--account", "far", "--phone", "13500000009", "--password", PASSWORD,
                  "--admin", DATABASE_URL=url)
    assert done.returncode == 0, done.stderr
    assert other.exists()
    listed = run_in(runtime, "user:list", DATABASE_URL=url)
    assert "far" in listed.stdout and "admin" in listed.stdout, listed.stdout
    default = run_in(runtime, "user:list")
    assert "far" not in default.stdout, default.stdout


# -- user:create and user:list --------------------------------------------------------------------


def test_user_create_and_list(server: LiveServer) -> None:
    done = server.command("user:create", "--account", "Alice", "--phone", "13800000001", "--password", PASSWORD)
    assert done.returncode == 0, done.stderr
    assert re.fullmatch(r"created user (\d+): account Alice, phone 13800000001\n", done.stdout), done.stdout
    assert "Traceback" not in done.stderr
    alice = int(done.stdout.split()[2].rstrip(":"))

    done = server.command("user:create", "--account", "Root", "--phone", "13800000002", "--password", PASSWORD,
                          "--admin")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("created user ") and "administrator" in done.stdout, done.stdout
    root = int(done.stdout.split()[2].rstrip(":"))

    rows = user_list(server)
    assert rows["Alice"][0] == str(alice) and rows["Alice"][2] == "13800000001" and rows["Alice"][-1] == "-"
    assert rows["Root"][0] == str(root) and rows["Root"][-1] == "admin"
    assert "active" in rows["Alice"]

    # both can log in; only the administrator may manage roles
    client = Client(server.url)
    alice_token, _ = jwt_login(client, "Alice")
    root_token, _ = jwt_login(client, "13800000002")
    assert pyjwt.decode(root_token, options={"verify_signature": False})["rid"] == ["1"]
    expect_ok(client.post("/v2/role/list", {}, token=root_token), "v2")
    expect_error(client.post("/v2/role/list", {}, token=alice_token), "v2", *PERMISSION_DENIED)

    # the password is stored with a slow hash, never in the clear
    stored = db_rows(server, "SELECT password_hash FROM users WHERE id = ?", alice)[0][0]
    assert PASSWORD not in stored and stored.startswith(("$argon2id$", "$2b$", "$2a$", "$2y$")), stored


def test_user_list_limit(server: LiveServer) -> None:
    server.create_user("Lim1", "13800000011", PASSWORD)
    server.create_user("Lim2", "13800000012", PASSWORD)
    done = server.command("user:list", "--limit", "1")
    assert done.returncode == 0, done.stderr
    assert len(done.stdout.splitlines()) == 2, done.stdout


def test_user_list_dates_in_app_timezone(server: LiveServer) -> None:
    uid = server.create_user("Zoned", "13800000015", PASSWORD)
    created_at = db_rows(server, "SELECT created_at FROM users WHERE id = ?", uid)[0][0]
    expected = format_time(created_at, "Asia/Shanghai")
    for machine_zone in ("UTC", "America/New_York"):
        done = subprocess.run([sys.executable, str(ROOT / "server.py"), "user:list"], cwd=ROOT, capture_output=True,
                              text=True, timeout=60, env={**server.env, "TZ": machine_zone,
                                                          "APP_TIMEZONE": "Asia/Shanghai"})
        assert done.returncode == 0, done.stderr
        row = next(line for line in done.stdout.splitlines() if " Zoned " in line)
        assert expected in row, (machine_zone, expected, row)


@pytest.fixture(scope="module")
def dupe(server: LiveServer) -> int:
    return server.create_user("Dupe", "13800000021", PASSWORD)


@pytest.mark.parametrize("account, phone, what", [
    ("Dupe", "13800000099", "account"),          # same account
    ("dUPE", "13800000098", "account"),          # accounts are unique in any case
    ("Other", "13800000021", "phone"),           # same phone
])
def test_user_create_duplicates(server: LiveServer, dupe: int, account: str, phone: str, what: str) -> None:
    before = user_count(server)
    done = server.command("user:create", "--account", account, "--phone", phone, "--password", PASSWORD)
    assert_clean_failure(done, what, "already")
    assert user_count(server) == before


@pytest.mark.parametrize("args, word", [
    (["--account", "Bad1", "--phone", "12345", "--password", PASSWORD], "phone"),
    (["--account", "Bad2", "--phone", "23800000001", "--password", PASSWORD], "phone"),
    (["--account", "Bad3", "--phone", "1380000000a", "--password", PASSWORD], "phone"),
    (["--account", "Bad4", "--phone", "13800000031", "--password", "abc"], "password"),
    (["--account", "Bad5", "--phone", "13800000032", "--password", "has space 1"], "password"),
    (["--account", "Bad6", "--phone", "13800000033", "--password", "x" * 33], "password"),
    (["--account", "Bad7", "--phone", "13800000034", "--password", "密码密码密码"], "password"),
    (["--account", "13800000035", "--phone", "13800000035", "--password", PASSWORD], "account"),
    (["--account", "bad name", "--phone", "13800000036", "--password", PASSWORD], "account"),
    (["--account", "", "--phone", "13800000037", "--password", PASSWORD], "account"),
    (["--account", "x" * 33, "--phone", "13800000038", "--password", PASSWORD], "account"),
])
def test_user_create_invalid_input(server: LiveServer, args: list[str], word: str) -> None:
    before = user_count(server)
    done = server.command("user:create", *args)
    assert_clean_failure(done, word)
    assert user_count(server) == before


@pytest.mark.parametrize("args", [
    ["--phone", "13800000041", "--password", PASSWORD],
    ["--account", "Miss", "--password", PASSWORD],
    ["--account", "Miss", "--phone", "13800000041"],
    ["--account", "Miss", "--phone", "13800000041", "--password", PASSWORD, "--bogus"],
])
def test_user_create_missing_or_unknown_options(server: LiveServer, args: list[str]) -> None:
    done = server.command("user:create", *args)
    assert done.returncode == 2, (done.returncode, done.stderr)
    assert "Traceback" not in done.stderr and "usage" in done.stderr, done.stderr
    assert db_rows(server, "SELECT count(*) FROM users WHERE account = 'Miss'")[0][0] == 0


# -- role:grant and role:revoke ---------------------------------------------------------------------


def test_role_grant_and_revoke(server: LiveServer) -> None:
    uid = server.create_user("Grantee", "13800000051", PASSWORD)
    client = Client(server.url)
    token, _ = jwt_login(client, "Grantee")
    expect_error(client.post("/v2/role/list", {}, token=token), "v2", *PERMISSION_DENIED)

    done = server.command("role:grant", "--user", "grantee", "--role", "admin")   # account in any case
    assert done.returncode == 0, done.stderr
    assert "granted" in done.stdout and "admin" in done.stdout and str(uid) in done.stdout, done.stdout
    assert user_list(server)["Grantee"][-1] == "admin"
    expect_ok(client.post("/v2/role/list", {}, token=token), "v2")

    again = server.command("role:grant", "--user", "13800000051", "--role", "admin")  # by phone
    assert again.returncode == 0 and "already" in again.stdout, (again.stdout, again.stderr)
    assert db_rows(server, "SELECT count(*) FROM user_role WHERE uid = ?", uid)[0][0] == 1

    server.create_user("Keeper", "13800000059", PASSWORD, admin=True)  # Grantee is not the last admin
    done = server.command("role:revoke", "--user", str(uid), "--role", "admin")     # by id
    assert done.returncode == 0, done.stderr
    assert "revoked" in done.stdout, done.stdout
    assert user_list(server)["Grantee"][-1] == "-"
    expect_error(client.post("/v2/role/list", {}, token=token), "v2", *PERMISSION_DENIED)
    expect_ok(client.post("/v2/test", {}, token=token), "v2")

    again = server.command("role:revoke", "--user", "Grantee", "--role", "admin")
    assert again.returncode == 0 and "did not have" in again.stdout, (again.stdout, again.stderr)


@pytest.fixture(scope="module")
def grantee2(server: LiveServer) -> int:
    return server.create_user("Grantee2", "13800000052", PASSWORD)


@pytest.mark.parametrize("command", ["role:grant", "role:revoke"])
@pytest.mark.parametrize("user, role, word", [
    ("nobody", "admin", "nobody"),
    ("13999999999", "admin", "13999999999"),
    ("999999", "admin", "999999"),
    ("Grantee2", "nosuchrole", "nosuchrole"),
    ("Grantee2", "", "role"),
])
def test_role_grant_revoke_unknown(server: LiveServer, grantee2: int, command: str, user: str, role: str,
                                   word: str) -> None:
    done = server.command(command, "--user", user, "--role", role)
    assert_clean_failure(done, word)
    assert "revoked" not in done.stdout


@pytest.mark.parametrize("command", ["role:grant", "role:revoke"])
def test_role_grant_revoke_missing_options(server: LiveServer, command: str) -> None:
    for args in (["--user", "x"], ["--role", "admin"], []):
        done = server.command(command, *args)
        assert done.returncode == 2 and "usage" in done.stderr and "Traceback" not in done.stderr, done.stderr


# -- session:list and session:end -------------------------------------------------------------------


def live_sessions(server: LiveServer, user: str, *extra: str) -> tuple[int, list[str]]:
    done = server.command("session:list", "--user", user, *extra)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    match = re.match(r"(\d+) session\(s\) of user ", lines[0])
    assert match, done.stdout
    return int(match.group(1)), lines[1:]


def test_session_list_and_end(server: LiveServer) -> None:
    server.create_user("Sessy", "13800000061", PASSWORD)
    assert live_sessions(server, "Sessy") == (0, [])
    client = Client(server.url)
    logins = [jwt_login(client, "Sessy") for _ in range(2)]
    md5 = expect_ok(client.post("/v1/login", {"username": "Sessy", "password": PASSWORD}), "v1")["token"]

    count, lines = live_sessions(server, "Sessy")
    assert count == 3 and len(lines) == 3, lines
    sids = {pyjwt.decode(access, options={"verify_signature": False})["sid"] for access, _ in logins}
    for sid in sids:
        assert any(sid in line and "live" in line for line in lines), (sid, lines)

    done = server.command("session:end", "--user", "Sessy")
    assert done.returncode == 0, done.stderr
    assert re.match(r"ended 3 session\(s\) of user \d+ \(Sessy\); 5 token\(s\) revoked", done.stdout), done.stdout

    for access, refresh in logins:
        expect_error(client.post("/v2/test", {}, token=access), "v2", *TOKEN_INVALID)
        expect_error(client.post("/v1/test", {}, token=access), "v1", *TOKEN_INVALID)
        expect_error(client.post("/v2/login/jwt/refresh", {"jwt": refresh}), "v2", *TOKEN_INVALID)
        expect_error(client.post("/v2/login/jwt/status", {"jwt": access}), "v2", *TOKEN_INVALID)
    expect_error(client.post("/v1/test", {}, token=md5), "v1", *TOKEN_INVALID)

    assert live_sessions(server, "Sessy") == (0, [])
    count, lines = live_sessions(server, "Sessy", "--all")
    assert count == 3 and all("ended" in line for line in lines), lines

    # ending again ends nothing, and says so
    done = server.command("session:end", "--user", "13800000061")
    assert done.returncode == 0 and done.stdout.startswith("ended 0 session(s)"), (done.stdout, done.stderr)

    # logging in again works
    fresh, _ = jwt_login(client, "Sessy")
    expect_ok(client.post("/v2/test", {}, token=fresh), "v2")


def test_session_end_one_sid(server: LiveServer) -> None:
    server.create_user("Solo", "13800000062", PASSWORD)
    client = Client(server.url)
    (keep, _), (end, end_refresh) = jwt_login(client, "Solo"), jwt_login(client, "Solo")
    sid = pyjwt.decode(end, options={"verify_signature": False})["sid"]

    done = server.command("session:end", "--user", "Solo", "--sid", sid)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("ended 1 session(s)"), done.stdout
    expect_error(client.post("/v2/test", {}, token=end), "v2", *TOKEN_INVALID)
    expect_error(client.post("/v2/login/jwt/refresh", {"jwt": end_refresh}), "v2", *TOKEN_INVALID)
    expect_ok(client.post("/v2/test", {}, token=keep), "v2")
    assert live_sessions(server, "Solo")[0] == 1

    # the same sid again, an unknown sid, or another user's sid: non-zero with a message
    for other_sid in (sid, "0" * 32, "nonsense"):
        done = server.command("session:end", "--user", "Solo", "--sid", other_sid)
        assert_clean_failure(done, other_sid)
    keep_sid = pyjwt.decode(keep, options={"verify_signature": False})["sid"]
    server.create_user("Thief", "13800000063", PASSWORD)
    assert_clean_failure(server.command("session:end", "--user", "Thief", "--sid", keep_sid), keep_sid)
    expect_ok(client.post("/v2/test", {}, token=keep), "v2")


@pytest.mark.parametrize("command", ["session:list", "session:end"])
def test_session_commands_unknown_user(server: LiveServer, command: str) -> None:
    assert_clean_failure(server.command(command, "--user", "ghost"), "ghost")
    done = server.command(command)
    assert done.returncode == 2 and "usage" in done.stderr and "Traceback" not in done.stderr


# -- purge ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def short_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcessServer]:
    """md5 tokens live one second, in-process on a clock the tests move (purge reads it too)."""
    app = InProcessServer(tmp_path_factory.mktemp("runtime_short"), clock=ManualClock(), TOKEN_TTL=1)
    yield app
    app.stop()


def test_purge_removes_expired_rows_only(short_server: InProcessServer) -> None:
    server = short_server
    uid = server.create_user("Purgy", "13800000071", PASSWORD)
    client = Client(server.url)
    expired = [expect_ok(client.post("/v1/login", {"username": "Purgy", "password": PASSWORD}), "v1")["token"]
               for _ in range(2)]
    access, refresh = jwt_login(client, "Purgy")
    live_sid = pyjwt.decode(access, options={"verify_signature": False})["sid"]

    def counts() -> tuple[int, int, int]:
        return (server.query("SELECT count(*) FROM auth_token WHERE kind = 'md5'")[0][0],
                server.query("SELECT count(*) FROM auth_token WHERE kind != 'md5'")[0][0],
                server.query("SELECT count(*) FROM auth_session")[0][0])

    assert counts() == (2, 2, 3)
    server.clock.advance(2.2)
    for token in expired:
        expect_error(client.post("/v1/test", {}, token=token), "v1", 60011, 9908, 401)

    # within the default grace (a day), expired rows stay
    kept = server.command("purge")
    assert kept.returncode == 0, kept.stderr
    assert kept.stdout.startswith("purged 0 tokens, 0 sessions"), kept.stdout
    assert counts() == (2, 2, 3)

    done = server.command("purge", "--grace", "0")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("purged 2 tokens, 2 sessions"), done.stdout
    assert counts() == (0, 2, 1)
    assert server.query("SELECT id, uid FROM auth_session") == [(live_sid, uid)]

    # the live tokens are untouched and keep working
    expect_ok(client.post("/v2/test", {}, token=access), "v2")
    new_access = expect_ok(client.post("/v2/login/jwt/refresh", {"jwt": refresh}), "v2")
    expect_ok(client.post("/v2/test", {}, token=new_access), "v2")
    # the purged tokens are still refused (now as unknown)
    for token in expired:
        expect_error(client.post("/v1/test", {}, token=token), "v1", *TOKEN_INVALID)

    again = server.command("purge", "--grace", "0")
    assert again.returncode == 0 and again.stdout.startswith("purged 0 tokens, 0 sessions"), again.stdout


@pytest.mark.parametrize("grace", ["abc", "1.5"])
def test_purge_bad_grace(short_server: InProcessServer, grace: str) -> None:
    done = short_server.command("purge", "--grace", grace)
    assert done.returncode == 2 and "Traceback" not in done.stderr and "grace" in done.stderr, done.stderr


def test_the_first_python_server_py_says_its_secrets_were_generated(tmp_path: Path) -> None:
    """Issue 18 item 9 through the real entry point: the serving worker reads what `serve` just wrote."""
    from tests.support import LiveServer

    live = LiveServer(tmp_path, RUNTIME_DIR=str(tmp_path / "fresh"), SIGN_SECRET="", JWT_SECRET="", LOG_LEVEL="info")
    try:
        log = live.log()
        assert re.search(r"SIGN_SECRET was generated into \S+sign_secret", log), log
        assert "SIGN_SECRET is read from" not in log
    finally:
        live.stop()
