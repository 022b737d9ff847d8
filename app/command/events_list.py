"""List the events waiting in the outbox for the webhook (oldest first), and who delivers them."""
from __future__ import annotations

import argparse
import time


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--limit", type=int, default=50, help="show at most this many (default 50)")


def run(args: argparse.Namespace) -> int:
    from app.model.event_outbox import EventLease, EventOutbox
    from app.service.events import LEASE
    from server import boot

    settings = boot()
    pending = EventOutbox.select().count()
    lease = EventLease.get_or_none(EventLease.name == LEASE)
    print(f"{pending} event(s) pending"
          + ("" if settings.WEBHOOK_URL else " (WEBHOOK_URL is unset: none are recorded)"))
    if lease is not None and lease.holder:
        state = "holds" if lease.expires_at > args.clock.millis() else "held (expired)"
        print(f"consumer: {lease.holder} {state} the lease until {_when(lease.expires_at)}")
    for event in EventOutbox.select().order_by(EventOutbox.id).limit(args.limit):
        error = f"  last error: {event.last_error}" if event.last_error else ""
        print(f"{event.id:>8}  {_when(event.at)}  {event.type:<16} attempts={event.attempts}  {event.data}{error}")
    return 0


def _when(ms: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ms / 1000))
