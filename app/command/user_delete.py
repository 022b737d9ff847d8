"""Delete a user: --user ACCOUNT|PHONE|ID; their sessions end, account and phone are free again."""
from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--user", required=True, help="account, phone or id of the user")


def run(args: argparse.Namespace) -> int:
    import sys

    from app.command.support import find_user
    from app.common.error import ApiException
    from app.model.audit_log import AuditLog
    from app.service.account import delete_user_sync
    from server import boot

    boot()
    user = find_user(args.user)
    try:
        delete_user_sync(user.id, args.clock.seconds())
    except ApiException as exc:  # LAST_ADMIN: the only active administrator stays
        print(f"error: {exc.answer.en}; grant the administrator role to someone else first", file=sys.stderr)
        return 1
    # The audit log keeps the uid and the event, not the phone (SPEC §11).
    AuditLog.create(event="account", outcome="deleted", uid=user.id, ip="cli", detail="user:delete")
    print(f"deleted user {user.id}; its sessions ended")
    return 0
