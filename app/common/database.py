"""Opening the database from DATABASE_URL, and where its queries run.

SQLite is a local file: a read by primary key costs microseconds, less than a hop to a
thread, so hot-path reads run inline on the event loop (`db_read`). Writes wait for a disk
sync (synchronous=FULL), and a network database waits for the network, so those run in
worker threads (`db_write`, and `db_read` on MySQL/PostgreSQL).

SQLite connections stay open, one per thread (peewee keeps them thread-local). MySQL and
PostgreSQL connections come from peewee's pool for the length of one call and go back to
it, so a few connections serve every thread, and a connection the server dropped is
replaced rather than reused.

Locking differs: SQLite has one writer at a time, taken up front by `write_transaction`
(BEGIN IMMEDIATE); MySQL (InnoDB) and PostgreSQL lock rows. The code therefore never relies
on SELECT … FOR UPDATE: races are settled by unique keys (IntegrityError) and by
conditional UPDATEs whose row count says who won, which behave the same on all three.
"""
from __future__ import annotations

import contextlib
import random
import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlparse

import anyio.to_thread
from peewee import Database, SqliteDatabase
from playhouse.db_url import connect

from app.common.app_state import current
from app.model.base import db

T = TypeVar("T")


class DatabaseConfigError(Exception):
    """DATABASE_URL is malformed or names a database this service does not speak."""


class _SqliteDatabase(SqliteDatabase):
    """SQLite whose connection set-up waits for the lock as every statement does.

    `PRAGMA journal_mode=wal` on a file still in rollback mode (a new database, while another
    process creates it) needs the write lock, and SQLite answers "database is locked" at once,
    without calling the busy handler, when another connection holds it: two processes starting
    on a new file (`migrate` twice) could fail. The pragmas are tried again until busy_timeout.
    """

    def _set_pragmas(self, conn: sqlite3.Connection) -> None:
        deadline = time.monotonic() + self._busy_timeout_s
        while True:
            try:
                # peewee's stubs leave out this private hook, which is what the class exists to wrap.
                super()._set_pragmas(conn)  # type: ignore[misc]
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() >= deadline:
                    raise
            time.sleep(random.uniform(0.005, 0.05))  # the holder's transaction is short (one migration)

    @property
    def _busy_timeout_s(self) -> float:
        return float(self.connect_params.get("timeout", 5))


def open_database(url: str, busy_timeout_ms: int) -> Database:
    """A peewee database for `url`, with SQLite set up for concurrent, durable use."""
    scheme = urlparse(url).scheme.lower()
    if scheme == "sqlite":
        path = url[len("sqlite:///"):]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        return _SqliteDatabase(path, timeout=busy_timeout_ms / 1000, pragmas={
            # WAL: readers never wait for the writer; FULL: an acknowledged write survives a crash.
            "journal_mode": "wal",
            "synchronous": "full",
            "busy_timeout": busy_timeout_ms,
            "foreign_keys": 1,
        })
    pool = {"max_connections": 32, "stale_timeout": 300, "timeout": 10}
    if scheme in ("mysql", "mariadb"):
        # READ COMMITTED, as PostgreSQL's default: no gap locks, so racing inserts do not deadlock.
        # playhouse is untyped: its connect() gives a peewee Database (the pooled MySQL one).
        mysql: Database = connect(url.replace(scheme + "://", "mysql+pool://", 1), charset="utf8mb4",
                                  connect_timeout=5, read_timeout=30, write_timeout=30,
                                  init_command="SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED", **pool)
        return mysql
    if scheme in ("postgresql", "postgres"):
        postgres: Database = connect(url.replace(scheme + "://", "psycopg3+pool://", 1), connect_timeout=5, **pool)
        return postgres
    raise DatabaseConfigError(f"DATABASE_URL: unsupported scheme {scheme!r} (use sqlite, mysql or postgresql)")


def init_database(url: str, busy_timeout_ms: int) -> Database:
    """Open the database of `url` for the process default (a script or test; each app opens its own)."""
    database = open_database(url, busy_timeout_ms)
    db.initialize(database)
    return database


def is_sqlite() -> bool:
    return isinstance(db.obj, SqliteDatabase)


@contextlib.contextmanager
def write_transaction() -> Iterator[None]:
    """A transaction that takes SQLite's write lock up front.

    A deferred SQLite transaction that reads and then writes can fail at once with "database
    is locked" instead of waiting; IMMEDIATE waits for the lock (busy_timeout) instead.
    """
    if is_sqlite():
        with db.atomic("IMMEDIATE"):
            yield
    else:
        with db.atomic():
            yield


def _pooled(fn: Callable[..., T], *args: Any) -> T:
    """Run `fn` on a pooled connection that goes back to the pool afterwards."""
    with db.connection_context():
        return fn(*args)


async def db_read(fn: Callable[..., T], *args: Any) -> T:
    """Run a short read: inline on SQLite, in a worker thread on a network database."""
    if current().inline_reads:
        return fn(*args)
    return await anyio.to_thread.run_sync(_pooled, fn, *args)


async def db_write(fn: Callable[..., T], *args: Any) -> T:
    """Run a write (or any slow query) in a worker thread, off the event loop.

    The thread runs in a copy of the caller's context: the models there use the caller's app.
    """
    if current().inline_reads:
        return await anyio.to_thread.run_sync(fn, *args)
    return await anyio.to_thread.run_sync(_pooled, fn, *args)


def run_fixed(sql: str, params: tuple[Any, ...]) -> Any:
    """Execute a fixed statement (built once, with db.param placeholders) and return its cursor.

    On SQLite it goes straight to the thread's sqlite3 connection: peewee's execute_sql adds
    1.5-5 µs of bookkeeping a call, a third of what the hot path's token lookup itself costs.
    """
    state = current()
    if state.inline_reads:
        return state.database.connection().execute(sql, params)  # type: ignore[union-attr]  # inline: SQLite, set
    return db.execute_sql(sql, params)


def check_connection() -> None:
    """Open and close one connection, so a wrong DATABASE_URL fails at start with a clear message."""
    try:
        db.connect(reuse_if_open=True)
        db.execute_sql("SELECT 1")
        db.close()
    except Exception as exc:  # noqa: BLE001 - every driver has its own error types
        detail = " ".join(str(exc).split())  # one line: drivers add hints on lines of their own
        raise DatabaseConfigError(f"cannot use the database: {type(exc).__name__}: {detail}") from None
