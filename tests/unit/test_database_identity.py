"""Migration 6 gives a database its identity once (the prefix of its short-lived state's cache keys).

That two databases sharing a runtime folder or a Redis stay apart is tests/scale/test_two_databases.py.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

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



def test_a_restored_copy_beside_its_original_is_another_database(open_sqlite, tmp_path: Path) -> None:
    """A backup restored next to the original carries the original's row; its state must still be its own."""
    import shutil

    open_sqlite("original.db")
    shutil.copy(tmp_path / "original.db", tmp_path / "restored.db")
    open_sqlite("restored.db")
    original = database_identity(f"sqlite:///{tmp_path / 'original.db'}")
    restored = database_identity(f"sqlite:///{tmp_path / 'restored.db'}")
    assert original.split("-")[0] == restored.split("-")[0]  # the same stored row …
    assert original != restored  # … and still two prefixes
    # a password change is not a new database, and the password never reaches the key
    with_password = database_identity("mysql://root:s3cret@127.0.0.1:3306/app")
    assert with_password == database_identity("mysql://root:other@127.0.0.1:3306/app")
    assert "s3cret" not in with_password
