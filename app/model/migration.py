"""Numbered schema migrations: each runs once, in a transaction where the database allows.

Never edit a migration that has shipped: add the next number. Migration 1 creates the
foundation's tables; later issues append theirs.
"""
from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator
from typing import Any, cast

from peewee import Model, MySQLDatabase, PostgresqlDatabase, SqliteDatabase

from app.common.database import write_transaction
from app.model.audit_log import AuditLog
from app.model.base import db
from app.model.database_identity import DatabaseIdentity, create_identity
from app.model.role import ADMIN_ROLE, Role
from app.model.schema_version import SchemaVersion
from app.model.session import Session
from app.model.sms_code import SmsCode
from app.model.token import Token
from app.model.user import User
from app.model.user_role import UserRole

log = logging.getLogger("login_api.migration")


def _v1_foundation() -> None:
    db.create_tables([User, Session, Token], safe=True)


def _v2_sms_codes() -> None:
    db.create_tables([SmsCode], safe=True)


def _create_never_reusing_ids(model: type[Model]) -> None:
    """Create `model`'s table so a deleted row's id is never handed out again.

    MySQL and PostgreSQL never reuse an auto-increment id; SQLite does for the highest one unless
    the key is AUTOINCREMENT. A role id travels in tokens (`rid`) that outlive a deleted role.
    """
    if not isinstance(db.obj, SqliteDatabase):
        db.create_tables([model], safe=True)
        return
    schema = model._schema  # type: ignore[attr-defined]  # set by peewee's metaclass, not in its stubs
    sql, params = schema._create_table(safe=True).query()
    db.execute_sql(sql.replace('"id" INTEGER NOT NULL PRIMARY KEY',
                               '"id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT', 1),
                   params)
    schema.create_indexes(safe=True)


def _v3_roles() -> None:
    _create_never_reusing_ids(Role)
    db.create_tables([UserRole], safe=True)
    Role.create(name=ADMIN_ROLE, title="Administrator", permissions_json='["*"]', builtin=1)


def _v4_audit_log() -> None:
    db.create_tables([AuditLog], safe=True)


def _v5_cache_table() -> None:
    from app.common.cache.database import create_cache_table

    create_cache_table()


def _v6_database_identity() -> None:
    # Shared state (in runtime/cache.lmdb or Redis) is keyed by it, so databases sharing them stay apart.
    db.create_tables([DatabaseIdentity], safe=True)
    create_identity()


def _v7_account_keys_nfkc() -> None:
    """Recompute every account_key as NFKC + case folding (SPEC §10: `ａlice` = `alice`).

    Keys were case-folded only. Where two existing accounts now fold to one key, the oldest
    keeps it and the others get `key#id` (`#` cannot be typed in an account name), so they
    still log in by phone and an operator can rename them; each is logged.
    """
    from app.model.user import account_key

    # peewee's stubs type .tuples() as yielding models; it yields (id, account, account_key).
    rows = cast(list[tuple[int, str, str]],
                list(User.select(User.id, User.account, User.account_key).order_by(User.id).tuples()))
    wanted: dict[int, str] = {}
    owners: dict[str, int] = {}
    for uid, account, _ in rows:
        key = account_key(account)[:64]
        if key in owners:
            log.warning("account %r (user %d) folds to the key of user %d; it keeps the key %r",
                        account, uid, owners[key], f"{key}#{uid}")
            key = f"{key[:50]}#{uid}"
        owners[key] = uid
        wanted[uid] = key
    changed = [(uid, wanted[uid]) for uid, _, old in rows if old != wanted[uid]]
    # Two passes through a placeholder, so swapping keys never trips the unique index midway.
    for uid, _ in changed:
        User.update(account_key=f"#{uid}").where(User.id == uid).execute()
    for uid, key in changed:
        User.update(account_key=key).where(User.id == uid).execute()


def _v8_account_lifecycle() -> None:
    """SPEC §11: sessions get a face, SMS codes a scene, refresh tokens a rotation mark.

    Number 8: 6 is the database identity, 7 the NFKC account keys.
    """
    from peewee import CharField, Field, IntegerField
    from playhouse.migrate import SchemaMigrator, migrate as alter

    migrator = SchemaMigrator.from_database(db.obj)
    wanted: dict[str, list[tuple[str, Field]]] = {
        "auth_session": [("platform", CharField(max_length=8, default="other")),
                         ("device", CharField(max_length=64, null=True)),
                         ("ip", CharField(max_length=64, null=True)),
                         ("user_agent", CharField(max_length=255, null=True)),
                         ("last_seen_at", IntegerField(null=True))],
        "auth_token": [("rotated_at", IntegerField(null=True))],
        "sms_code": [("scene", CharField(max_length=16, default="register"))],
    }
    # Tables made by earlier migrations from today's models already have the columns.
    steps: list[Any] = []  # playhouse's migration operations (playhouse has no types)
    for table, columns in wanted.items():
        present = {column.name for column in db.get_columns(table)}
        steps += [migrator.add_column(table, name, field) for name, field in columns if name not in present]
    if steps:
        alter(*steps)


