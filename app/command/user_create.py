"""Create a user: --account NAME --phone PHONE --password PASS."""
from __future__ import annotations

import argparse
import sys

from peewee import IntegrityError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--account", required=True, help="account name (unique, any case)")
    parser.add_argument("--phone", required=True, help="phone number (unique, matches PHONE_PATTERN)")
    parser.add_argument("--password", required=True, help="password, 6-32 letters, digits or _")


def run(args: argparse.Namespace) -> int:
    from app.common.error import ApiException
    from app.common.password import Passwords
    from app.model.user import User, account_key
    from app.validate.user import UserCreate
    from server import boot

    settings = boot()
    try:
        data = UserCreate().check(vars(args), scene="admin")
    except ApiException as exc:
        print(f"error: {exc.fields['reason'].en}", file=sys.stderr)
        return 2
    passwords = Passwords(settings.PASSWORD_TIME_COST, settings.PASSWORD_MEMORY_COST,
                          settings.PASSWORD_PARALLELISM, 1)
    try:
        user = User.create(account=data["account"], account_key=account_key(data["account"]),
                           phone=data["phone"], password_hash=passwords.hash_sync(data["password"]))
    except IntegrityError:
        taken = User.find_by_identity(data["account"]) or User.find_by_identity(data["phone"])
        what = "account" if taken and taken.account_key == account_key(data["account"]) else "phone"
        print(f"error: that {what} is already registered", file=sys.stderr)
        return 1
    finally:
        passwords.close()
    print(f"created user {user.id}: account {user.account}, phone {user.phone}")
    return 0
