"""Migration 6 gives a database its identity once (the prefix of its short-lived state's cache keys).

That two databases sharing a runtime folder or a Redis stay apart is tests/scale/test_two_databases.py.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Iterator

import pytest

from app.common.database import init_database
from app.model.base import db
from app.model.database_identity import database_identity
from app.model.migration import migrate


@pytest.fixture
def open_sqlite(tmp_path: Path) -> Iterator:
    previous, opened = db.obj, []

    def _open(name: str) -> str:
        database = init_database(f"sqlite:///{tmp_path / name}", 5000)
        opened.append(database)
        migrate()
        return database_identity()

    yield _open
    for database in opened:
        database.close()
    db.initialize(previous)


def test_each_database_has_its_own_identity_and_keeps_it(open_sqlite) -> None:
    first = open_sqlite("first.db")
    assert re.fullmatch(r"[0-9a-f]{16}", first)
    assert open_sqlite("second.db") != first
    assert open_sqlite("first.db") == first  # migrating again (every start does) changes nothing

