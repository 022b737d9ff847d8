"""List a user's login sessions: --user ACCOUNT|PHONE|ID [--all to include ended ones]."""
from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--user", required=True, help="account, phone or id of the user")
    parser.add_argument("--all", action="store_true", help="include ended and expired sessions")


def run(args: argparse.Namespace) -> int:
    from app.command.support import find_user
    from app.common.clock import format_time
    from app.model.session import Session
    from server import boot

    settings = boot()
    user = find_user(args.user)
    now = args.clock.seconds()
    query = Session.select().where(Session.uid == user.id).order_by(Session.created_at.desc())
    if not args.all:
        query = query.where(Session.revoked_at.is_null() & (Session.expire_at > now))
    rows = list(query)
    print(f"{len(rows)} session(s) of user {user.id} ({user.account})")
    for session in rows:
        state = "ended" if session.revoked_at else ("expired" if session.expire_at <= now else "live")
        print(f"  {session.id}  {state:<7}  from {format_time(session.created_at, settings.APP_TIMEZONE)}"
              f"  until {format_time(session.expire_at, settings.APP_TIMEZONE)}")
    return 0
