"""What each app owns that code deep inside it reaches unasked, and which app is running now.

One process may hold several apps (`server.create_app()` twice, with different settings). The
models, `Auth::instance()`, the phone keys, the `mobile` rule and the events outbox cannot be
handed their app (peewee's field converters get a bare value), so they ask `current()`: the
state of the app whose request or lifespan is running. `Http` sets it for each ASGI call;
asyncio tasks and anyio's worker threads (`db_write`, `to_thread.run_sync`) start with a copy
of the caller's context, so they see the same app.

Outside every app's call (an admin command, a script, a test) the process default answers: the
app booted last in the process (`server.boot()`, `create_app()`), set explicitly by them.
"""
from __future__ import annotations

import contextlib
import dataclasses
import re
from collections.abc import Callable, Iterator
from contextvars import ContextVar, Token
from typing import TYPE_CHECKING

from peewee import SqliteDatabase

if TYPE_CHECKING:
    from peewee import Database

    from app.common.auth import Auth
    from app.common.data_crypto import DataKeys
    from config import Settings


@dataclasses.dataclass(eq=False, repr=False)
class AppState:
    """One app's own: made by server.boot() from its settings, its Auth added by create_app()."""

    settings: Settings
    database: Database | None
    data_keys: DataKeys | None = None
    phone_pattern: re.Pattern[str] | None = None
    events_enabled: bool = False  # the outbox records events only when WEBHOOK_URL is set
    auth: Auth | None = None
    # SQLite reads run inline on the event loop (app/common/database.py); read on the hot path.
    inline_reads: bool = dataclasses.field(init=False)

    def __post_init__(self) -> None:
        self.inline_reads = isinstance(self.database, SqliteDatabase)


_current: ContextVar[AppState] = ContextVar("login_api.app")
_default: AppState | None = None


def current() -> AppState:
    """The running app's state (the process default outside every app's call)."""
    state = _current.get(_default)
    if state is None:
        raise RuntimeError("no app here: build one with server.create_app() (or server.boot() for a script)")
    return state


def current_or_none() -> AppState | None:
    return _current.get(_default)


# enter(state) makes `state` current in this context until leave(token). The ContextVar's own
# methods, without a Python frame around them: Http calls them for every request.
enter: Callable[[AppState], Token[AppState]] = _current.set
leave: Callable[[Token[AppState]], None] = _current.reset


@contextlib.contextmanager
def using(state: AppState) -> Iterator[AppState]:
    token = _current.set(state)
    try:
        yield state
    finally:
        _current.reset(token)


def default() -> AppState | None:
    return _default


def set_default(state: AppState | None) -> None:
    """The app that code outside every app's call uses (the one app of a script or command)."""
    global _default
    _default = state


def set_default_database(database: Database | None) -> None:
    """`db.initialize(database)`: the process default's models use `database` (scripts, tests).

    A copy of the default is changed, never the state of an app, which keeps its own database.
    """
    global _default
    if _default is None:
        # A database without an app (a script, a test): nothing reads this state's settings.
        _default = AppState(settings=None, database=database)  # type: ignore[arg-type]
    else:
        _default = dataclasses.replace(_default, database=database)
