"""The database's identity: a random name given at its migration 6, so shared state knows whose it is."""
from __future__ import annotations

import secrets

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


def database_identity() -> str:
    """This database's identity: the prefix of every key of its short-lived state."""
    row = DatabaseIdentity.select(DatabaseIdentity.identity).first()
    if row is None:  # only a database not migrated by this code base could lack it
        raise RuntimeError("the database has no identity: run `python server.py migrate`")
    return row.identity
