"""Shared by the admin commands: finding a user and failing with a clear message."""
from __future__ import annotations

import sys
from typing import NoReturn


def fail(message: str, status: int = 2) -> NoReturn:
    print(f"error: {message}", file=sys.stderr)
    raise SystemExit(status)


def find_user(identity: str):
    """The user whose account (any case), phone or numeric id is `identity`, or exit with an error."""
    from app.model.user import User

    user = User.find_by_identity(identity)
    if user is None and identity.isdigit() and len(identity) < 10:
        user = User.get_or_none(User.id == int(identity))
    if user is None:
        fail(f"no user {identity!r} (give an account, a phone or an id)", 1)
    return user


def find_role(name: str):
    from app.model.role import Role

    role = Role.get_or_none(Role.name == name)
    if role is None:
        fail(f"no role named {name!r}", 1)
    return role
