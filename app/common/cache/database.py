"""The cache in the main database: shared state for many instances on MySQL or PostgreSQL without Redis.

Each operation is a statement (or a one-row transaction) whose atomicity the database
guarantees by the primary key, the same way on MySQL and PostgreSQL: an insert either wins
the key or fails with IntegrityError, and an increment is one UPDATE holding the row lock.
Calls run in worker threads, since every one of them is a network round trip.
"""
from __future__ import annotations

from peewee import (
    Case,
    CharField,
    DoubleField,
    Expression,
    IntegerField,
    IntegrityError,
    MySQLDatabase,
    OperationalError,
)

from app.common.cache.base import LONGEST_KEY, Cache, stored_key
from app.common.clock import SYSTEM_CLOCK, Clock
from app.common.database import db_write, write_transaction
from app.model.base import BaseModel, db

_PURGE_EVERY = 2000


def create_cache_table() -> None:
    """Create cache_entry; on MySQL its keys compare as bytes (captcha ids are case-sensitive)."""
    # Set either way: the field is shared, and a process may create a MySQL table, then another kind.
    CacheEntry.key.collation = "utf8mb4_bin" if isinstance(db.obj, MySQLDatabase) else None
    db.create_tables([CacheEntry], safe=True)


class CacheEntry(BaseModel):
    key = CharField(max_length=LONGEST_KEY, primary_key=True)
    value = CharField(max_length=255)
    # Counters count here (an integer column is portable arithmetic); `value` mirrors it as text.
    count = IntegerField(default=0)
    expire_at = DoubleField(index=True)

    class Meta:
        table_name = "cache_entry"


def _live(key: str, now: float) -> Expression:
    return (CacheEntry.key == key) & (CacheEntry.expire_at > now)


def _deadlocked(exc: OperationalError) -> bool:
    """InnoDB may pick a transaction as a deadlock victim (or time it out) among racing ones."""
    return bool(exc.args) and exc.args[0] in (1205, 1213)


class DatabaseCache(Cache):
    def __init__(self, prefix: str = "", clock: Clock = SYSTEM_CLOCK) -> None:
        self._clock = clock
        # The table comes from a migration (5), which holds the migration lock: workers and
        # instances starting together must not race on CREATE TABLE (PostgreSQL can fail there).
        self._writes = 0
        self._prefix = prefix.encode("utf-8")

    def _key(self, key: str) -> str:
        # The whole key's bytes decide whether it is hashed, so an ASCII digest fits the column.
        return stored_key(self._prefix + key.encode("utf-8")).decode("utf-8")

    def _sweep(self, now: float) -> None:
        self._writes += 1
        if self._writes % _PURGE_EVERY == 0:
            CacheEntry.delete().where(CacheEntry.expire_at <= now).execute()

    @staticmethod
    def _insert(key: str, value: str, expire_at: float, count: int = 0) -> bool:
        try:
            CacheEntry.insert(key=key, value=value, count=count, expire_at=expire_at).execute()
            return True
        except IntegrityError:
            return False

    def _add(self, key: str, value: str, ttl: int) -> bool:
        now = self._clock.now()
        self._sweep(now)
        # Clear an expired holder first; then the primary key decides between racing inserts.
        CacheEntry.delete().where((CacheEntry.key == key) & (CacheEntry.expire_at <= now)).execute()
        return self._insert(key, value, now + ttl)

    async def add(self, key: str, value: str, ttl: int) -> bool:
        return await db_write(self._add, self._key(key), value, ttl)

    def _get(self, key: str) -> tuple[str, float] | None:
        row = CacheEntry.select(CacheEntry.value, CacheEntry.expire_at).where(_live(key, self._clock.now())).first()
        return (row.value, row.expire_at) if row else None

    async def get(self, key: str) -> str | None:
        row = await db_write(self._get, self._key(key))
        return row[0] if row else None

    def _set(self, key: str, value: str, ttl: int) -> None:
        expire_at = self._clock.now() + ttl
        for _ in range(5):
            if CacheEntry.update(value=value, expire_at=expire_at).where(CacheEntry.key == key).execute():
                return
            if self._insert(key, value, expire_at):
                return
        raise RuntimeError(f"cache set of {key!r} kept racing")

    async def set(self, key: str, value: str, ttl: int) -> None:
        await db_write(self._set, self._key(key), value, ttl)

    async def delete(self, key: str) -> bool:
        stored = self._key(key)
        return bool(await db_write(lambda: CacheEntry.delete().where(_live(stored, self._clock.now())).execute()))

    def _incr(self, key: str, ttl: int, amount: int) -> int:
        for _ in range(10):
            now = self._clock.now()
            try:
                with write_transaction():
                    # The UPDATE holds the row lock until commit, so the count read back is this call's.
                    if CacheEntry.update(count=CacheEntry.count + amount).where(_live(key, now)).execute():
                        count = CacheEntry.get_by_id(key).count
                        CacheEntry.update(value=str(count)).where(CacheEntry.key == key).execute()
                        return count
                self._sweep(now)
                # An expired counter starts a new window in place; a missing one is inserted.
                if (CacheEntry.update(count=amount, value=str(amount), expire_at=now + ttl)
                        .where((CacheEntry.key == key) & (CacheEntry.expire_at <= now)).execute()):
                    return amount
                if self._insert(key, str(amount), now + ttl, count=amount):
                    return amount
            except OperationalError as exc:
                if _deadlocked(exc):
                    continue
                raise
        raise RuntimeError(f"cache incr of {key!r} kept racing")

    def _decr(self, key: str, amount: int) -> int:
        for _ in range(10):
            try:
                with write_transaction():
                    # Only a live counter is touched (an ended window stays ended), never below zero.
                    lowered = Case(None, [(CacheEntry.count > amount, CacheEntry.count - amount)], 0)
                    if not CacheEntry.update(count=lowered).where(_live(key, self._clock.now())).execute():
                        return 0
                    count = CacheEntry.get_by_id(key).count
                    CacheEntry.update(value=str(count)).where(CacheEntry.key == key).execute()
                    return count
            except OperationalError as exc:
                if _deadlocked(exc):
                    continue
                raise
        raise RuntimeError(f"cache decr of {key!r} kept racing")

    async def incr(self, key: str, ttl: int, amount: int = 1) -> int:
        return await db_write(self._incr, self._key(key), ttl, amount)

    async def decr(self, key: str, amount: int = 1) -> int:
        return await db_write(self._decr, self._key(key), amount)

    async def ttl(self, key: str) -> int:
        row = await db_write(self._get, self._key(key))
        return max(0, int(row[1] - self._clock.now() + 0.999)) if row else 0

    def _swap(self, key: str, expected: str, value: str, ttl: int) -> bool:
        now = self._clock.now()
        with write_transaction():
            # The row lock taken here is held to commit, so a racing swap reads the winner's value.
            # The value is compared in Python: MySQL's default collation would call "A" equal to "a ".
            row = CacheEntry.select(CacheEntry.value).where(_live(key, now)).for_update().first()
            if row is None or row.value != expected:
                return False
            CacheEntry.update(value=value, expire_at=now + ttl).where(CacheEntry.key == key).execute()
            return True

    async def swap(self, key: str, expected: str, value: str, ttl: int) -> bool:
        return await db_write(self._swap, self._key(key), expected, value, ttl)
