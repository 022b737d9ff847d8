"""The peer bench/run.py --peer compares with: fastapi-users in a throwaway virtualenv outside the repository.

The virtualenv (PEER_VENV, default /tmp/peer-venv) is made on first use; the app it serves is
bench/peer_app.py, copied into the run's /tmp folder and served from there, so that the peer's
uvicorn imports nothing of this repository.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from http_calls import post
from processes import ROOT, Server

if TYPE_CHECKING:
    from runner import Bench

PEER_VENV = Path(os.environ.get("PEER_VENV", "/tmp/peer-venv"))
PEER_PACKAGES = ["fastapi", "fastapi-users[sqlalchemy]", "aiosqlite", "uvicorn[standard]"]
PEER_EMAIL, PEER_PASSWORD = "bench@example.com", "bench-password-0123456789"
PEER_APP = ROOT / "bench" / "peer_app.py"


def peer_python() -> Path:
    return PEER_VENV / "bin" / "python"


def peer_prepare(bench: Bench) -> None:
    """The throwaway virtualenv (made once, outside the repository), the app file and its database."""
    python = peer_python()
    probe = [str(python), "-c", "import fastapi_users, aiosqlite, uvloop, httptools, uvicorn"]
    if not python.exists() or subprocess.run(probe, capture_output=True).returncode != 0:
        print(f"peer: creating {PEER_VENV} and installing {' '.join(PEER_PACKAGES)} ...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(PEER_VENV)], check=True)
        pip = subprocess.run([str(python), "-m", "pip", "install", "-q", *PEER_PACKAGES], capture_output=True,
                             text=True)
        if pip.returncode != 0:
            raise RuntimeError(f"pip install into {PEER_VENV} failed:\n{(pip.stdout + pip.stderr)[-3000:]}")
    folder = bench.work / "peer"
    folder.mkdir(exist_ok=True)
    shutil.copy(PEER_APP, folder / "peer_app.py")
    env = dict(os.environ, PEER_DB=str(folder / "peer.db"))
    subprocess.run([str(python), str(folder / "peer_app.py"), "--init"], cwd=folder, env=env, check=True)
    versions = subprocess.run([str(python), "-c", "import importlib.metadata as m; print(', '.join(f'{p} ' + "
                               "m.version(p) for p in ('fastapi', 'fastapi-users', 'SQLAlchemy', 'aiosqlite', "
                               "'uvicorn', 'pwdlib')))"], capture_output=True, text=True).stdout.strip()
    bench.setup_notes.append(f"peer: {PEER_VENV} ({versions}); app {folder / 'peer_app.py'}")
    bench.peer_registered = False  # type: ignore[attr-defined]


def peer_server(bench: Bench, workers: int, log: Path) -> Server:
    folder = bench.work / "peer"
    env = dict(os.environ, PEER_DB=str(folder / "peer.db"))
    server = Server(f"peer w{workers}", [str(peer_python()), "-m", "uvicorn", "--app-dir", str(folder), "peer_app:app",
                                         "--host", "127.0.0.1", "--loop", "uvloop", "--http", "httptools",
                                         "--no-access-log", "--log-level", "warning", "--workers", str(workers)],
                    env, log, cwd=folder)
    server.bench = bench  # type: ignore[attr-defined]
    return server


def peer_token(server: Server) -> str:
    bench: Bench = server.bench  # type: ignore[attr-defined]
    if not getattr(bench, "peer_registered", False):
        status, body = post(server.url + "/auth/register", {"email": PEER_EMAIL, "password": PEER_PASSWORD},
                            sign=False)
        if status != 201:
            raise RuntimeError(f"peer register: HTTP {status} {body}")
        bench.peer_registered = True  # type: ignore[attr-defined]
    status, body = post(server.url + "/auth/jwt/login", {"username": PEER_EMAIL, "password": PEER_PASSWORD},
                        sign=False, form=True)
    if status != 200:
        raise RuntimeError(f"peer login: HTTP {status} {body}")
    return body["access_token"]
