"""The peewee database proxy and the base model every table derives from."""
from __future__ import annotations

from peewee import Database, DatabaseProxy, Model

from app.common import app_state
from app.common.clock import SYSTEM_CLOCK


class AppDatabase(DatabaseProxy):
    """The current app's database (app/common/app_state.py): each app opens its own.

    `initialize()` gives the process default one (a script or a test without an app); the apps'
    own databases are made by server.boot().
    """

    __slots__ = ()

    def __init__(self) -> None:
        object.__setattr__(self, "_callbacks", [])

    @property
    def obj(self) -> Database | None:
        state = app_state.current_or_none()
        return None if state is None else state.database

    def initialize(self, obj: Database | None) -> None:
        app_state.set_default_database(obj)
        for callback in self._callbacks:
            callback(obj)


db = AppDatabase()


def now() -> int:
    """Unix time in whole seconds: the one time format stored, the same on every database.

    Only a column's default, for rows whose writer gives no time (migrations, the admin commands);
    the app's services give theirs from the app's clock."""
    return SYSTEM_CLOCK.seconds()


class BaseModel(Model):
    class Meta:
        database = db
        legacy_table_names = False
