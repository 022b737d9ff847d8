"""Set a user's password: --user ACCOUNT|PHONE|ID [--password PASS, else asked]; their sessions end."""
from __future__ import annotations

import argparse
import getpass
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--user", required=True, help="account, phone or id of the user")
    parser.add_argument("--password", help="the new password, 6-32 letters, digits or _ (default: asked, "
                                           "or read from standard input when it is not a terminal)")


def read_password(given: str | None) -> str:
    """The password from the option, a prompt (twice, on a terminal) or the first line of stdin."""
    from app.command.support import fail

    if given is not None:
        return given
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("new password: ")
    if getpass.getpass("again: ") != first:
        fail("the passwords do not match")
    return first


def run(args: argparse.Namespace) -> int:
    from app.command.support import fail, find_user, refusal
    from app.common.error import ApiException
    from app.common.password import Passwords
    from app.model.audit_log import AuditLog
    from app.service.account import set_password_sync
    from app.validate.user import UserCreate
    from server import boot

    settings = boot()
    user = find_user(args.user)
    password = read_password(args.password)
    try:
        UserCreate().check({"password": password}, scene="password")
    except ApiException as exc:
        fail(refusal(exc))
    passwords = Passwords(settings.PASSWORD_TIME_COST, settings.PASSWORD_MEMORY_COST,
                          settings.PASSWORD_PARALLELISM, 1)
    try:
        ended = set_password_sync(user.id, passwords.hash_sync(password), args.clock.seconds())
    finally:
        passwords.close()
    AuditLog.create(event="password", outcome="changed", uid=user.id, ip="cli",
                    detail=f"user:password ended {ended} session(s)")
    print(f"set the password of user {user.id} ({user.account}); ended {ended} session(s)")
    return 0
