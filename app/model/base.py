"""The peewee database proxy and the base model every table derives from."""
from __future__ import annotations

from peewee import DatabaseProxy, Model

from app.common.clock import SYSTEM_CLOCK

# Initialised by the app factory from DATABASE_URL (app/common/database.py).
db = DatabaseProxy()


def now() -> int:
    """Unix time in whole seconds: the one time format stored, the same on every database.

    Only a column's default, for rows whose writer gives no time (migrations, the admin commands);
    the app's services give theirs from the app's clock."""
    return SYSTEM_CLOCK.seconds()


class BaseModel(Model):
    class Meta:
        database = db
        legacy_table_names = False
