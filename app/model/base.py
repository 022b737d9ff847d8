"""The peewee database proxy and the base model every table derives from."""
from __future__ import annotations

import time

from peewee import DatabaseProxy, Model

# Initialised by the app factory from DATABASE_URL (app/common/database.py).
db = DatabaseProxy()


def now() -> int:
    """Unix time in whole seconds: the one time format stored, the same on every database."""
    return int(time.time())


class BaseModel(Model):
    class Meta:
        database = db
        legacy_table_names = False
