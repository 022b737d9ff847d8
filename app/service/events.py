"""Events (队列, SPEC §14): recorded in an outbox in the same transaction as the change they report.

    emit("role.changed", {...})   INSIDE the caller's write transaction: the event exists if and
                                  only if the change was committed (a rollback takes both back)
    await publish(type, {...})    for a change whose state is not in the database (login.failed,
                                  account.locked live in the cache): a transaction of its own

Both do nothing unless WEBHOOK_URL is set. app/service/event_consumer.py delivers the outbox to
the webhook, in order, one consumer at a time. `data` goes to another system: identifiers and
masked values only, never a password, code, token, secret or phone number in the clear
(`mask_phone`).
"""
from __future__ import annotations

import json
import logging
from typing import Any

from app.common.clock import SYSTEM_CLOCK
from app.common.database import db_write, write_transaction
from app.model.event_outbox import EventOutbox
from config import Settings

log = logging.getLogger("login_api.events")

# The lease row's name (event_lease): one consumer for the webhook.
LEASE = "webhook"
TYPES = frozenset({"user.registered", "login.succeeded", "login.failed", "account.locked", "session.ended",
                   "password.changed", "phone.changed", "account.deleted", "role.changed"})

_enabled = False


def configure(settings: Settings) -> None:
    """Events are recorded only when a webhook will receive them (called by server.boot)."""
    global _enabled
    _enabled = bool(settings.WEBHOOK_URL)


def enabled() -> bool:
    return _enabled


def mask_phone(phone: str | None) -> str | None:
    """`138****8000`: enough to recognise a number, not to use it."""
    if not phone:
        return phone
    return phone[:3] + "****" + phone[-4:] if len(phone) >= 8 else "****"


def emit(event_type: str, data: dict[str, Any]) -> None:
    """Record an event in the outbox; call it inside the write transaction of the change it reports."""
    if not _enabled:
        return
    if event_type not in TYPES:
        raise ValueError(f"unknown event type {event_type!r}")
    EventOutbox.create(type=event_type, at=SYSTEM_CLOCK.millis(),
                       data=json.dumps(data, ensure_ascii=False, separators=(",", ":"), sort_keys=True))


def _emit_alone(event_type: str, data: dict[str, Any]) -> None:
    with write_transaction():
        emit(event_type, data)


async def publish(event_type: str, data: dict[str, Any]) -> None:
    """Record an event in a transaction of its own; a failure is logged, the request goes on."""
    if not _enabled:
        return
    try:
        await db_write(_emit_alone, event_type, data)
    except Exception:  # noqa: BLE001 - like the audit log: the decision stands without its event
        log.exception("could not record the event %s", event_type)
