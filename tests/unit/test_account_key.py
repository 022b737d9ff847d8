"""Account keys fold width and case (SPEC §10: `ａlice` = `alice`), on new and existing rows."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import server
from app.model.base import db
from app.model.migration import MIGRATIONS, migrate
from app.model.user import User, account_key
from tests.support import JWT_SECRET, SIGN_SECRET, TEST_BACKEND, create_database, drop_database

# The migration that recomputes the keys: found by its function, whatever its number.
KEYS_MIGRATION = next(number for number, step in MIGRATIONS if step.__name__.endswith("account_keys_nfkc"))


@pytest.fixture
def database(tmp_path: Path) -> Iterator[None]:
    """A fresh database of TEST_BACKEND (SQLite by default), migrated."""
    name, settings = None, {}
    if TEST_BACKEND != "sqlite":
        name, settings["DATABASE_URL"] = create_database(TEST_BACKEND)
    server.boot({"RUNTIME_DIR": str(tmp_path / "runtime"), "SIGN_SECRET": SIGN_SECRET, "JWT_SECRET": JWT_SECRET,
                 "LOG_LEVEL": "warning", **settings})
    yield
    if hasattr(db.obj, "close_all"):  # a pooled MySQL/PostgreSQL database: every connection, before the drop
        db.obj.close_all()
    else:
        db.close()
    if name:
        drop_database(TEST_BACKEND, name)


@pytest.mark.parametrize("typed, key", [
    ("Alice", "alice"), ("ａｌｉｃｅ", "alice"), ("ＡＬＩＣＥ", "alice"), ("  Alice ", "alice"),
    ("Straße", "strasse"), ("ﬁle", "file"), ("ÅNGSTRÖM", "ångström"), ("А", "а"),
])
def test_account_key_is_nfkc_case_folded(typed: str, key: str) -> None:
    assert account_key(typed) == key


def test_account_key_keeps_scripts_apart() -> None:
    # Cyrillic `а` is not NFKC-equal to Latin `a`; the validator refuses the mixed name instead.
    assert account_key("\u0430lice") != account_key("alice")


def _old_rows(*accounts: tuple[str, str]) -> list[int]:
    """Users as the case-folding-only keys stored them, with the key migration not yet applied."""
    ids = [User.create(account=account, account_key=key, phone=f"1390000{n:04d}", password_hash="x").id
           for n, (account, key) in enumerate(accounts)]
    db.execute_sql(f"DELETE FROM schema_version WHERE version >= {KEYS_MIGRATION}")
    return ids


def test_migration_recomputes_existing_keys(database: None) -> None:
    wide, plain = _old_rows(("Ｗｉｄｅ", "ｗｉｄｅ"), ("Plain", "plain"))
    assert migrate() >= 1
    assert User.get_by_id(wide).account_key == "wide"
    assert User.get_by_id(plain).account_key == "plain"
    assert User.find_by_identity("wide").id == wide


def test_migration_keeps_the_oldest_of_two_accounts_that_now_fold_together(database: None) -> None:
    first, twin, other = _old_rows(("ａlice", "ａlice"), ("alice", "alice"), ("Bob", "bob"))
    migrate()
    keys = {uid: User.get_by_id(uid).account_key for uid in (first, twin, other)}
    assert keys == {first: "alice", twin: f"alice#{twin}", other: "bob"}
    assert User.find_by_identity("ALICE").id == first
