"""The database's identity: a random name given at its migration 6, so shared state knows whose it is."""
from __future__ import annotations

import hashlib
import secrets
from urllib.parse import urlsplit, urlunsplit

from peewee import CharField, IntegerField

from app.model.base import BaseModel, now


class DatabaseIdentity(BaseModel):
    # One row. Random, not derived from the URL: a database moved or renamed stays itself, and two
    # databases with the same name on two servers (or two SQLite files) are still two.
    identity = CharField(max_length=32, primary_key=True)
    created_at = IntegerField(default=now)

    class Meta:
        table_name = "database_identity"


def create_identity() -> None:
    """Give the database its identity (migration 6)."""
    DatabaseIdentity.create(identity=secrets.token_hex(8))


def database_identity(location: str = "") -> str:
    """This database's identity: the prefix of every key of its short-lived state.

    The stored random name, plus a digest of where the database is (`location`: DATABASE_URL):
    a backup restored beside its original carries the original's row, and must still not share
    its locks and counters. A database moved elsewhere starts with fresh short-lived state, which
    costs nothing but a few counters.
    """
    row = DatabaseIdentity.select(DatabaseIdentity.identity).first()
    if row is None:  # only a database not migrated by this code base could lack it
        raise RuntimeError("the database has no identity: run `python server.py migrate`")
    identity: str = row.identity
    if not location:
        return identity
    parts = urlsplit(location)
    # The password may change without the database changing; it must not reach a key either.
    netloc = parts.netloc.rpartition("@")[2]
    user = parts.netloc.rpartition("@")[0].partition(":")[0]
    place = urlunsplit((parts.scheme, f"{user}@{netloc}", parts.path, "", ""))
    return f"{identity}-{hashlib.sha256(place.encode('utf-8')).hexdigest()[:8]}"
