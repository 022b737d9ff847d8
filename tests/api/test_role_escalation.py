"""SPEC §10 "Roles": nobody takes away what they could not give (issue 12, item 1).

A caller holding part of the role API meets users and roles that hold more than it does. Every
change it could not have granted itself is refused (PERMISSION_ESCALATION) and changes nothing;
a change within what it holds goes through. The built-in role is frozen, title included, and
role titles are plain text.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.api.test_roles import (
    PARAM_INVALID,
    ROLE_PROTECTED,
    call,
    jwt_login,
    md5_login,
    ok,
    refused,
    unique,
    unique_phone,
)
from tests.conftest import PASSWORD, Server
from tests.support import Client, expect_ok

ESCALATION = (60033, 50015, 403)
ADMIN = "the built-in administrator role"  # a target user holding role 1 (`*`)


@pytest.fixture(scope="module")
def root(server: Server) -> dict[str, Any]:
    uid = server.create_user("root", "13900000001", PASSWORD, admin=True)
    client = Client(server.url)
    return {"uid": uid, "v2": jwt_login(client, "root")[0], "v1": md5_login(client, "root")}


@pytest.fixture(scope="module")
def make_role(server: Server, root: dict[str, Any]) -> Callable[[list[str]], int]:
    client = Client(server.url)

    def make(permissions: list[str]) -> int:
        body = {"name": unique("r"), "title": "A role", "permissions": permissions}
        return ok(client, "v2", "create", body, root["v2"], status=201)["id"]
    return make


@pytest.fixture(scope="module")
def make_user(server: Server, root: dict[str, Any], make_role: Any) -> Callable[[Any], int]:
    """A fresh user holding one role with these permissions (or the built-in role, for ADMIN)."""
    client = Client(server.url)

    def make(permissions: Any) -> int:
        uid = server.create_user(unique("u"), unique_phone(), PASSWORD, admin=permissions == ADMIN)
        if permissions != ADMIN:
            ok(client, "v2", "assign", {"uid": uid, "rid": [make_role(permissions)]}, root["v2"])
        return uid
    return make


@pytest.fixture(scope="module")
def caller(server: Server, make_user: Any) -> Callable[[list[str], str], str]:
    """The token (for the version) of a user holding exactly these permissions, one user per set."""
    made: dict[tuple[str, ...], dict[str, str]] = {}

    def token(permissions: list[str], version: str) -> str:
        key = tuple(sorted(permissions))
        if key not in made:
            uid = make_user(permissions)
            account = server.query("SELECT account FROM users WHERE id = ?", uid)[0][0]
            client = Client(server.url)
            made[key] = {"v2": jwt_login(client, account)[0], "v1": md5_login(client, account)}
        return made[key][version]
    return token


def role_row(server: Server, role_id: int) -> list[tuple]:
    return server.query("SELECT name, title, permissions_json FROM role WHERE id = ?", role_id)


def user_roles(server: Server, uid: int) -> list[tuple]:
    return server.query("SELECT role_id FROM user_role WHERE uid = ? ORDER BY role_id", uid)


OK = None
# (case, version, caller holds, action, target holds, change, expected)
# assign: the target is a user holding a role with those permissions; the change lists the
#   permissions of fresh roles that become the user's roles (rid). update/delete: the target is
#   a role with those permissions; an update's change is its body.
CASES: list[tuple[str, str, list[str], str, Any, Any, Any]] = [
    ("assign: strip the administrator (issue 12)", "v2", ["role/assign", "role/user"], "assign", ADMIN, [], ESCALATION),
    ("assign: strip the administrator, v1", "v1", ["role/assign", "role/user"], "assign", ADMIN, [], ESCALATION),
    ("assign: swap the administrator's role", "v2", ["role/assign", "role/list"], "assign", ADMIN, [["role/list"]],
     ESCALATION),
    ("assign: strip a role manager", "v1", ["role/assign"], "assign", ["role/*"], [], ESCALATION),
    ("assign: a user holding more keeps it", "v2", ["role/assign", "role/list"], "assign", ["role/list", "x/y"],
     [["role/list"]], ESCALATION),
    ("assign: role/* is not *", "v2", ["role/*"], "assign", ["*"], [], ESCALATION),
    ("assign: give what the caller holds", "v2", ["role/assign", "role/list"], "assign", [], [["role/list"]], OK),
    ("assign: take back what the caller holds", "v1", ["role/assign", "role/list"], "assign", ["role/list"], [], OK),
    ("assign: role/* covers role/list and role/create", "v2", ["role/*"], "assign", ["role/list", "role/create"],
     [["role/user"]], OK),
    ("update: rewrite a * role (issue 12)", "v2", ["role/update"], "update", ["*"], {"permissions": ["role/update"]},
     ESCALATION),
    ("update: retitle a * role", "v1", ["role/update"], "update", ["*"], {"title": "Mine now"}, ESCALATION),
    ("update: role/* does not cover *", "v2", ["role/*"], "update", ["*"], {"permissions": ["role/*"]}, ESCALATION),
    ("update: drop what the caller lacks", "v2", ["role/update", "role/list"], "update", ["role/list", "x/y"],
     {"permissions": ["role/list"]}, ESCALATION),
    ("update: add what the caller lacks", "v1", ["role/update"], "update", [], {"permissions": ["x/y"]}, ESCALATION),
    ("update: within what the caller holds", "v2", ["role/update", "role/list", "x/*"], "update", ["role/list"],
     {"permissions": ["x/y"], "title": "Renamed"}, OK),
    ("delete: a role holding what the caller lacks", "v1", ["role/delete"], "delete", ["x/y"], None, ESCALATION),
    ("delete: a * role", "v2", ["role/delete", "role/*"], "delete", ["*"], None, ESCALATION),
    ("delete: within what the caller holds", "v2", ["role/delete", "x/y"], "delete", ["x/y"], None, OK),
    ("delete: an empty role", "v1", ["role/delete"], "delete", [], None, OK),
]


@pytest.mark.parametrize("case, version, holds, action, target, change, expected", CASES,
                         ids=[case[0] for case in CASES])
def test_callers_change_only_what_they_could_grant(
        server: Server, client: Client, caller: Any, make_user: Any, make_role: Any, case: str, version: str,
        holds: list[str], action: str, target: Any, change: Any, expected: Any) -> None:
    token = caller(holds, version)
    if action == "assign":
        uid = make_user(target)
        params: dict[str, Any] = {"uid": uid, "rid": [make_role(permissions) for permissions in change]}
        state: Callable[[], list[tuple]] = lambda: user_roles(server, uid)  # noqa: E731
    else:
        role_id = make_role(target)
        params = {"id": role_id, **(change or {})}
        state = lambda: role_row(server, role_id)  # noqa: E731
    before = state()
    response = call(client, version, action, params, token)
    if expected is OK:
        expect_ok(response, version)
        assert state() != before, case
    else:
        refused(response, version, expected)
        assert state() == before, case


@pytest.mark.parametrize("version", ["v1", "v2"])
@pytest.mark.parametrize("change", [{"title": "Mine"}, {"title": "Administrator"}, {"permissions": ["*"]}, {}],
                         ids=["retitle", "same title", "same permissions", "nothing"])
def test_builtin_role_is_frozen_title_included(server: Server, client: Client, root: dict[str, Any],
                                               version: str, change: dict[str, Any]) -> None:
    before = role_row(server, 1)
    refused(call(client, version, "update", {"id": 1, **change}, root[version]), version, ROLE_PROTECTED)
    assert role_row(server, 1) == before


BAD_TITLES = ["tab\there", "two\nlines", "bell\x07", "del\x7f", "csi\x9b", "\x1b[31mred", "left\u202etfel",
              "isolate\u2066x", "line\u2028sep", "t" * 65, "角" * 65]


@pytest.mark.parametrize("version", ["v1", "v2"])
@pytest.mark.parametrize("title", BAD_TITLES, ids=[repr(title)[:16] for title in BAD_TITLES])
def test_titles_are_plain_text_of_1_to_64(server: Server, client: Client, root: dict[str, Any],
                                          make_role: Any, version: str, title: str) -> None:
    name = unique("t")
    refused(call(client, version, "create", {"name": name, "title": title, "permissions": []}, root[version]),
            version, PARAM_INVALID)
    assert server.query("SELECT count(*) FROM role WHERE name = ?", name)[0][0] == 0
    role_id = make_role([])
    before = role_row(server, role_id)
    refused(call(client, version, "update", {"id": role_id, "title": title}, root[version]), version, PARAM_INVALID)
    assert role_row(server, role_id) == before


def test_empty_title_is_refused_and_plain_unicode_is_kept(client: Client, root: dict[str, Any]) -> None:
    refused(call(client, "v2", "create", {"name": unique("t"), "title": "", "permissions": []}, root["v2"]),
            "v2", PARAM_INVALID)
    for title in ("t" * 64, "角" * 64, "Équipe 🙂 ops", "a"):
        role = ok(client, "v2", "create", {"name": unique("t"), "title": title, "permissions": []}, root["v2"],
                  status=201)
        assert role["title"] == title
