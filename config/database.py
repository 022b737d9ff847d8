"""Database: the peewee connection URL and SQLite's lock wait."""
from config.setting import Setting

SETTINGS = [
    # Empty means sqlite:///<RUNTIME_DIR>/app.db, so `python server.py` needs no other service.
    Setting("DATABASE_URL", "", str, "`sqlite:///runtime/app.db` by default; also `mysql://…` and `postgresql://…`"),
    # How long a writer waits for SQLite's lock before failing; WAL lets readers go on meanwhile.
    Setting("DB_BUSY_TIMEOUT", 10000, int, "milliseconds a SQLite write waits for the lock"),
]
