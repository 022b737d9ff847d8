"""Grant a role to a user: --user ACCOUNT|PHONE|ID --role NAME."""
from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--user", required=True, help="account, phone or id of the user")
    parser.add_argument("--role", required=True, help="role name, e.g. admin")


def run(args: argparse.Namespace) -> int:
    from app.command.support import find_role, find_user
    from app.model.user_role import UserRole
    from server import boot

    boot()
    user, role = find_user(args.user), find_role(args.role)
    if UserRole.select().where((UserRole.uid == user.id) & (UserRole.role_id == role.id)).exists():
        print(f"user {user.id} ({user.account}) already has role {role.name}")
        return 0
    UserRole.create(uid=user.id, role_id=role.id)
    print(f"granted role {role.name} to user {user.id} ({user.account})")
    return 0
