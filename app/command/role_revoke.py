"""Take a role from a user: --user ACCOUNT|PHONE|ID --role NAME (effective on the next request)."""
from __future__ import annotations

import argparse

from app.command.role_grant import add_arguments  # the same options as role:grant

__all__ = ["add_arguments", "run"]


def run(args: argparse.Namespace) -> int:
    from app.command.support import find_role, find_user
    from app.model.audit_log import AuditLog
    from app.model.user_role import UserRole
    from server import boot

    boot()
    user, role = find_user(args.user), find_role(args.role)
    removed = UserRole.delete().where((UserRole.uid == user.id) & (UserRole.role_id == role.id)).execute()
    if removed:
        AuditLog.create(event="role", outcome="changed", ip="cli", detail=f"revoke role {role.name} from user {user.id}")
    print(f"revoked role {role.name} from user {user.id} ({user.account})" if removed
          else f"user {user.id} ({user.account}) did not have role {role.name}")
    return 0
