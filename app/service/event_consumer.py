"""The one consumer of the events outbox: delivers each event to WEBHOOK_URL, in order, until 2xx.

Every worker of every instance runs one, but only the holder of the lease (the event_lease row)
delivers: the lease is taken and renewed with a conditional UPDATE (`… WHERE holder = me OR
expires_at < now`) whose row count says who has it, which works alike on SQLite, MySQL and
PostgreSQL without Redis. The holder renews it before each delivery and while it waits to retry;
a holder that dies stops renewing, and after EVENTS_LEASE_TTL another process takes over. A
delivery lasts at most WEBHOOK_TIMEOUT, under half the lease, so it ends before a takeover.

An event leaves the outbox only when the receiver has answered 2xx, so a crash or a restart loses
none; one that was in flight when its consumer died is delivered again by the next, which is
why receivers deduplicate by `id`. Delivery is head-of-line: while the oldest event fails, the
later ones wait behind it (retried with exponential backoff), so they arrive in order.
"""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import os
import secrets
import socket
import time
import urllib.error
import urllib.request
from typing import Any

import anyio.to_thread

from app.common.clock import SYSTEM_CLOCK, Clock
from app.common.database import db_write
from app.model.event_outbox import EventLease, EventOutbox
from app.service.events import LEASE
from config import Settings

log = logging.getLogger("login_api.events")


def take_lease(holder: str, ttl_ms: int, now: int) -> bool:
    """Take or renew the lease at `now` (ms); True while `holder` has it. A read first, so waiters do not write."""
    row = EventLease.get_or_none(EventLease.name == LEASE)
    if row is None or (row.holder != holder and row.expires_at >= now):
        return False
    taken: int = (EventLease.update(holder=holder, expires_at=now + ttl_ms)
                  .where((EventLease.name == LEASE) & ((EventLease.holder == holder) | (EventLease.expires_at < now)))
                  .execute())  # rows changed
    return taken == 1


def release_lease(holder: str) -> None:
    """Give the lease up at shutdown, so another process need not wait for it to expire."""
    EventLease.update(expires_at=0).where((EventLease.name == LEASE) & (EventLease.holder == holder)).execute()


def oldest_event() -> EventOutbox | None:
    event: EventOutbox | None = EventOutbox.select().order_by(EventOutbox.id).first()
    return event


def acknowledge(event_id: int) -> None:
    EventOutbox.delete().where(EventOutbox.id == event_id).execute()


def record_failure(event_id: int, error: str) -> None:
    EventOutbox.update(attempts=EventOutbox.attempts + 1, last_error=error[:255]).where(
        EventOutbox.id == event_id).execute()


def payload(event: EventOutbox) -> bytes:
    """The body POSTed: {id, type, at (ISO 8601, UTC), data}."""
    at = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(event.at / 1000)) + f".{event.at % 1000:03d}Z"
    body = {"id": event.id, "type": event.type, "at": at, "data": json.loads(event.data)}
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer other than 2xx: retried later, never followed (urllib would turn the
    POST into a GET without the body, and the event would count as delivered)."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


def _post(url: str, body: bytes, headers: dict[str, str], timeout: float) -> int:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            status: int = response.status  # an HTTPResponse (typeshed leaves open()'s result Any)
            return status
    except urllib.error.HTTPError as exc:
        return exc.code


class EventConsumer:
    def __init__(self, settings: Settings, clock: Clock = SYSTEM_CLOCK):
        self.settings = settings
        self.clock = clock
        self.holder = f"{socket.gethostname()[:48]}:{os.getpid()}:{secrets.token_hex(4)}"
        self._ttl_ms = int(settings.EVENTS_LEASE_TTL * 1000)
        self._task: asyncio.Task[None] | None = None
        # Set by stop() before it cancels: a cancellation that a step swallows (Python 3.11's
        # asyncio.wait_for could, when its future finished at the same moment) must not keep the
        # loop going, or the app's shutdown waits for it forever.
        self._stopping = False

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        if self._task is None:
            return
        self._stopping = True
        self._task.cancel()
        try:
            await self._task
        except asyncio.CancelledError:
            pass
        try:
            await db_write(release_lease, self.holder)
        except Exception as exc:  # noqa: BLE001 - the lease then simply expires
            log.warning("could not release the events lease: %s", exc)

    async def _run(self) -> None:
        settings = self.settings
        wait = settings.WEBHOOK_RETRY_MIN
        while not self._stopping:
            try:
                if not await db_write(take_lease, self.holder, self._ttl_ms, self.clock.millis()):
                    await asyncio.sleep(settings.EVENTS_POLL)
                    continue
                event = await db_write(oldest_event)
                if event is None:
                    await asyncio.sleep(settings.EVENTS_POLL)
                    continue
                error = await self.deliver(event)
                if error is None:
                    await db_write(acknowledge, event.id)
                    wait = settings.WEBHOOK_RETRY_MIN
                    continue
                await db_write(record_failure, event.id, error)
                log.warning("event %d (%s) not delivered: %s; retry in %.1fs", event.id, event.type, error, wait)
                await self._hold_for(wait)
                wait = min(wait * 2, settings.WEBHOOK_RETRY_MAX)
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - the database may be away; the events wait in the outbox
                if self._stopping:
                    return
                log.exception("event consumer: retrying in %.1fs", settings.EVENTS_POLL)
                await asyncio.sleep(settings.EVENTS_POLL)

    async def deliver(self, event: EventOutbox) -> str | None:
        """POST one event; None when the receiver answered 2xx, else what went wrong."""
        body = payload(event)
        signature = hmac.new(self.settings.WEBHOOK_SECRET.encode("utf-8"), body, hashlib.sha256).hexdigest()
        headers = {"Content-Type": "application/json", "X-Webhook-Signature": f"sha256={signature}",
                   "User-Agent": "login-api-events"}
        timeout = self.settings.WEBHOOK_TIMEOUT
        try:
            # In a thread, so the service's own requests go on meanwhile; abandoned after the timeout.
            async with asyncio.timeout(timeout):  # unlike wait_for in 3.11, never swallows a cancellation
                status = await anyio.to_thread.run_sync(
                    _post, self.settings.WEBHOOK_URL, body, headers, timeout, abandon_on_cancel=True)
        except TimeoutError:
            return f"no answer in {timeout}s"
        except Exception as exc:  # noqa: BLE001 - refused, reset, DNS…: all retried
            return f"{type(exc).__name__}: {exc}"
        return None if 200 <= status < 300 else f"HTTP {status}"

    async def _hold_for(self, seconds: float) -> None:
        """Wait before a retry, renewing the lease meanwhile, so the order is kept by one holder."""
        deadline = time.monotonic() + seconds
        step = self.settings.EVENTS_LEASE_TTL / 3
        while not self._stopping and (left := deadline - time.monotonic()) > 0:
            await asyncio.sleep(min(step, left))
            if not await db_write(take_lease, self.holder, self._ttl_ms, self.clock.millis()):
                return
