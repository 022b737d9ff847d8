"""Fixtures: a live server per test module, with a user ready to log in."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import Client, LiveServer

PASSWORD = "secret_123"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One live server (SQLite, signing on) for the tests of a module."""
    live = LiveServer(tmp_path_factory.mktemp("runtime"))
    yield live
    live.stop()


@pytest.fixture(scope="module")
def user(server: LiveServer) -> dict:
    """A user made with the admin command, as an operator would."""
    uid = server.create_user("Foo", "13911119999", PASSWORD)
    return {"uid": uid, "account": "Foo", "phone": "13911119999", "password": PASSWORD}


@pytest.fixture
def client(server: LiveServer) -> Iterator[Client]:
    """A signing client of the module's `server` (each test module may define its own server)."""
    c = Client(server.url)
    yield c
    c.http.close()


@pytest.fixture
def tmp_runtime(tmp_path: Path) -> Path:
    return tmp_path / "runtime"
