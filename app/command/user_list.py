"""List users: id, account, phone, status and role names."""
from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--limit", type=int, default=100, help="at most this many users (default 100)")


def run(args: argparse.Namespace) -> int:
    from app.common.clock import format_time
    from app.model.role import Role
    from app.model.user import User
    from app.model.user_role import UserRole
    from server import boot

    settings = boot()
    print(f"{'id':>6}  {'account':<20} {'phone':<14} {'status':<8} {'created':<19}  roles")
    # Deleted accounts stay as tombstones (app/service/account.py); they are nobody's to list.
    for user in User.select().where(User.status >= 0).order_by(User.id).limit(max(1, args.limit)):
        roles = [r.name for r in Role.select(Role.name).join(UserRole, on=(UserRole.role_id == Role.id))
                 .where(UserRole.uid == user.id).order_by(Role.id)]
        created = format_time(user.created_at, settings.APP_TIMEZONE)
        status = "active" if user.status == 1 else "disabled"
        print(f"{user.id:>6}  {user.account:<20} {user.phone:<14} {status:<8} {created}  {','.join(roles) or '-'}")
    return 0
