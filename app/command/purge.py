"""Delete expired tokens, sessions and SMS codes (they are refused anyway; this keeps tables small)."""
from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--grace", type=int, default=86400,
                        help="keep rows this many seconds past their expiry (default 86400)")


def run(args: argparse.Namespace) -> int:
    from app.common.database import write_transaction
    from app.model.session import Session
    from app.model.sms_code import SmsCode
    from app.model.token import Token
    from server import boot

    boot()
    cutoff = args.clock.seconds() - max(0, args.grace)
    with write_transaction():
        tokens = Token.delete().where(Token.expire_at < cutoff).execute()
        # A session goes once it has expired and no token of it is left.
        sessions = (Session.delete().where((Session.expire_at < cutoff)
                                           & ~Session.id.in_(Token.select(Token.sid))).execute())
        codes = SmsCode.delete().where(SmsCode.expire_at < cutoff).execute()
    print(f"purged {tokens} tokens, {sessions} sessions, {codes} SMS codes that expired before {cutoff}")
    return 0
