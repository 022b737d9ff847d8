"""SPEC §10 "Roles": nobody takes away what they could not give, and the last administrator stays.

Every function here runs inside the write transaction of the change it guards, after
`lock_role_changes()`, so what it reads is what the change is about to replace.
"""
from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator

from app.common.database import is_sqlite
from app.common.error import ApiException
from app.common.permission import grants
from app.model.role import Role
from app.model.user import User
from app.model.user_role import UserRole


def lock_role_changes() -> None:
    """Take the lock that serialises every change able to take `*` from someone.

    Call it first in the write transaction. Two admins demoting each other at once must not
    both see the other as "still an administrator" and both commit, leaving none.

    SQLite: `write_transaction` began with BEGIN IMMEDIATE, the database's one writer lock,
    so there is nothing more to take. MySQL and PostgreSQL: lock the built-in role's row
    (it always exists and is never deleted), which makes it a mutex for role changes only.
    Both run READ COMMITTED (see database.py), so every statement after the lock sees all
    that was committed before it was granted. The lock comes first all the same: under
    REPEATABLE READ a snapshot is fixed at the first plain read, and one taken before the
    wait would not see the change that was holding the lock.
    """
    if not is_sqlite():
        list(Role.select(Role.id).where(Role.builtin == 1).for_update())


def _holds(held: set[str], permission: str) -> bool:
    # `*` is covered only by `*`: `role/*` must not let anyone hand out or take away everything.
    return "*" in held if permission == "*" else grants(held, permission)


def require_holds(actor: int, permissions: Iterable[str]) -> None:
    """Refuse unless the actor holds every one of `permissions` (wildcards count, see `grants`)."""
    held = UserRole.permissions(actor)
    if not all(_holds(held, permission) for permission in set(permissions)):
        raise ApiException("PERMISSION_ESCALATION")


def active_admins() -> set[int]:
    """The ids of the active users (status 1) that hold `*` through any of their roles."""
    star_roles = [role.id for role in Role.select(Role.id, Role.permissions_json) if "*" in role.permissions]
    if not star_roles:
        return set()
    rows = (UserRole.select(UserRole.uid).join(User, on=(User.id == UserRole.uid))
            .where(UserRole.role_id.in_(star_roles), User.status == 1))
    return {row.uid for row in rows}


@contextlib.contextmanager
def keeps_an_admin() -> Iterator[None]:
    """Raise LAST_ADMIN if the writes inside leave no active `*` holder where there was one.

    The exception rolls back the surrounding transaction, so the change never shows. Where
    there was no active administrator before, the change cannot be the one that removed the last.
    """
    before = active_admins()
    yield
    if before and not active_admins():
        raise ApiException("LAST_ADMIN")
