"""The service in the test's own process: create_app() behind Starlette's TestClient, no socket.

`InProcessServer` has the face of `LiveServer` (url, command, create_user, query, log, stop), so a test
module moves from one to the other by its fixture alone; `Client(server.url)` finds the in-process
transport by the url. Live processes stay where processes are the subject (workers, kill -9, two
instances, the HTTP protocol, the README's commands, newman).

Several may run at once: each app owns its database, Auth service and keys (app/common/app_state.py),
and stopping one leaves the others working. Code a test runs outside any request (models, Auth.instance())
uses the app started last.
"""
from __future__ import annotations

import contextlib
import logging
import secrets
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from starlette.testclient import TestClient

from app.common.clock import SYSTEM_CLOCK, Clock
from tests.support import (
    DATA_KEY,
    FAST_HASH,
    JWT_SECRET,
    SIGN_SECRET,
    ServerFace,
    command_in_process,
    server_env,
)

# base url → the transport of the app behind it (tests.support.Client looks here first)
TRANSPORTS: dict[str, RequestsShape] = {}


class RequestsShape:
    """TestClient with the keyword arguments the tests give `requests` (data as bytes or chunks,
    allow_redirects). Headers may also be a list of pairs: one header line each, a name repeated."""

    def __init__(self, client: TestClient, clock: Clock):
        self.client = client
        self.clock = clock  # the app's: tests.support.Client signs its requests at this time

    def request(self, method: str, url: str, **kwargs: Any) -> Any:
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


class InProcessServer(ServerFace):
    """create_app(settings) on a fresh runtime folder (and database on the matrix legs), driven in-process.

    `clock`: the app's time (and its admin commands'); a ManualClock lets a test move past an expiry.
    """

    def __init__(self, runtime: Path, clock: Clock | None = None, **settings: Any):
        import server

        self.runtime = runtime
        self.clock = clock or SYSTEM_CLOCK
        runtime.mkdir(parents=True, exist_ok=True)
        self.pick_storage(settings)
        self.settings = {"RUNTIME_DIR": str(runtime), "SIGN_SECRET": SIGN_SECRET, "JWT_SECRET": JWT_SECRET,
                         "DATA_KEY": DATA_KEY, "LOG_LEVEL": "warning", **FAST_HASH,
                         **{k: str(v) for k, v in settings.items()}}
        self.log_path = runtime / "server-inprocess.log"
        self._log_handler = logging.FileHandler(self.log_path)
        from app.common.request_id import RequestIdFilter, make_formatter

        self._log_handler.addFilter(RequestIdFilter())
        self._log_handler.setFormatter(make_formatter("text"))
        logging.getLogger("login_api").addHandler(self._log_handler)
        self.app = server.create_app(dict(self.settings), clock=self.clock)
        self.url = f"http://inprocess-{secrets.token_hex(4)}"
        # 127.0.0.1 as a socket's peer would be: the audit log and the throttles see it.
        self.client = TestClient(self.app, base_url=self.url, client=("127.0.0.1", 50000),
                                 raise_server_exceptions=False)
        self.client.__enter__()  # the lifespan: caches opened, consumers started
        TRANSPORTS[self.url] = RequestsShape(self.client, self.clock)

    @property
    def container(self) -> Any:
        return self.app.container

    def pass_time(self, seconds: float, in_cache: bool = False) -> None:
        """Let `seconds` go by for the app: its clock moves. A window kept `in_cache` (a throttle, a
        lock, a captcha's TTL) is timed by Redis itself when the app runs on Redis: there every key of
        the app has its time to live shortened by as much, and those it outlived are deleted, which is
        all that time passing does to them (nothing the app keeps in Redis reads Redis's clock)."""
        self.clock.advance(seconds)
        if in_cache and "REDIS_URL" in self.settings:
            self._age_redis_keys(seconds)

    def _age_redis_keys(self, seconds: float) -> None:
        import re

        import redis

        prefix = re.sub(r"([*?\[\]\\])", r"\\\1", self.settings.get("REDIS_PREFIX", "login_api:"))
        elapsed = round(seconds * 1000)
        with redis.Redis.from_url(self.settings["REDIS_URL"]) as connection:
            for key in connection.scan_iter(match=prefix + "*", count=1000):
                left = connection.pttl(key)
                if left < 0:  # no expiry, or gone meanwhile
                    continue
                if left <= elapsed:
                    connection.delete(key)
                else:
                    connection.pexpire(key, left - elapsed)

    @property
    def env(self) -> dict[str, str]:
        """The environment of a `python server.py …` subprocess on this app's storage (as LiveServer.env)."""
        return server_env(self.runtime, **self.settings)

    def log(self) -> str:
        self._log_handler.flush()
        return self.log_path.read_text(errors="replace")

    def command(self, *args: str) -> subprocess.CompletedProcess:
        """An admin command through its entry function (app.command.run_command), on this app's settings."""
        return command_in_process(self.settings, args, self.clock)

    def _shut_down(self, patience: float = 30) -> None:
        """The lifespan's shutdown, through TestClient, waited for at most `patience` seconds.

        A shutdown that never ends hangs the whole suite, so it is bounded: said on stderr, not
        waited for (a test's assertions never depend on it). It happened once in twenty runs of
        tests/unit/test_two_apps.py: the events consumer went on after a cancellation that 3.11's
        asyncio.wait_for swallowed, and its stop() waited forever; fixed in app/service/event_consumer.py.
        """
        done = threading.Event()

        def shut_down() -> None:
            with contextlib.suppress(Exception):
                self.client.__exit__(None, None, None)
            done.set()

        threading.Thread(target=shut_down, name=f"stop {self.url}", daemon=True).start()
        if not done.wait(patience):
            print(f"tests/inprocess.py: the app at {self.url} did not finish its shutdown in {patience:.0f} s; "
                  "going on without it", file=sys.stderr)

    def stop(self) -> None:
        """Shut the app down (lifespan), close its database and Auth; a second call does nothing."""
        if self.url not in TRANSPORTS:
            return
        TRANSPORTS.pop(self.url, None)
        self._shut_down()
        state = self.app.state
        with contextlib.suppress(Exception):
            state.auth.close()
        with contextlib.suppress(Exception):
            getattr(state.database, "close_all", state.database.close)()
        logging.getLogger("login_api").removeHandler(self._log_handler)
        self._log_handler.close()
        self.drop_own_database()
