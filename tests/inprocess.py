"""The service in the test's own process: create_app() behind Starlette's TestClient, no socket.

`InProcessServer` has the face of `LiveServer` (url, command, create_user, query, log, stop), so a test
module moves from one to the other by its fixture alone; `Client(server.url)` finds the in-process
transport by the url. Live processes stay where processes are the subject (workers, kill -9, two
instances, the HTTP protocol, the README's commands, newman).

One in-process app at a time: the app still shares process-wide state (the database proxy, the
Auth service), so each test module starts its own and stops it before the next starts.
"""
from __future__ import annotations

import contextlib
import io
import logging
import os
import secrets
import subprocess
from pathlib import Path
from typing import Any

from starlette.testclient import TestClient

from tests.support import (DATA_KEY, JWT_SECRET, REDIS_URL, SIGN_SECRET, TEST_BACKEND, TEST_REDIS, create_database,
                           drop_database, server_env)

# base url → the transport of the app behind it (tests.support.Client looks here first)
TRANSPORTS: dict[str, RequestsShape] = {}


class RequestsShape:
    """TestClient with the keyword arguments the tests give `requests` (data as bytes or chunks,
    allow_redirects). Headers may also be a list of pairs: one header line each, a name repeated."""

    def __init__(self, client: TestClient, database: Any):
        self.client = client
        self.database = database

    def request(self, method: str, url: str, **kwargs: Any) -> Any:
        from app.common.database import db

        # Another app built in this process (create_app, boot) rebinds the shared database proxy: this
        # app would then answer from that one's database. Say so instead of answering.
        assert db.obj is self.database, "the database proxy was rebound by another app in this process"
        data = kwargs.get("data")
        if data is not None and not isinstance(data, (dict, list, tuple)):  # bytes, text, an iterator of chunks
            kwargs["content"] = kwargs.pop("data")
        if "allow_redirects" in kwargs:
            kwargs["follow_redirects"] = kwargs.pop("allow_redirects")
        for ignored in ("stream", "timeout"):  # no socket to wait on
            kwargs.pop(ignored, None)
        return self.client.request(method, url, **kwargs)

    def get(self, url: str, **kwargs: Any) -> Any:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> Any:
        return self.request("POST", url, **kwargs)

    def close(self) -> None:
        """Sessions are closed by their users; the app's client is closed by the server's stop()."""


class InProcessServer:
    """create_app(settings) on a fresh runtime folder (and database on the matrix legs), driven in-process."""

    def __init__(self, runtime: Path, **settings: Any):
        import server

        # A second app would silently take over the first one's database: refuse it loudly instead.
        assert not TRANSPORTS, f"an in-process server is still running at {list(TRANSPORTS)}: stop it first"
        self.runtime = runtime
        runtime.mkdir(parents=True, exist_ok=True)
        self.backend, self.database_name = "sqlite", None
        if "DATABASE_URL" not in settings and TEST_BACKEND != "sqlite":
            self.backend = TEST_BACKEND
            self.database_name, settings["DATABASE_URL"] = create_database(TEST_BACKEND)
        if "REDIS_URL" not in settings and TEST_REDIS:
            settings.update(REDIS_URL=REDIS_URL, REDIS_PREFIX=f"test:{secrets.token_hex(6)}:")
        self.settings = {"RUNTIME_DIR": str(runtime), "SIGN_SECRET": SIGN_SECRET, "JWT_SECRET": JWT_SECRET,
                         "DATA_KEY": DATA_KEY, "LOG_LEVEL": "warning", **{k: str(v) for k, v in settings.items()}}
        self.log_path = runtime / "server-inprocess.log"
        self._log_handler = logging.FileHandler(self.log_path)
        from app.common.request_id import RequestIdFilter, make_formatter

        self._log_handler.addFilter(RequestIdFilter())
        self._log_handler.setFormatter(make_formatter("text"))
        logging.getLogger("login_api").addHandler(self._log_handler)
        self.app = server.create_app(dict(self.settings))
        self.url = f"http://inprocess-{secrets.token_hex(4)}"
        # 127.0.0.1 as a socket's peer would be: the audit log and the throttles see it.
        self.client = TestClient(self.app, base_url=self.url, client=("127.0.0.1", 50000),
                                 raise_server_exceptions=False)
        self.client.__enter__()  # the lifespan: caches opened, consumers started
        from app.common.database import db

        TRANSPORTS[self.url] = RequestsShape(self.client, db.obj)

    @property
    def container(self) -> Any:
        return self.app.container

    def log(self) -> str:
        self._log_handler.flush()
        return self.log_path.read_text(errors="replace")

    @property
    def env(self) -> dict[str, str]:
        """The environment of a `python server.py …` subprocess on this app's storage (as LiveServer.env)."""
        return server_env(self.runtime, **self.settings)

    @property
    def db_path(self) -> Path:
        return self.runtime / "app.db"

    def command(self, *args: str) -> subprocess.CompletedProcess:
        """An admin command through its entry function (app.command.run_command), on this app's settings."""
        from app.command import run_command
        from app.common import database

        out, err = io.StringIO(), io.StringIO()
        saved = {name: os.environ.get(name) for name in self.settings}
        os.environ.update(self.settings)
        # The command boots on its own database object (pool included) through the shared proxy: the
        # app gets its own back afterwards, and the command's connections are closed, not left to GC.
        app_database, inline_reads = database.db.obj, database._inline_reads
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                try:
                    code = run_command(list(args))
                except SystemExit as exit_:  # argparse refusing the arguments
                    code = exit_.code if isinstance(exit_.code, int) else 2
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
            if database.db.obj is not app_database:
                close_database(database.db.obj)
                database.db.initialize(app_database)
                database._inline_reads = inline_reads
        return subprocess.CompletedProcess(["server.py", *args], code, out.getvalue(), err.getvalue())

    def create_user(self, account: str, phone: str, password: str, admin: bool = False) -> int:
        done = self.command("user:create", "--account", account, "--phone", phone, "--password", password,
                            *(["--admin"] if admin else []))
        assert done.returncode == 0, done.stderr
        return int(done.stdout.split()[2].rstrip(":"))

    def query(self, sql: str, *params: Any) -> list[tuple]:
        from tests.support import query_database

        return query_database(self.backend, self.runtime / "app.db", self.database_name, sql, *params)

    def stop(self) -> None:
        TRANSPORTS.pop(self.url, None)
        with contextlib.suppress(Exception):
            self.client.__exit__(None, None, None)
        from app.common.auth import Auth
        from app.common.database import db

        with contextlib.suppress(Exception):
            Auth.instance().close()
        with contextlib.suppress(Exception):
            close_database(db.obj)
        logging.getLogger("login_api").removeHandler(self._log_handler)
        self._log_handler.close()
        if self.database_name:
            drop_database(self.backend, self.database_name)
            self.database_name = None


def close_database(database: Any) -> None:
    """Close every connection of a peewee database: a pool's idle and lent ones too (psycopg warns
    about a connection dropped open, and the suite turns warnings into errors)."""
    close_all = getattr(database, "close_all", None)
    if close_all is not None:
        close_all()
    else:
        database.close()
