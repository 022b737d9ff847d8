"""List the audit log, newest first: [--user ACCOUNT|PHONE|ID] [--event login] [--limit 50]."""
from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--user", help="only this user's entries (account, phone or id)")
    parser.add_argument("--event", help="only this event: login, token, sms, register, role")
    parser.add_argument("--limit", type=int, default=50, help="at most this many entries (default 50)")


def run(args: argparse.Namespace) -> int:
    from app.command.support import find_user
    from app.common.clock import format_time
    from app.model.audit_log import AuditLog
    from app.service.audit import printable
    from server import boot

    settings = boot()
    query = AuditLog.select().order_by(AuditLog.id.desc()).limit(max(1, args.limit))
    if args.user:
        user = find_user(args.user)
        query = query.where(AuditLog.uid == user.id)
    if args.event:
        query = query.where(AuditLog.event == args.event)
    for entry in query:
        # Escaped again on the way out: rows written before the log escaped typed names are raw.
        who = f"uid={entry.uid}" if entry.uid else f"account={printable(entry.account) or '-'}"
        print(f"{format_time(entry.created_at, settings.APP_TIMEZONE)}  {entry.event:<9} {entry.outcome:<9} "
              f"{who:<24} ip={printable(entry.ip) or '-':<16} {printable(entry.detail) or ''}".rstrip())
    return 0
