"""Files under runtime/ are the owner's alone (SPEC §10): 0600, folders 0700.

A real server creates its runtime folder from nothing (database, cache, generated secrets, and the
files SQLite and LMDB make on their own), an admin command writes to it, and then every file and
folder in it is stat'ed.
"""
from __future__ import annotations

import stat
from pathlib import Path

from tests.support import Client, LiveServer, expect_error, expect_ok


def test_everything_under_runtime_is_owner_only(tmp_path: Path) -> None:
    runtime = tmp_path / "runtime"  # the server makes it; the harness keeps its log beside it
    server = LiveServer(tmp_path, RUNTIME_DIR=str(runtime), DATABASE_URL="", REDIS_URL="", SIGN_SECRET="",
                        JWT_SECRET="")
    try:
        server.create_user("Owner", "13900000077", "right_pass_1")
        client = Client(server.url, secret=(runtime / "secrets" / "sign_secret").read_text().strip())
        expect_ok(client.post("/v2/login/jwt/get", {"account": "Owner", "pwd": "right_pass_1"}), "v2")
        expect_error(client.post("/v2/login/jwt/get", {"account": "Owner", "pwd": "wrong_pass_1"}),
                     "v2", 60001, 50006, 401)
        made = {path.relative_to(runtime).as_posix() for path in runtime.rglob("*")}
        # The files SQLite and LMDB create by themselves are among them while the server runs.
        assert {"app.db", "app.db-wal", "app.db-shm", "cache.lmdb", "cache.lmdb-lock", "cache.lmdb-boot",
                "secrets", "secrets/sign_secret", "secrets/jwt_secret"} <= made, made
        modes = {path.relative_to(runtime).as_posix(): stat.S_IMODE(path.stat().st_mode)
                 for path in [runtime, *runtime.rglob("*")]}
        wrong = {name: oct(mode) for name, mode in modes.items()
                 if mode != (0o700 if (runtime / name).is_dir() else 0o600)}
        assert wrong == {}, wrong
    finally:
        server.stop()


def test_a_runtime_folder_open_to_others_is_closed_at_start(tmp_path: Path) -> None:
    """A folder an older version (or an operator) left at 0755 is closed, so its files are unreachable."""
    import subprocess
    import sys

    from tests.support import ROOT, server_env

    runtime = tmp_path / "runtime"
    runtime.mkdir(mode=0o755)
    runtime.chmod(0o755)
    done = subprocess.run([sys.executable, str(ROOT / "server.py"), "migrate"], cwd=ROOT,
                          env=server_env(runtime), capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert stat.S_IMODE(runtime.stat().st_mode) == 0o700
