"""Take a role from a user: --user ACCOUNT|PHONE|ID --role NAME (effective on the next request)."""
from __future__ import annotations

import argparse

from app.command.role_grant import add_arguments  # the same options as role:grant

__all__ = ["add_arguments", "run"]


def run(args: argparse.Namespace) -> int:
    from app.command.support import fail, find_role, find_user
    from app.common.database import write_transaction
    from app.common.error import ApiException
    from app.model.audit_log import AuditLog
    from app.model.user_role import UserRole
    from app.service import events
    from app.service.role_guard import keeps_an_admin, lock_role_changes
    from server import boot

    boot()
    user, role = find_user(args.user), find_role(args.role)
    # The operator is not bound by the API's caller rules, but the last administrator stays
    # (SPEC §10): a service nobody can administer is only repaired by editing the database.
    try:
        with write_transaction():
            lock_role_changes()
            with keeps_an_admin():
                removed = UserRole.delete().where((UserRole.uid == user.id) & (UserRole.role_id == role.id)).execute()
            if removed:
                AuditLog.create(event="role", outcome="changed", ip="cli",
                                detail=f"revoke role {role.name} from user {user.id}")
                events.emit("role.changed", {"action": "revoke", "uid": user.id, "role_id": role.id, "by": None})
    except ApiException as exc:
        if exc.answer.name != "LAST_ADMIN":
            raise
        fail(f"user {user.id} ({user.account}) is the last active administrator; "
             f"grant the {role.name} role to another user first", 1)
    print(f"revoked role {role.name} from user {user.id} ({user.account})" if removed
          else f"user {user.id} ({user.account}) did not have role {role.name}")
    return 0
