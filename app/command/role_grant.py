"""Grant a role to a user: --user ACCOUNT|PHONE|ID --role NAME."""
from __future__ import annotations

import argparse

from peewee import IntegrityError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--user", required=True, help="account, phone or id of the user")
    parser.add_argument("--role", required=True, help="role name, e.g. admin")


def run(args: argparse.Namespace) -> int:
    from app.command.support import find_role, find_user
    from app.common.database import write_transaction
    from app.model.audit_log import AuditLog
    from app.model.user_role import UserRole
    from app.service import events
    from server import boot

    boot()
    user, role = find_user(args.user), find_role(args.role)
    try:
        with write_transaction():
            UserRole.create(uid=user.id, role_id=role.id)
            AuditLog.create(event="role", outcome="changed", ip="cli",
                            detail=f"grant role {role.name} to user {user.id}")
            events.emit("role.changed", {"action": "grant", "uid": user.id, "role_id": role.id, "by": None})
    except IntegrityError:  # the unique (uid, role_id) index: granted already, perhaps a moment ago
        print(f"user {user.id} ({user.account}) already has role {role.name}")
        return 0
    print(f"granted role {role.name} to user {user.id} ({user.account})")
    return 0
