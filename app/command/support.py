"""Shared by the admin commands: finding a user and failing with a clear message."""
from __future__ import annotations

import sys
from typing import TYPE_CHECKING, NoReturn

if TYPE_CHECKING:
    from app.common.error import ApiException
    from app.model.role import Role
    from app.model.user import User


def fail(message: str, status: int = 2) -> NoReturn:
    print(f"error: {message}", file=sys.stderr)
    raise SystemExit(status)


def refusal(exc: ApiException) -> str:
    """Why the input was refused, in English: the failing rule's sentence, else the answer's message."""
    from app.common.text import Text

    reason = exc.fields.get("reason")
    return reason.en if isinstance(reason, Text) else exc.answer.en


def find_user(identity: str) -> User:
    """The user whose account (any case), phone or numeric id is `identity`, or exit with an error."""
    from app.model.user import User

    user = User.find_by_identity(identity)
    if user is None and identity.isdigit() and len(identity) < 10:
        user = User.get_or_none(User.id == int(identity))
    if user is None:
        fail(f"no user {identity!r} (give an account, a phone or an id)", 1)
    return user


def find_role(name: str) -> Role:
    from app.model.role import Role

    role = Role.get_or_none(Role.name == name)
    if role is None:
        fail(f"no role named {name!r}", 1)
    return role