def _v9_event_outbox() -> None:
    """The events outbox (ids never reused: receivers deduplicate by them) and the consumer's lease."""
    from app.model.event_outbox import EventLease, EventOutbox
    from app.service.events import LEASE

    _create_never_reusing_ids(EventOutbox)
    db.create_tables([EventLease], safe=True)
    # Safe to run again (a schema_version row lost or removed): one lease row, whatever happens.
    if not EventLease.select().where(EventLease.name == LEASE).exists():
        EventLease.create(name=LEASE, holder="", expires_at=0)


def _v10_rsa_keys() -> None:
    """SPEC §13.2: the RSA password-transport keys live in the database, shared by every instance.

    Number 10: 9 is the events outbox.
    """
    from app.model.rsa_key import RsaKey

    db.create_tables([RsaKey], safe=True)


def _v11_phones_at_rest() -> None:
    """SPEC §13.3: phones encrypted in users.phone_enc, found by a blind index in users.phone; SMS
    codes keep only the index, the audit log a masked number. Rows already converted are skipped."""
    from peewee import TextField
    from playhouse.migrate import SchemaMigrator, migrate as alter

    from app.common import data_crypto
    from app.service.events import mask_phone
    from app.validate.base import BaseValidate

    if "phone_enc" not in {column.name for column in db.get_columns("users")}:
        alter(SchemaMigrator.from_database(db.obj).add_column("users", "phone_enc", TextField(null=True)))
    for uid, phone in db.execute_sql("SELECT id, phone FROM users").fetchall():
        if not data_crypto.is_index(phone):
            User.update(phone=phone, phone_index=phone).where(User.id == uid).execute()
    for row_id, phone in db.execute_sql("SELECT id, phone FROM sms_code").fetchall():
        if not data_crypto.is_index(phone):
            SmsCode.update(phone=phone).where(SmsCode.id == row_id).execute()
    for row_id, account in db.execute_sql("SELECT id, account FROM audit_log WHERE account IS NOT NULL").fetchall():
        if BaseValidate.mobile_pattern.fullmatch(account):
            AuditLog.update(account=mask_phone(account)).where(AuditLog.id == row_id).execute()


MIGRATIONS: list[tuple[int, Callable[[], None]]] = [
    (1, _v1_foundation),
    (2, _v2_sms_codes),
    (3, _v3_roles),
    (4, _v4_audit_log),
    (5, _v5_cache_table),
    (6, _v6_database_identity),
    (7, _v7_account_keys_nfkc),
    (8, _v8_account_lifecycle),
    (9, _v9_event_outbox),
    (10, _v10_rsa_keys),
    (11, _v11_phones_at_rest),
]


def current_version() -> int:
    """The newest migration applied (0 for an empty database)."""
    db.create_tables([SchemaVersion], safe=True)
    row = SchemaVersion.select(SchemaVersion.version).order_by(SchemaVersion.version.desc()).first()
    return row.version if row else 0


@contextlib.contextmanager
def migration_lock() -> Iterator[None]:
    """One migrating process at a time across instances: an advisory lock where the database has one.

    SQLite needs none: each step's IMMEDIATE transaction already holds the only write lock.
    """
    if isinstance(db.obj, MySQLDatabase):
        take, give = "SELECT GET_LOCK('login_api_migrate', 60)", "SELECT RELEASE_LOCK('login_api_migrate')"
    elif isinstance(db.obj, PostgresqlDatabase):
        take, give = "SELECT pg_advisory_lock(86130001)", "SELECT pg_advisory_unlock(86130001)"
    else:
        yield
        return
    db.execute_sql(take)
    try:
        yield
    finally:
        db.execute_sql(give)


def migrate() -> int:
    """Apply every pending migration; safe to run from several processes at once."""
    with migration_lock():
        return _apply_pending()


def _apply_pending() -> int:
    applied = 0
    for number, step in MIGRATIONS:
        # Each step re-checks the version inside its own write lock, so two workers never both apply it.
        with write_transaction():
            if current_version() >= number:
                continue
            step()
            SchemaVersion.create(version=number)
            applied += 1
            log.info("applied schema migration %d", number)
    return applied
