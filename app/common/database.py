"""Opening the database from DATABASE_URL, and where its queries run.

SQLite is a local file: a read by primary key costs microseconds, less than a hop to a
thread, so hot-path reads run inline on the event loop (`db_read`). Writes wait for a disk
sync (synchronous=FULL), and a network database waits for the network, so those run in
worker threads (`db_write`, and `db_read` on MySQL/PostgreSQL). peewee keeps one connection
per thread, so each thread reuses its own.
"""
from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any, Callable, Iterator, TypeVar
from urllib.parse import urlparse

import anyio.to_thread
from peewee import Database, SqliteDatabase
from playhouse.db_url import connect

from app.model.base import db

T = TypeVar("T")
_inline_reads = True


class DatabaseConfigError(Exception):
    """DATABASE_URL is malformed or names a database this service does not speak."""


def open_database(url: str, busy_timeout_ms: int) -> Database:
    """A peewee database for `url`, with SQLite set up for concurrent, durable use."""
    scheme = urlparse(url).scheme.lower()
    if scheme == "sqlite":
        path = url[len("sqlite:///"):]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        return SqliteDatabase(path, timeout=busy_timeout_ms / 1000, pragmas={
            # WAL: readers never wait for the writer; FULL: an acknowledged write survives a crash.
            "journal_mode": "wal",
            "synchronous": "full",
            "busy_timeout": busy_timeout_ms,
            "foreign_keys": 1,
        })
    if scheme in ("mysql", "mariadb"):
        return connect(url.replace(scheme + "://", "mysql://", 1), charset="utf8mb4",
                       connect_timeout=5, read_timeout=30, write_timeout=30)
    if scheme in ("postgresql", "postgres"):
        return connect(url.replace(scheme + "://", "psycopg3://", 1), connect_timeout=5)
    raise DatabaseConfigError(f"DATABASE_URL: unsupported scheme {scheme!r} (use sqlite, mysql or postgresql)")


def init_database(url: str, busy_timeout_ms: int) -> Database:
    """Point the shared proxy at the database of `url`."""
    global _inline_reads
    database = open_database(url, busy_timeout_ms)
    db.initialize(database)
    _inline_reads = isinstance(database, SqliteDatabase)
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


async def db_read(fn: Callable[..., T], *args: Any) -> T:
    """Run a short read: inline on SQLite, in a worker thread on a network database."""
    if _inline_reads:
        return fn(*args)
    return await anyio.to_thread.run_sync(fn, *args)


async def db_write(fn: Callable[..., T], *args: Any) -> T:
    """Run a write (or any slow query) in a worker thread, off the event loop."""
    return await anyio.to_thread.run_sync(fn, *args)
