"""Create a user: --account NAME --phone PHONE --password PASS [--admin for the administrator role]."""
from __future__ import annotations

import argparse
import sys

from peewee import IntegrityError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--account", required=True, help="account name (unique, any case)")
    parser.add_argument("--phone", required=True, help="phone number (unique, matches PHONE_PATTERN)")
    parser.add_argument("--password", required=True, help="password, 6-32 letters, digits or _")
    parser.add_argument("--admin", action="store_true", help="give the user the built-in administrator role")


def run(args: argparse.Namespace) -> int:
    from app.command.support import refusal
    from app.common.database import write_transaction
    from app.common.error import ApiException
    from app.common.password import Passwords
    from app.model.role import ADMIN_ROLE, Role
    from app.model.user import User, account_key
    from app.model.user_role import UserRole
    from app.validate.user import UserCreate
    from server import boot

    settings = boot()
    try:
        data = UserCreate().check(vars(args), scene="admin")
    except ApiException as exc:
        print(f"error: {refusal(exc)}", file=sys.stderr)
        return 2
    passwords = Passwords(settings.PASSWORD_TIME_COST, settings.PASSWORD_MEMORY_COST,
                          settings.PASSWORD_PARALLELISM, 1)
    try:
        with write_transaction():
            user = User.create(account=data["account"], account_key=account_key(data["account"]),
                               phone=data["phone"], password_hash=passwords.hash_sync(data["password"]))
            if args.admin:
                UserRole.create(uid=user.id, role_id=Role.get(Role.name == ADMIN_ROLE).id)
    except IntegrityError:
        taken = User.find_by_identity(data["account"]) or User.find_by_identity(data["phone"])
        what = "account" if taken and taken.account_key == account_key(data["account"]) else "phone"
        print(f"error: that {what} is already registered", file=sys.stderr)
        return 1
    finally:
        passwords.close()
    role = " with the administrator role" if args.admin else ""
    print(f"created user {user.id}: account {user.account}, phone {user.phone}{role}")
    return 0
