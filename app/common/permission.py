"""Permission matching: `*` grants everything, `role/*` every action under `role/`, else exact."""
from __future__ import annotations

import re
from collections.abc import Iterable

# What a permission string may look like: `*`, `role/create`, `role/*`.
PERMISSION_PATTERN = re.compile(r"^(\*|[a-z0-9_.-]+(/[a-z0-9_.-]+)*(/\*)?)$")


def grants(permissions: Iterable[str], wanted: str) -> bool:
    """Whether any of `permissions` allows the action `wanted`."""
    for permission in permissions:
        if permission == "*" or permission == wanted:
            return True
        if permission.endswith("/*") and wanted.startswith(permission[:-1]):
            return True
    return False


# The admin API's permissions (SPEC §14), each named after its route without the `admin/` prefix.
# The built-in administrator holds `*`, so it has them all; a role may grant `user/*` or each alone.
ADMIN_PERMISSIONS: tuple[str, ...] = (
    "user/list", "user/disable", "user/enable", "user/sessions", "user/logout", "audit/list",
    "user/export", "audit/export",
    # Exports show phone numbers in full only to a caller who also holds this one.
    "user/export_pii",
)
