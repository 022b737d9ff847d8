"""Test helpers: a live server on a free port, a signing client, and the admin command."""
from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent
SIGN_SECRET = "test-sign-secret-0123456789abcdef"
JWT_SECRET = "test-jwt-secret-0123456789abcdef0123456789abcdef"
sys.path.insert(0, str(ROOT))

from app.common.sign import make_sign  # noqa: E402


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_env(runtime: Path, **settings: Any) -> dict[str, str]:
    """The environment of a server under test: its own runtime folder and known secrets."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("APP_", "SIGN_", "JWT_", "DATABASE_", "REDIS_"))}
    env.update(RUNTIME_DIR=str(runtime), SIGN_SECRET=SIGN_SECRET, JWT_SECRET=JWT_SECRET, LOG_LEVEL="warning")
    env.update({k: str(v) for k, v in settings.items()})
    return env


class LiveServer:
    """`python server.py` in a subprocess, as a user runs it."""

    def __init__(self, runtime: Path, workers: int = 1, **settings: Any):
        self.runtime = runtime
        self.env = server_env(runtime, **settings)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = runtime / f"server-{self.port}.log"
        runtime.mkdir(parents=True, exist_ok=True)
        self._log = open(self.log_path, "wb")
        self.process = subprocess.Popen(
            [sys.executable, str(ROOT / "server.py"), "--port", str(self.port), "--workers", str(workers)],
            cwd=ROOT, env=self.env, stdout=self._log, stderr=subprocess.STDOUT)
        self._wait_ready()

    def _wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}:\n{self.log()}")
            try:
                requests.get(self.url + "/", timeout=1)
                return
            except requests.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError(f"server did not start in {timeout}s:\n{self.log()}")

    def log(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")

    def command(self, *args: str) -> subprocess.CompletedProcess:
        """An admin command (`python server.py NAME …`) against this server's database."""
        return subprocess.run([sys.executable, str(ROOT / "server.py"), *args], cwd=ROOT, env=self.env,
                              capture_output=True, text=True, timeout=60)

    def create_user(self, account: str, phone: str, password: str) -> int:
        done = self.command("user:create", "--account", account, "--phone", phone, "--password", password)
        assert done.returncode == 0, done.stderr
        return int(done.stdout.split()[2].rstrip(":"))

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()


class Client:
    """Signs every request as SPEC §4 says, with a fresh timestamp and nonce."""

    def __init__(self, base_url: str, secret: str = SIGN_SECRET):
        self.base_url = base_url
        self.secret = secret
        self.http = requests.Session()

    def signed(self, params: dict[str, Any] | None = None, nonce: bool = True) -> tuple[dict[str, Any], str]:
        params = dict(params or {})
        params.setdefault("timestamp", int(time.time()))
        if nonce:
            params.setdefault("nonce", secrets.token_hex(8))
        return params, make_sign(params, self.secret)

    def post(self, path: str, params: dict[str, Any] | None = None, *, token: str | None = None,
             headers: dict[str, str] | None = None, sign: bool = True, nonce: bool = True) -> requests.Response:
        body = dict(params or {})
        all_headers = dict(headers or {})
        if sign:
            body, signature = self.signed(body, nonce)
            all_headers.setdefault("sign", signature)
        if token:
            all_headers["Authorization"] = f"Bearer {token}"
        return self.http.post(self.base_url + path, json=body, headers=all_headers, timeout=30)

    def raw(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        return self.http.request(method, self.base_url + path, timeout=30, **kwargs)
