"""Permission matching (app.common.permission): `*`, exact names, `prefix/*`, and the permission pattern."""
from __future__ import annotations

import pytest

from app.common.permission import PERMISSION_PATTERN, grants

# (permissions held, action wanted, granted)
CASES = [
    (["*"], "role/create", True),
    (["*"], "anything/at/all", True),
    (["role/list"], "role/list", True),
    (["role/list"], "role/create", False),
    (["role/list"], "role/lis", False),
    (["role/list"], "role/list/x", False),
    (["role/lis"], "role/list", False),
    (["role/*"], "role/list", True),
    (["role/*"], "role/create", True),
    (["role/*"], "role/a/b", True),
    (["role/*"], "roles/x", False),          # no partial-word match
    (["role/*"], "rolex/list", False),
    (["role/*"], "role", False),             # the prefix itself is no action under it
    (["role/*"], "user/role/list", False),
    (["role/*"], "xrole/list", False),
    (["a/b/*"], "a/b/c", True),
    (["a/b/*"], "a/bc/d", False),
    (["a/b/*"], "a/c", False),
    ([], "role/list", False),
    ([], "", False),
    (["user/list", "role/update"], "role/update", True),
    (["user/list", "role/update"], "role/delete", False),
    (["role/list", "*"], "x/y", True),
    # `*` only counts on its own or as a whole final segment
    (["role*"], "role/list", False),
    (["role/li*"], "role/list", False),
    (["*/list"], "role/list", False),
    # matching is exact in case: the router lower-cases paths before asking
    (["Role/List"], "role/list", False),
]


@pytest.mark.parametrize("held, wanted, granted", CASES)
def test_grants(held: list[str], wanted: str, granted: bool) -> None:
    assert grants(held, wanted) is granted


def test_grants_accepts_any_iterable() -> None:
    assert grants({"role/list"}, "role/list")
    assert grants((p for p in ["x/y", "role/*"]), "role/user")
    assert not grants(iter(()), "role/list")


VALID = ["*", "role", "role/create", "role/*", "a/b/c", "a/b/*", "user_role/list", "v1.2/x-y", "0/9"]
INVALID = [
    "", " ", "role/ list", "role /list", " role/list", "role/list ", "role/list\n", "Role/list", "ROLE/*",
    "role/", "/role", "role//list", "role/**", "**", "*/role", "role*", "role/li*", "*role", "role/*/x",
    "角色/列表", "role\\list", "role/list?x=1", "role:list", "role/*/",
]


@pytest.mark.parametrize("permission", VALID)
def test_pattern_accepts(permission: str) -> None:
    assert PERMISSION_PATTERN.fullmatch(permission)


@pytest.mark.parametrize("permission", INVALID)
def test_pattern_refuses(permission: str) -> None:
    assert PERMISSION_PATTERN.fullmatch(permission) is None


def test_pattern_refuses_trailing_newline_with_match() -> None:
    # `$` matches before a final newline; the validator uses fullmatch, which does not
    assert PERMISSION_PATTERN.fullmatch("role/list\n") is None
