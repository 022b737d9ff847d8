"""The events outbox (队列) and the lease of its one consumer (app/service/events.py, event_consumer.py)."""
from __future__ import annotations

from peewee import AutoField, BigIntegerField, CharField, IntegerField, TextField

from app.model.base import BaseModel


class EventOutbox(BaseModel):
    """One event not yet acknowledged by the webhook; deleted once the receiver answered 2xx."""

    # Never reused (AUTOINCREMENT on SQLite), so receivers can deduplicate by it; delivery order.
    id = AutoField()
    type = CharField(max_length=32)
    # When the change happened: Unix time in milliseconds.
    at = BigIntegerField()
    # The event's `data` as JSON text: identifiers and masked values, never a secret.
    data = TextField()
    attempts = IntegerField(default=0)
    last_error = CharField(max_length=255, null=True)

    class Meta:
        table_name = "event_outbox"


class EventLease(BaseModel):
    """Who delivers events now: taken and renewed with conditional UPDATEs (no locks, any database)."""

    name = CharField(max_length=32, primary_key=True)
    holder = CharField(max_length=96, default="")
    # Unix time in milliseconds after which another process may take the lease over.
    expires_at = BigIntegerField(default=0)

    class Meta:
        table_name = "event_lease"
