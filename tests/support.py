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
# Known, like the other secrets: instances sharing a database share it, and tests find rows by phone_index().
DATA_KEY = "test-data-key-0123456789abcdef0123456789abcdef"
# argon2id at its cheapest for test servers (0.7 ms a hash instead of 26): what a test checks of a login
# does not depend on the cost, and the suite hashes thousands of times. A test about the cost itself, or
# that needs requests to overlap as in production, sets PASSWORD_TIME_COST/PASSWORD_MEMORY_COST itself.
FAST_HASH = {"PASSWORD_TIME_COST": "1", "PASSWORD_MEMORY_COST": "1024"}


def phone_index(phone: str, data_key: str = DATA_KEY) -> str:
    """What the `phone` columns hold for `phone` (SPEC §13.3): its keyed blind index."""
    from app.common.data_crypto import DataKeys

    return DataKeys(data_key).blind_index(phone)
sys.path.insert(0, str(ROOT))

from app.common.clock import SYSTEM_CLOCK, Clock  # noqa: E402
from app.common.sign import make_sign  # noqa: E402


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# The storage the live servers run on: TEST_BACKEND=sqlite (default), mysql or postgres, and
# TEST_REDIS=1 for Redis. .ci/run runs the suite once per combination.
TEST_BACKEND = os.environ.get("TEST_BACKEND", "sqlite")
TEST_REDIS = os.environ.get("TEST_REDIS", "") == "1"
MYSQL_ADMIN = {"host": "127.0.0.1", "port": 3306, "user": "root", "password": ""}
POSTGRES_ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=test"
REDIS_URL = "redis://127.0.0.1:6379/0"


def create_database(backend: str) -> tuple[str, str]:
    """A new empty database on the local server: (its name, its DATABASE_URL)."""
    name = "t_" + secrets.token_hex(6)
    if backend == "mysql":
        import pymysql
        with pymysql.connect(**MYSQL_ADMIN) as conn, conn.cursor() as cur:
            cur.execute(f"CREATE DATABASE {name} CHARACTER SET utf8mb4")
        return name, f"mysql://root@127.0.0.1:3306/{name}"
    if backend == "postgres":
        import psycopg
        with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return name, f"postgresql://postgres@127.0.0.1:5432/{name}"
    raise ValueError(f"unknown TEST_BACKEND {backend!r}")


def drop_database(backend: str, name: str) -> None:
    if backend == "mysql":
        import pymysql
        with pymysql.connect(**MYSQL_ADMIN) as conn, conn.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS {name}")
    elif backend == "postgres":
        import psycopg
        with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


# Settings a test server never takes from the tester's environment (server_env drops them).
SERVER_SETTINGS = ("APP_", "SIGN_", "JWT_", "DATABASE_", "REDIS_", "DATA_KEY")


def server_env(runtime: Path, **settings: Any) -> dict[str, str]:
    """The environment of a server under test: its own runtime folder and known secrets."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(SERVER_SETTINGS)}
    env.update(RUNTIME_DIR=str(runtime), SIGN_SECRET=SIGN_SECRET, JWT_SECRET=JWT_SECRET, DATA_KEY=DATA_KEY,
               LOG_LEVEL="warning", **FAST_HASH)
    env.update({k: str(v) for k, v in settings.items()})
    return env


class ServerFace:
    """What LiveServer and tests.inprocess.InProcessServer share: a runtime folder, a database to
    query, and users made with the admin command (each class runs `command` its own way)."""

    runtime: Path
    backend: str
    database_name: str | None
    _owns_database: bool

    def pick_storage(self, settings: dict[str, Any]) -> None:
        """This leg's storage, filled into `settings` where the test chose none: a fresh database on
        TEST_BACKEND's server (dropped by stop()), and a Redis key prefix of its own with TEST_REDIS=1.
        A MariaDB or PostgreSQL database the test made itself is queried, and left to the test."""
        self.backend, self.database_name, self._owns_database = "sqlite", None, False
        url = str(settings.get("DATABASE_URL", ""))
        if not url and TEST_BACKEND != "sqlite":
            self.backend = TEST_BACKEND
            self.database_name, settings["DATABASE_URL"] = create_database(TEST_BACKEND)
            self._owns_database = True
        elif url.startswith(("mysql://", "postgresql://")):
            self.backend = "mysql" if url.startswith("mysql://") else "postgres"
            self.database_name = url.rsplit("/", 1)[1]
        if "REDIS_URL" not in settings and TEST_REDIS:
            settings.update(REDIS_URL=REDIS_URL, REDIS_PREFIX=f"test:{secrets.token_hex(6)}:")

    def drop_own_database(self) -> None:
        """Drop the database pick_storage() made, once."""
        if self.database_name and self._owns_database:
            drop_database(self.backend, self.database_name)
            self._owns_database = False

    def command(self, *args: str) -> subprocess.CompletedProcess:
        raise NotImplementedError

    @property
    def db_path(self) -> Path:
        """The default SQLite database of this server (DATABASE_URL unset)."""
        return self.runtime / "app.db"

    def setup_command(self, *args: str) -> subprocess.CompletedProcess:
        """An admin command run as a test's setup, not as its subject: through its entry function in this
        process (a `python server.py` process costs half a second of CPU; the suite makes hundreds of users)."""
        return self.command(*args)

    def create_user(self, account: str, phone: str, password: str, admin: bool = False) -> int:
        """A user made with `user:create` (with `--admin`: the built-in administrator role); its id."""
        done = self.setup_command("user:create", "--account", account, "--phone", phone, "--password", password,
                            *(["--admin"] if admin else []))
        assert done.returncode == 0, done.stderr
        return int(done.stdout.split()[2].rstrip(":"))

    def query(self, sql: str, *params: Any) -> list[tuple]:
        """Run SQL on this server's database, whichever it is (write `?` for parameters)."""
        return query_database(self.backend, self.runtime / "app.db", self.database_name, sql, *params)


