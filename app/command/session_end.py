"""End a user's sessions: --user ACCOUNT|PHONE|ID [--sid SESSION]; their tokens fail at once."""
from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--user", required=True, help="account, phone or id of the user")
    parser.add_argument("--sid", help="end only this session (default: all of the user's sessions)")


def run(args: argparse.Namespace) -> int:
    from app.command.support import fail, find_user
    from app.common.database import write_transaction
    from app.model.audit_log import AuditLog
    from app.model.session import Session
    from app.model.token import Token
    from server import boot

    boot()
    user = find_user(args.user)
    query = Session.select(Session.id).where((Session.uid == user.id) & Session.revoked_at.is_null())
    if args.sid:
        query = query.where(Session.id == args.sid)
    sids = [row.id for row in query]
    if args.sid and not sids:
        fail(f"user {user.id} has no open session {args.sid!r}", 1)
    now = args.clock.seconds()
    with write_transaction():
        tokens = sum(Token.end_session(sid, now) for sid in sids)
        if sids:
            AuditLog.create(event="token", outcome="revoked", uid=user.id, ip="cli",
                            detail=f"session:end ended {len(sids)} session(s)")
    print(f"ended {len(sids)} session(s) of user {user.id} ({user.account}); {tokens} token(s) revoked")
    return 0
