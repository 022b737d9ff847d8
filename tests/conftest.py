"""Fixtures: a server per test module (in the test's process by default), with a user ready to log in."""
from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.inprocess import InProcessServer
from tests.support import Client, LiveServer

PASSWORD = "secret_123"

# Either face: the app in this process (the default) or `python server.py` where processes are the subject.
Server = InProcessServer | LiveServer


@contextlib.contextmanager
def serving(tmp_path_factory: pytest.TempPathFactory, name: str, *, live: bool = False,
            **settings: Any) -> Iterator[Server]:
    """The body of a module's server fixture (`with serving(...) as server: yield server`): a server
    on a fresh runtime folder named after `name`, stopped at the end. In this process by default;
    `live=True` for a real `python server.py` (real sockets, worker processes, requests truly in
    parallel, programs that speak HTTP to it)."""
    kind = LiveServer if live else InProcessServer
    server = kind(tmp_path_factory.mktemp(name), **settings)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One server (SQLite, signing on) for the tests of a module, in the test's process."""
    with serving(tmp_path_factory, "runtime") as server:
        yield server


@pytest.fixture(scope="module")
def user(server: Server) -> dict:
    """A user made with the admin command, as an operator would."""
    uid = server.create_user("Foo", "13911119999", PASSWORD)
    return {"uid": uid, "account": "Foo", "phone": "13911119999", "password": PASSWORD}


@pytest.fixture
def client(server: Server) -> Iterator[Client]:
    """A signing client of the module's `server` (each test module may define its own server)."""
    c = Client(server.url)
    yield c
    c.http.close()


@pytest.fixture
def tmp_runtime(tmp_path: Path) -> Path:
    return tmp_path / "runtime"


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int | None:
    """`-n auto`: two workers per core, since a worker spends part of its time waiting (on a live server,
    a subprocess, a browser). Measured on this project's 2-core machine, PostgreSQL leg alternated:
    2 workers 132 s and 113 s, 4 workers 113 s and 114 s (6, once: 131 s); the SQLite run, not
    alternated, 248 s and 233 s with 4 against 262 s and 277 s with 2. A small gain at best.
    PYTEST_XDIST_AUTO_NUM_WORKERS still decides when set."""
    import os

    if os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS"):
        return None  # xdist's own hook reads it
    return 2 * len(os.sched_getaffinity(0))


# The modules that take longest, started first: a long module picked up last would keep one worker
# busy after the others ran out of work, and a core idle. Only the order changes.
SLOW_FIRST = ("tests/api/test_schemathesis.py", "tests/test_readme_walk.py", "tests/api/test_docs_page.py",
              "tests/api/test_lockout.py", "tests/scale/test_two_instances.py", "tests/api/test_client.py",
              "tests/scale/test_crash.py", "tests/ops/test_events.py", "tests/api/test_captcha.py",
              "tests/unit/test_cache.py", "tests/test_commands.py", "tests/api/test_throttle.py")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        module = item.nodeid.split("::", 1)[0]
        return SLOW_FIRST.index(module) if module in SLOW_FIRST else len(SLOW_FIRST)

    items.sort(key=rank)  # stable: every module keeps its tests' order