class LiveServer(ServerFace):
    """`python server.py` in a subprocess, as a user runs it."""

    def __init__(self, runtime: Path, workers: int = 1, **settings: Any):
        self.runtime = runtime
        self.pick_storage(settings)
        self.env = server_env(runtime, **settings)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = runtime / f"server-{self.port}.log"
        runtime.mkdir(parents=True, exist_ok=True)
        self._log = open(self.log_path, "wb")
        self.process = subprocess.Popen(
            [sys.executable, str(ROOT / "server.py"), "--port", str(self.port), "--workers", str(workers)],
            cwd=ROOT, env=self.env, stdout=self._log, stderr=subprocess.STDOUT)
        try:
            self._wait_ready()
        except BaseException:
            self.stop()  # a server that did not come up is not left running behind the failed test
            raise

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
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text(errors="replace")

    def setup_command(self, *args: str) -> subprocess.CompletedProcess:
        return command_in_process(self.env, args, SYSTEM_CLOCK)

    def command(self, *args: str) -> subprocess.CompletedProcess:
        """An admin command (`python server.py NAME …`) against this server's database."""
        return subprocess.run([sys.executable, str(ROOT / "server.py"), *args], cwd=ROOT, env=self.env,
                              capture_output=True, text=True, timeout=60)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()
        self.drop_own_database()



def command_in_process(settings: dict[str, str], args: tuple[str, ...] | list[str],
                       clock: Clock) -> subprocess.CompletedProcess:
    """`python server.py ARGS` through its entry function (app.command.run_command) in this process, with
    `settings` as its environment for the while; its exit code and output as a finished process's."""
    import contextlib
    import io

    from app.command import run_command

    out, err = io.StringIO(), io.StringIO()
    unset = [name for name in os.environ if name.startswith(SERVER_SETTINGS) and name not in settings]
    saved = {name: os.environ.get(name) for name in [*settings, *unset]}
    for name in unset:
        del os.environ[name]
    os.environ.update(settings)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = run_command(list(args), clock=clock)
            except SystemExit as exit_:  # argparse refusing the arguments
                code = exit_.code if isinstance(exit_.code, int) else 2
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    return subprocess.CompletedProcess(["server.py", *args], code, out.getvalue(), err.getvalue())


def query_database(backend: str, sqlite_path: Path, database_name: str | None, sql: str, *params: Any) -> list[tuple]:
    """Run SQL on a server's database: its SQLite file, or its database on the local MariaDB or PostgreSQL."""
    if backend == "sqlite":
        import sqlite3
        with sqlite3.connect(sqlite_path, timeout=10) as conn:
            return conn.execute(sql, params).fetchall()
    sql = sql.replace("?", "%s")
    if backend == "mysql":
        import pymysql
        with pymysql.connect(**MYSQL_ADMIN, database=database_name, autocommit=True) as conn:
            with conn.cursor() as cur:
                cur.execute(sql, params)
                return list(cur.fetchall())
    import psycopg
    with psycopg.connect(f"host=127.0.0.1 port=5432 user=postgres dbname={database_name}", autocommit=True) as conn:
        cur = conn.execute(sql, params)
        return list(cur.fetchall()) if cur.description else []


class Client:
    """Signs every request as SPEC §4 says, with a fresh timestamp and nonce."""

    def __init__(self, base_url: str, secret: str = SIGN_SECRET):
        from tests.inprocess import TRANSPORTS

        self.base_url = base_url
        self.secret = secret
        # An InProcessServer's url is served by its app in this process, any other over HTTP.
        transport = TRANSPORTS.get(base_url)
        self.http: Any = transport or requests.Session()
        # An in-process app may run on a test's ManualClock: its requests are signed at the app's time.
        self.clock = transport.clock if transport else SYSTEM_CLOCK

    def signed(self, params: dict[str, Any] | None = None, nonce: bool = True) -> tuple[dict[str, Any], str]:
        params = dict(params or {})
        params.setdefault("timestamp", self.clock.seconds())
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

    def send(self, path: str, body: dict[str, Any] | None = None, *, query: dict[str, Any] | None = None,
             form: bool = False, sign: str | bool = True, sign_in: str = "header", secret: str | None = None,
             headers: dict[str, str] | None = None) -> requests.Response:
        """POST exactly these parameters (no timestamp or nonce added), in a JSON or form body and/or
        the query string; `sign=True` signs all of them together, a string is sent as the sign as is,
        `False` sends none. `sign_in` is "header", "body" or "query"."""
        body = dict(body or {})
        query = dict(query or {})
        all_headers = dict(headers or {})
        if sign is not False:
            signature = make_sign({**query, **body}, secret or self.secret) if sign is True else sign
            if sign_in == "header":
                all_headers["sign"] = signature
            elif sign_in == "body":
                body["sign"] = signature
            else:
                query["sign"] = signature
        kwargs: dict[str, Any] = {"data": body} if form else {"json": body}
        return self.http.post(self.base_url + path, params=query or None, headers=all_headers, timeout=30,
                              **kwargs)

    def raw(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        return self.http.request(method, self.base_url + path, timeout=30, **kwargs)


def _json_body(response: requests.Response) -> dict[str, Any]:
    assert response.headers.get("content-type", "").split(";")[0] == "application/json", \
        (response.status_code, response.headers.get("content-type"), response.text[:200])
    body = response.json()
    assert isinstance(body, dict), body
    return body


def expect_ok(response: requests.Response, version: str, status: int = 200) -> Any:
    """A success envelope of `version` (v1 {message, data, errorcode: 0}, v2 {code: 200, msg, status: true,
    data}) with HTTP `status`; returns its data."""
    body = _json_body(response)
    assert response.status_code == status, (response.status_code, body)
    if version == "v1":
        assert set(body) == {"message", "data", "errorcode"}, body
        assert body["errorcode"] == 0, body
    else:
        assert set(body) == {"code", "msg", "status", "data"}, body
        assert (body["code"], body["status"]) == (200, True), body
    return body["data"]


def expect_error(response: requests.Response, version: str, v1: int, v2: int, status: int) -> str:
    """An error envelope of `version` with its code (`v1` or `v2`), HTTP `status` and empty data
    (`{}` in v1, `[]` in v2, nothing else); returns the message."""
    body = _json_body(response)
    if version == "v1":
        assert set(body) == {"message", "data", "errorcode"}, body
        assert (response.status_code, body["errorcode"], body["data"]) == (status, v1, {}), body
        message = body["message"]
    else:
        assert set(body) == {"code", "msg", "status", "data"}, body
        assert (response.status_code, body["code"], body["status"], body["data"]) == (status, v2, False, []), body
        message = body["msg"]
    assert isinstance(message, str) and message, body
    return message


def sms_code(client: Client, phone: str) -> str:
    """Send an SMS code to `phone` (a server in debug mode answers it) and return the code."""
    response = client.post("/login/send/sms", {"phone": phone})
    assert response.status_code == 200, response.text
    return response.json()["data"]["code"]


def register_user(client: Client, account: str, phone: str, password: str) -> None:
    """Register through the API as a client does: an SMS code, then login/register (HTTP 201)."""
    code = sms_code(client, phone)
    response = client.post("/login/register", {"account": account, "password": password,
                                               "password_confirmation": password, "phone": phone, "code": code})
    assert response.status_code == 201, response.text


def assert_live(url: str) -> None:
    """Requests truly in flight together need `python server.py`: a TestClient shared by threads is no
    concurrent server, so a race test on the in-process app would pass without racing anything."""
    from tests.inprocess import TRANSPORTS

    assert url not in TRANSPORTS, f"a race needs a live server (LiveServer), not the in-process app at {url}"


def fire(url: str, jobs: list[tuple[str, dict[str, Any]]]) -> list[requests.Response]:
    """All `jobs` (path, params) at once: one connection each, released together by a barrier."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    assert_live(url)

    barrier = threading.Barrier(len(jobs))

    def one(job: tuple[str, dict[str, Any]]) -> requests.Response:
        c = Client(url)
        try:
            body, signature = c.signed(job[1])
            barrier.wait(30)
            return c.http.post(url + job[0], json=body, headers={"sign": signature}, timeout=60)
        finally:
            c.http.close()

    with ThreadPoolExecutor(len(jobs)) as pool:
        return list(pool.map(one, jobs))
