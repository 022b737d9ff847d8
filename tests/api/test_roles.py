"""The role API and the checkPermission middleware against a live server (SPEC §1-3, §7; issue 4).

An administrator (user:create --admin) manages roles; plain users get, use and lose permissions;
every bad input answers in the version's envelope with its code, never a 5xx.
"""
from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from typing import Any

import jwt as pyjwt
import pytest
import requests

from tests.conftest import PASSWORD, Server, serving
from tests.support import Client, expect_error, expect_ok

ACTIONS = ("list", "create", "update", "delete", "assign", "user")
VERSIONS = ("v1", "v2")
ROLE_KEYS = {"id", "name", "title", "permissions"}

# catalog codes (app/common/error.py), as (v1, v2, http)
PERMISSION_DENIED = (60018, 9914, 403)
ROLE_PROTECTED = (60029, 50014, 403)
NOT_FOUND = (60027, 50010, 404)
ROLE_NAME_TAKEN = (60028, 50013, 400)
PARAM_INVALID = (60006, 9906, 400)       # every role field is "any other field" in v1 (SPEC §3)
TOKEN_INVALID = (60010, 9908, 401)

_counter = itertools.count(1)


def unique(prefix: str) -> str:
    """A fresh lowercase name, valid as a role name and as an account."""
    return f"{prefix}{next(_counter)}x"


def unique_phone() -> str:
    return f"137{next(_counter):08d}"


def call(client: Client, version: str, action: str, params: dict[str, Any], token: str | None) -> requests.Response:
    return client.post(f"/{version}/role/{action}", params, token=token)


def ok(client: Client, version: str, action: str, params: dict[str, Any], token: str, status: int = 200) -> Any:
    return expect_ok(call(client, version, action, params, token), version, status)


def refused(response: requests.Response, version: str, error: tuple[int, int, int]) -> str:
    return expect_error(response, version, *error)


def jwt_login(client: Client, account: str, password: str = PASSWORD) -> tuple[str, str]:
    data = expect_ok(client.post("/v2/login/jwt/get", {"account": account, "pwd": password}), "v2")
    return data["jwt"], data["refresh_jwt"]


def md5_login(client: Client, account: str, password: str = PASSWORD) -> str:
    return expect_ok(client.post("/v1/login", {"username": account, "password": password}), "v1")["token"]


def claims(token: str) -> dict[str, Any]:
    return pyjwt.decode(token, options={"verify_signature": False})


def assert_role(role: Any, *, name: str | None = None, title: str | None = None,
                permissions: list[str] | None = None) -> None:
    """Exactly {"id", "name", "title", "permissions"} with the right types (and values, where given)."""
    assert isinstance(role, dict) and set(role) == ROLE_KEYS, role
    assert isinstance(role["id"], int) and not isinstance(role["id"], bool) and role["id"] > 0, role
    assert isinstance(role["name"], str) and isinstance(role["title"], str), role
    assert isinstance(role["permissions"], list) and all(isinstance(p, str) for p in role["permissions"]), role
    assert len(set(role["permissions"])) == len(role["permissions"]), role
    if name is not None:
        assert role["name"] == name, role
    if title is not None:
        assert role["title"] == title, role
    if permissions is not None:
        assert sorted(role["permissions"]) == sorted(set(permissions)), role


# -- fixtures ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def admin(server: Server) -> dict[str, Any]:
    """An administrator made by `user:create --admin`, logged in with a JWT."""
    account = "boss"
    uid = server.create_user(account, "13900000001", PASSWORD, admin=True)
    token, _ = jwt_login(Client(server.url), account)
    return {"uid": uid, "account": account, "token": token}


@pytest.fixture(scope="module")
def admin_md5(server: Server, admin: dict[str, Any]) -> str:
    """The administrator's md5 token (v1 /login)."""
    return md5_login(Client(server.url), admin["account"])


@pytest.fixture
def plain(server: Server) -> dict[str, Any]:
    """A fresh user without roles, logged in with a JWT."""
    account = unique("plain")
    uid = server.create_user(account, unique_phone(), PASSWORD)
    token, refresh = jwt_login(Client(server.url), account)
    return {"uid": uid, "account": account, "token": token, "refresh": refresh}


@pytest.fixture(scope="module")
def nobody(server: Server) -> dict[str, Any]:
    """A user who is never given a role, with a JWT and an md5 token."""
    uid = server.create_user("nobody", "13900000002", PASSWORD)
    client = Client(server.url)
    token, _ = jwt_login(client, "nobody")
    return {"uid": uid, "account": "nobody", "token": token, "md5": md5_login(client, "nobody")}


@pytest.fixture
def role_factory(client: Client, admin: dict[str, Any]) -> Iterator[Any]:
    def make(permissions: list[str], name: str | None = None, title: str = "A role") -> dict[str, Any]:
        role = ok(client, "v2", "create", {"name": name or unique("role"), "title": title,
                                            "permissions": permissions}, admin["token"], status=201)
        assert_role(role, title=title, permissions=permissions)
        return role
    yield make


# -- the built-in administrator role -------------------------------------------------------------


def test_builtin_admin_role_exists_from_the_first_start(client: Client, admin: dict[str, Any]) -> None:
    data = ok(client, "v2", "list", {}, admin["token"])
    builtin = [role for role in data["list"] if role["id"] == 1]
    assert builtin, data
    assert_role(builtin[0], name="admin", permissions=["*"])


def test_user_create_admin_holds_the_builtin_role(client: Client, admin: dict[str, Any]) -> None:
    data = ok(client, "v2", "user", {"uid": admin["uid"]}, admin["token"])
    assert data["uid"] == admin["uid"]
    assert [role["id"] for role in data["roles"]] == [1]
    assert data["permissions"] == ["*"]
    assert claims(admin["token"])["rid"] == ["1"]


@pytest.mark.parametrize("version", VERSIONS)
def test_builtin_role_cannot_be_deleted(client: Client, admin: dict[str, Any], admin_md5: str, version: str) -> None:
    token = admin["token"] if version == "v2" else admin_md5
    refused(call(client, version, "delete", {"id": 1}, token), version, ROLE_PROTECTED)
    refused(call(client, version, "delete", {"id": "1"}, token), version, ROLE_PROTECTED)
    # still there, still assigned, still all-powerful
    roles = ok(client, "v2", "list", {}, admin["token"])["list"]
    assert any(role["id"] == 1 and role["permissions"] == ["*"] for role in roles)
    assert ok(client, "v2", "user", {"uid": admin["uid"]}, admin["token"])["permissions"] == ["*"]


# -- grant, use, take away -------------------------------------------------------------------------


def test_grant_use_revoke_via_api_v2(client: Client, admin: dict[str, Any], plain: dict[str, Any],
                                     role_factory: Any) -> None:
    role = role_factory(["role/list"], title="Role readers")
    user_token = plain["token"]
    assert claims(user_token)["rid"] == []

    refused(call(client, "v2", "list", {}, user_token), "v2", PERMISSION_DENIED)

    assigned = ok(client, "v2", "assign", {"uid": plain["uid"], "rid": [role["id"]]}, admin["token"])
    assert assigned["uid"] == plain["uid"]
    assert assigned["roles"] == [role]
    assert assigned["permissions"] == ["role/list"]

    # the same token (its rid still says []) now passes: the database decides
    listed = ok(client, "v2", "list", {}, user_token)
    assert role["id"] in [r["id"] for r in listed["list"]]
    # …but only for the permission granted
    refused(call(client, "v2", "create", {"name": unique("n"), "title": "t", "permissions": []}, user_token),
            "v2", PERMISSION_DENIED)
    refused(call(client, "v2", "user", {"uid": plain["uid"]}, user_token), "v2", PERMISSION_DENIED)

    taken = ok(client, "v2", "assign", {"uid": plain["uid"], "rid": []}, admin["token"])
    assert taken == {"uid": plain["uid"], "roles": [], "permissions": []}

    # the very next call is refused; the token itself still works where no permission is needed
    refused(call(client, "v2", "list", {}, user_token), "v2", PERMISSION_DENIED)
    me = expect_ok(client.post("/v2/test", {}, token=user_token), "v2")
    assert me["uid"] == plain["uid"] and me["rid"] == []
    status = expect_ok(client.post("/v2/login/jwt/status", {"jwt": user_token}), "v2")
    assert status["uid"] == plain["uid"]


def test_test_route_and_md5_status_show_the_roles_the_database_has_now(
        client: Client, admin: dict[str, Any], plain: dict[str, Any], role_factory: Any) -> None:
    """`rid` of /test and of an md5 token's status: every role, in id order, as of this request."""
    roles = [role_factory([]) for _ in range(3)]
    wanted = [str(r["id"]) for r in sorted(roles, key=lambda r: r["id"])]
    md5 = md5_login(client, plain["account"])
    ok(client, "v2", "assign", {"uid": plain["uid"], "rid": [r["id"] for r in reversed(roles)]}, admin["token"])
    assert expect_ok(client.post("/v2/test", {}, token=plain["token"]), "v2")["rid"] == wanted
    assert expect_ok(client.post("/v1/test", {}, token=md5), "v1")["rid"] == wanted
    status = expect_ok(client.post("/v2/login/jwt/status", {"jwt": md5}), "v2")
    assert status["jwt_data"] == {"uid": plain["uid"], "rid": wanted}
    # A deleted role is gone from the very next answer.
    ok(client, "v2", "delete", {"id": roles[0]["id"]}, admin["token"])
    remaining = [str(r["id"]) for r in sorted(roles[1:], key=lambda r: r["id"])]
    assert expect_ok(client.post("/v2/test", {}, token=plain["token"]), "v2")["rid"] == remaining


def test_grant_use_revoke_via_command_v1(server: Server, client: Client, admin_md5: str,
                                         plain: dict[str, Any], role_factory: Any) -> None:
    role = role_factory(["role/list"])
    token = md5_login(client, plain["account"])
    refused(call(client, "v1", "list", {}, token), "v1", PERMISSION_DENIED)

    granted = server.command("role:grant", "--user", plain["account"], "--role", role["name"])
    assert granted.returncode == 0, granted.stderr
    data = ok(client, "v1", "list", {"page": 1, "limit": 100}, token)
    assert role["id"] in [r["id"] for r in data["list"]]

    revoked = server.command("role:revoke", "--user", plain["account"], "--role", role["name"])
    assert revoked.returncode == 0, revoked.stderr
    message = refused(call(client, "v1", "list", {}, token), "v1", PERMISSION_DENIED)
    assert message == "没有权限"
    me = expect_ok(client.post("/v1/test", {}, token=token), "v1")
    assert me["uid"] == plain["uid"] and me["rid"] == []


def test_permission_denied_message_in_english(client: Client, nobody: dict[str, Any]) -> None:
    response = client.post("/v2/role/list", {}, token=nobody["token"], headers={"Accept-Language": "en"})
    assert refused(response, "v2", PERMISSION_DENIED) == "Permission denied"
    response = client.post("/v1/role/list", {"lang": "en"}, token=nobody["md5"])
    assert refused(response, "v1", PERMISSION_DENIED) == "Permission denied"


def test_wildcard_permission_grants_every_role_action(client: Client, admin: dict[str, Any],
                                                      plain: dict[str, Any], role_factory: Any) -> None:
    manager = role_factory(["role/*"])
    ok(client, "v2", "assign", {"uid": plain["uid"], "rid": [manager["id"]]}, admin["token"])
    token = plain["token"]
    made = ok(client, "v2", "create", {"name": unique("byuser"), "title": "t", "permissions": ["role/list"]},
              token, status=201)
    ok(client, "v2", "update", {"id": made["id"], "title": "t2"}, token)
    ok(client, "v2", "list", {}, token)
    ok(client, "v2", "user", {"uid": plain["uid"]}, token)
    ok(client, "v2", "delete", {"id": made["id"]}, token)
    ok(client, "v2", "assign", {"uid": plain["uid"], "rid": []}, token)   # gives it up itself
    refused(call(client, "v2", "list", {}, token), "v2", PERMISSION_DENIED)


ESCALATION = (60033, 50015, 403)


def test_no_one_grants_more_than_they_hold(client: Client, admin: dict[str, Any], plain: dict[str, Any],
                                           role_factory: Any) -> None:
    """A role manager (role/*) may not mint `*` or other permissions, nor hand out the admin role."""
    manager = role_factory(["role/*"])
    ok(client, "v2", "assign", {"uid": plain["uid"], "rid": [manager["id"]]}, admin["token"])
    token = plain["token"]
    for permissions in (["*"], ["x/y"], ["role/list", "user/delete"]):
        refused(call(client, "v2", "create", {"name": unique("esc"), "title": "t", "permissions": permissions},
                     token), "v2", ESCALATION)
        refused(call(client, "v2", "update", {"id": manager["id"], "permissions": permissions}, token),
                "v2", ESCALATION)
    refused(call(client, "v2", "assign", {"uid": plain["uid"], "rid": [1]}, token), "v2", ESCALATION)
    refused(call(client, "v1", "assign", {"uid": plain["uid"], "rid": [manager["id"], 1]}, token), "v1", ESCALATION)
    # Nothing changed: still only the manager role, still no `*`.
    data = ok(client, "v2", "user", {"uid": plain["uid"]}, token)
    assert [r["id"] for r in data["roles"]] == [manager["id"]] and data["permissions"] == ["role/*"]
    ok(client, "v2", "assign", {"uid": plain["uid"], "rid": []}, admin["token"])


def test_builtin_role_cannot_change(client: Client, admin: dict[str, Any]) -> None:
    """Frozen entirely, title included (SPEC §10; issue 12 retitled it)."""
    for change in ({"permissions": []}, {"permissions": ["role/list"]}, {"title": "Administrators"}):
        refused(call(client, "v2", "update", {"id": 1, **change}, admin["token"]), "v2", (60029, 50014, 403))
    builtin = [role for role in ok(client, "v2", "list", {}, admin["token"])["list"] if role["id"] == 1]
    assert builtin == [{"id": 1, "name": "admin", "title": "Administrator", "permissions": ["*"]}]


def test_similar_permission_names_do_not_grant(client: Client, admin: dict[str, Any], plain: dict[str, Any],
                                               role_factory: Any) -> None:
    near = role_factory(["roles/*", "role/lis", "role/list/x", "rolelist", "role"])
    ok(client, "v2", "assign", {"uid": plain["uid"], "rid": [near["id"]]}, admin["token"])
    for action in ACTIONS:
        refused(call(client, "v2", action, {}, plain["token"]), "v2", PERMISSION_DENIED)


def test_permissions_of_several_roles_add_up(client: Client, admin: dict[str, Any], plain: dict[str, Any],
                                             role_factory: Any) -> None:
    lister = role_factory(["role/list"])
    viewer = role_factory(["role/user", "role/list"])
    data = ok(client, "v2", "assign", {"uid": plain["uid"], "rid": [str(viewer["id"]), lister["id"]]},
              admin["token"])
    assert [r["id"] for r in data["roles"]] == sorted([lister["id"], viewer["id"]])
    assert data["permissions"] == ["role/list", "role/user"]
    ok(client, "v2", "list", {}, plain["token"])
    ok(client, "v2", "user", {"uid": admin["uid"]}, plain["token"])
    # dropping one role keeps the other's permissions
    ok(client, "v2", "assign", {"uid": plain["uid"], "rid": [lister["id"]]}, admin["token"])
    ok(client, "v2", "list", {}, plain["token"])
    refused(call(client, "v2", "user", {"uid": plain["uid"]}, plain["token"]), "v2", PERMISSION_DENIED)


def test_paths_match_case_insensitively_and_unversioned(client: Client, admin: dict[str, Any],
                                                        plain: dict[str, Any], role_factory: Any) -> None:
    lister = role_factory(["role/list"])
    ok(client, "v2", "assign", {"uid": plain["uid"], "rid": [lister["id"]]}, admin["token"])
    expect_ok(client.post("/v2/Role/List", {}, token=plain["token"]), "v2")
    expect_ok(client.post("/role/list", {}, token=plain["token"]), "v2")
    expect_ok(client.post("/v1/ROLE/list/", {}, token=plain["token"]), "v1")
    refused(client.post("/ROLE/Create", {}, token=plain["token"]), "v2", PERMISSION_DENIED)


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("action", ACTIONS)
def test_user_without_permission_is_refused_every_action(client: Client, admin: dict[str, Any],
                                                         nobody: dict[str, Any], version: str, action: str) -> None:
    valid = {
        "list": {"page": 1, "limit": 10},
        "create": {"name": unique("deny"), "title": "t", "permissions": ["*"]},
        "update": {"id": 1, "permissions": []},
        "delete": {"id": 1},
        "assign": {"uid": nobody["uid"], "rid": [1]},
        "user": {"uid": admin["uid"]},
    }[action]
    token = nobody["token"] if version == "v2" else nobody["md5"]
    refused(call(client, version, action, valid, token), version, PERMISSION_DENIED)
    # permission is decided before the parameters are read
    refused(call(client, version, action, {"id": "abc", "uid": "x", "rid": 5, "page": 0}, token),
            version, PERMISSION_DENIED)
    # and nothing changed: the user did not make itself an administrator
    data = ok(client, "v2", "user", {"uid": nobody["uid"]}, admin["token"])
    assert data["roles"] == [] and data["permissions"] == []
    assert any(r["id"] == 1 and r["permissions"] == ["*"] for r in ok(client, "v2", "list", {}, admin["token"])["list"])


@pytest.mark.parametrize("version", VERSIONS)
def test_role_routes_need_a_login(client: Client, version: str) -> None:
    for action in ACTIONS:
        refused(call(client, version, action, {}, None), version, TOKEN_INVALID)
        refused(call(client, version, action, {}, "not-a-token"), version, TOKEN_INVALID)


def test_refresh_token_is_no_access_token_for_roles(client: Client, admin: dict[str, Any]) -> None:
    _, refresh = jwt_login(client, admin["account"])
    refused(call(client, "v2", "list", {}, refresh), "v2", TOKEN_INVALID)


# -- the actions' happy paths ------------------------------------------------------------------------


@pytest.mark.parametrize("version", VERSIONS)
def test_create_update_delete(client: Client, admin: dict[str, Any], admin_md5: str, version: str) -> None:
    token = admin["token"] if version == "v2" else admin_md5
    name = unique("editor")
    created = ok(client, version, "create", {"name": name, "title": "编辑", "permissions": ["role/list", "role/user"]},
                 token, status=201)
    assert_role(created, name=name, title="编辑", permissions=["role/list", "role/user"])

    titled = ok(client, version, "update", {"id": created["id"], "title": "Editors"}, token)
    assert_role(titled, name=name, title="Editors", permissions=["role/list", "role/user"])
    assert titled["id"] == created["id"]

    permitted = ok(client, version, "update", {"id": str(created["id"]), "permissions": ["role/*"]}, token)
    assert_role(permitted, name=name, title="Editors", permissions=["role/*"])

    both = ok(client, version, "update", {"id": created["id"], "title": "Both", "permissions": []}, token)
    assert both == {"id": created["id"], "name": name, "title": "Both", "permissions": []}

    listed = ok(client, version, "list", {"limit": 100}, token)["list"]
    assert both in listed

    assert ok(client, version, "delete", {"id": created["id"]}, token) in (None, {}, [])
    listed = ok(client, version, "list", {"limit": 100}, token)["list"]
    assert created["id"] not in [r["id"] for r in listed]
    refused(call(client, version, "delete", {"id": created["id"]}, token), version, NOT_FOUND)
    refused(call(client, version, "update", {"id": created["id"], "title": "x"}, token), version, NOT_FOUND)


def test_create_deduplicates_permissions(client: Client, admin: dict[str, Any]) -> None:
    role = ok(client, "v2", "create", {"name": unique("dup"), "title": "t",
                                       "permissions": ["role/list", "role/list", "*"]}, admin["token"], status=201)
    assert_role(role, permissions=["role/list", "*"])


def test_create_from_a_form_body(client: Client, admin: dict[str, Any]) -> None:
    """A form carries a list as JSON text (the validator's documented habit)."""
    name = unique("form")
    params, _ = client.signed({"name": name, "title": "Form", "permissions": json.dumps(["role/list"])})
    response = client.send("/v2/role/create", params, form=True, headers={"Authorization": f"Bearer {admin['token']}"})
    role = expect_ok(response, "v2", 201)
    assert_role(role, name=name, title="Form", permissions=["role/list"])


def test_delete_removes_assignments(client: Client, admin: dict[str, Any], plain: dict[str, Any],
                                    role_factory: Any) -> None:
    doomed, kept = role_factory(["role/list"]), role_factory(["role/user"])
    ok(client, "v2", "assign", {"uid": plain["uid"], "rid": [doomed["id"], kept["id"]]}, admin["token"])
    before = ok(client, "v2", "user", {"uid": plain["uid"]}, admin["token"])
    assert [r["id"] for r in before["roles"]] == [doomed["id"], kept["id"]]
    ok(client, "v2", "list", {}, plain["token"])

    ok(client, "v2", "delete", {"id": doomed["id"]}, admin["token"])
    after = ok(client, "v2", "user", {"uid": plain["uid"]}, admin["token"])
    assert after == {"uid": plain["uid"], "roles": [kept], "permissions": ["role/user"]}
    refused(call(client, "v2", "list", {}, plain["token"]), "v2", PERMISSION_DENIED)
    me = expect_ok(client.post("/v2/test", {}, token=plain["token"]), "v2")
    assert me["rid"] == [str(kept["id"])]

    ok(client, "v2", "delete", {"id": kept["id"]}, admin["token"])
    assert ok(client, "v2", "user", {"uid": plain["uid"]}, admin["token"]) == \
        {"uid": plain["uid"], "roles": [], "permissions": []}


def test_a_deleted_name_can_be_used_again(client: Client, admin: dict[str, Any], role_factory: Any) -> None:
    name = unique("again")
    first = role_factory(["role/list"], name=name)
    ok(client, "v2", "delete", {"id": first["id"]}, admin["token"])
    second = role_factory(["role/user"], name=name)
    assert_role(second, name=name, permissions=["role/user"])


def test_role_ids_are_not_reused(client: Client, admin: dict[str, Any], role_factory: Any) -> None:
    first = role_factory(["role/list"])
    ok(client, "v2", "delete", {"id": first["id"]}, admin["token"])
    second = role_factory(["*"])
    assert second["id"] != first["id"]


def test_assign_replaces_and_is_idempotent(client: Client, admin: dict[str, Any], plain: dict[str, Any],
                                           role_factory: Any) -> None:
    one, two = role_factory(["role/list"]), role_factory(["role/user"])
    for _ in range(2):
        data = ok(client, "v2", "assign", {"uid": plain["uid"], "rid": [one["id"], one["id"], str(one["id"])]},
                  admin["token"])
        assert data == {"uid": plain["uid"], "roles": [one], "permissions": ["role/list"]}
    data = ok(client, "v2", "assign", {"uid": str(plain["uid"]), "rid": [two["id"]]}, admin["token"])
    assert data == {"uid": plain["uid"], "roles": [two], "permissions": ["role/user"]}
    assert ok(client, "v2", "user", {"uid": plain["uid"]}, admin["token"]) == data


def test_failed_assign_changes_nothing(client: Client, admin: dict[str, Any], plain: dict[str, Any],
                                       role_factory: Any) -> None:
    one = role_factory(["role/list"])
    ok(client, "v2", "assign", {"uid": plain["uid"], "rid": [one["id"]]}, admin["token"])
    refused(call(client, "v2", "assign", {"uid": plain["uid"], "rid": [1, 2147483647]}, admin["token"]),
            "v2", NOT_FOUND)
    data = ok(client, "v2", "user", {"uid": plain["uid"]}, admin["token"])
    assert data["roles"] == [one]


@pytest.mark.parametrize("version", VERSIONS)
def test_assign_and_user_v1_v2_envelopes(client: Client, admin: dict[str, Any], admin_md5: str,
                                         plain: dict[str, Any], role_factory: Any, version: str) -> None:
    token = admin["token"] if version == "v2" else admin_md5
    one = role_factory(["role/list"])
    data = ok(client, version, "assign", {"uid": plain["uid"], "rid": [one["id"]]}, token)
    assert data == {"uid": plain["uid"], "roles": [one], "permissions": ["role/list"]}
    assert ok(client, version, "user", {"uid": plain["uid"]}, token) == data
    assert ok(client, version, "assign", {"uid": plain["uid"], "rid": []}, token)["roles"] == []


# -- paging ---------------------------------------------------------------------------------------


def test_list_paging(client: Client, admin: dict[str, Any], role_factory: Any) -> None:
    for _ in range(5):
        role_factory(["role/list"])
    everything = ok(client, "v2", "list", {"page": 1, "limit": 100}, admin["token"])
    total = everything["total"]
    assert total == len(everything["list"]) >= 6
    ids = [r["id"] for r in everything["list"]]
    assert ids == sorted(ids) and ids[0] == 1
    for role in everything["list"]:
        assert_role(role)

    default = ok(client, "v2", "list", {}, admin["token"])
    assert (default["page"], default["limit"], default["total"]) == (1, 20, total)
    assert set(default) == {"list", "total", "page", "limit"}

    seen: list[int] = []
    page = 1
    while True:
        data = ok(client, "v2", "list", {"page": page, "limit": 2}, admin["token"])
        assert (data["page"], data["limit"], data["total"]) == (page, 2, total)
        assert len(data["list"]) <= 2
        if not data["list"]:
            break
        seen += [r["id"] for r in data["list"]]
        page += 1
    assert seen == ids
    assert page == (total + 1) // 2 + 1

    # strings are read as integers (a form or query string carries them so)
    data = ok(client, "v1", "list", {"page": "2", "limit": "3"}, md5_login(client, admin["account"]))
    assert (data["page"], data["limit"], data["total"]) == (2, 3, total)
    assert [r["id"] for r in data["list"]] == ids[3:6]

    far = ok(client, "v2", "list", {"page": 100000, "limit": 100}, admin["token"])
    assert far["list"] == [] and far["total"] == total
    assert len(ok(client, "v2", "list", {"limit": 1}, admin["token"])["list"]) == 1


# -- bad input ------------------------------------------------------------------------------------

HUGE = 10 ** 30
BAD_INPUT: list[tuple[str, str, dict[str, Any], tuple[int, int, int]]] = [
    # list
    ("page 0", "list", {"page": 0}, PARAM_INVALID),
    ("page -1", "list", {"page": -1}, PARAM_INVALID),
    ("page abc", "list", {"page": "abc"}, PARAM_INVALID),
    ("page 1.5", "list", {"page": 1.5}, PARAM_INVALID),
    ("page huge", "list", {"page": HUGE}, PARAM_INVALID),
    ("page list", "list", {"page": [1]}, PARAM_INVALID),
    ("page true", "list", {"page": True}, PARAM_INVALID),
    ("limit 0", "list", {"limit": 0}, PARAM_INVALID),
    ("limit 101", "list", {"limit": 101}, PARAM_INVALID),
    ("limit 1000", "list", {"limit": 1000}, PARAM_INVALID),
    ("limit object", "list", {"limit": {"a": 1}}, PARAM_INVALID),
    # create
    ("create empty", "create", {}, PARAM_INVALID),
    ("name missing", "create", {"title": "t", "permissions": []}, PARAM_INVALID),
    ("name with space", "create", {"name": "bad name", "title": "t", "permissions": []}, PARAM_INVALID),
    ("name upper", "create", {"name": "Admin2", "title": "t", "permissions": []}, PARAM_INVALID),
    ("name digit first", "create", {"name": 123, "title": "t", "permissions": []}, PARAM_INVALID),
    ("name too long", "create", {"name": "a" * 33, "title": "t", "permissions": []}, PARAM_INVALID),
    ("name list", "create", {"name": ["a"], "title": "t", "permissions": []}, PARAM_INVALID),
    ("name unicode", "create", {"name": "角色", "title": "t", "permissions": []}, PARAM_INVALID),
    ("title missing", "create", {"name": "okname", "permissions": []}, PARAM_INVALID),
    ("title too long", "create", {"name": "okname", "title": "t" * 65, "permissions": []}, PARAM_INVALID),
    ("title object", "create", {"name": "okname", "title": {"zh": "x"}, "permissions": []}, PARAM_INVALID),
    ("permissions missing", "create", {"name": "okname", "title": "t"}, PARAM_INVALID),
    ("permissions a string", "create", {"name": "okname", "title": "t", "permissions": "role/list"}, PARAM_INVALID),
    ("permissions a number", "create", {"name": "okname", "title": "t", "permissions": 5}, PARAM_INVALID),
    ("permissions an object", "create", {"name": "okname", "title": "t", "permissions": {"role/list": 1}},
     PARAM_INVALID),
    ("permissions of numbers", "create", {"name": "okname", "title": "t", "permissions": [1, 2]}, PARAM_INVALID),
    ("permissions of null", "create", {"name": "okname", "title": "t", "permissions": [None]}, PARAM_INVALID),
    ("permissions nested", "create", {"name": "okname", "title": "t", "permissions": [["role/list"]]}, PARAM_INVALID),
    ("permission with space", "create", {"name": "okname", "title": "t", "permissions": ["role/ list"]},
     PARAM_INVALID),
    ("permission padded", "create", {"name": "okname", "title": "t", "permissions": [" role/list"]}, PARAM_INVALID),
    ("permission two words", "create", {"name": "okname", "title": "t", "permissions": ["role list"]}, PARAM_INVALID),
    ("permission empty", "create", {"name": "okname", "title": "t", "permissions": [""]}, PARAM_INVALID),
    ("permission upper", "create", {"name": "okname", "title": "t", "permissions": ["Role/List"]}, PARAM_INVALID),
    ("permission too long", "create", {"name": "okname", "title": "t", "permissions": ["a" * 65]}, PARAM_INVALID),
    ("too many permissions", "create", {"name": "okname", "title": "t",
                                        "permissions": [f"p/{i}" for i in range(101)]}, PARAM_INVALID),
    # update
    ("update no id", "update", {"title": "t"}, PARAM_INVALID),
    ("update id abc", "update", {"id": "abc", "title": "t"}, PARAM_INVALID),
    ("update id 0", "update", {"id": 0, "title": "t"}, PARAM_INVALID),
    ("update id -1", "update", {"id": -1, "title": "t"}, PARAM_INVALID),
    ("update id 1.5", "update", {"id": 1.5, "title": "t"}, PARAM_INVALID),
    ("update id '1.5'", "update", {"id": "1.5", "title": "t"}, PARAM_INVALID),
    ("update id true", "update", {"id": True, "title": "t"}, PARAM_INVALID),
    ("update id list", "update", {"id": [1], "title": "t"}, PARAM_INVALID),
    ("update id 2^31", "update", {"id": 2 ** 31, "title": "t"}, PARAM_INVALID),
    ("update id huge", "update", {"id": HUGE, "title": "t"}, PARAM_INVALID),
    ("update id huge string", "update", {"id": str(HUGE), "title": "t"}, PARAM_INVALID),
    ("update id 4000 digits", "update", {"id": "9" * 4000, "title": "t"}, PARAM_INVALID),
    ("update title list", "update", {"id": 1, "title": ["x"]}, PARAM_INVALID),
    ("update permissions string", "update", {"id": 1, "permissions": "*"}, PARAM_INVALID),
    ("update permission spaces", "update", {"id": 1, "permissions": ["role /list"]}, PARAM_INVALID),
    ("update unknown id", "update", {"id": 2147483647, "title": "t"}, NOT_FOUND),
    ("update unknown id 999999", "update", {"id": 999999, "permissions": []}, NOT_FOUND),
    # delete
    ("delete no id", "delete", {}, PARAM_INVALID),
    ("delete id abc", "delete", {"id": "abc"}, PARAM_INVALID),
    ("delete id huge", "delete", {"id": HUGE}, PARAM_INVALID),
    ("delete id object", "delete", {"id": {"id": 1}}, PARAM_INVALID),
    ("delete unknown id", "delete", {"id": 999999}, NOT_FOUND),
    ("delete max id", "delete", {"id": 2147483647}, NOT_FOUND),
    # assign
    ("assign empty", "assign", {}, PARAM_INVALID),
    ("assign no rid", "assign", {"uid": 1}, PARAM_INVALID),
    ("assign no uid", "assign", {"rid": [1]}, PARAM_INVALID),
    ("assign uid abc", "assign", {"uid": "abc", "rid": [1]}, PARAM_INVALID),
    ("assign uid huge", "assign", {"uid": HUGE, "rid": [1]}, PARAM_INVALID),
    ("assign rid a number", "assign", {"uid": 1, "rid": 1}, PARAM_INVALID),
    ("assign rid a digit string", "assign", {"uid": 1, "rid": "1"}, PARAM_INVALID),
    ("assign rid text", "assign", {"uid": 1, "rid": "abc"}, PARAM_INVALID),
    ("assign rid object", "assign", {"uid": 1, "rid": {"1": 1}}, PARAM_INVALID),
    ("assign rid [0]", "assign", {"uid": 1, "rid": [0]}, PARAM_INVALID),
    ("assign rid [-1]", "assign", {"uid": 1, "rid": [-1]}, PARAM_INVALID),
    ("assign rid [abc]", "assign", {"uid": 1, "rid": ["abc"]}, PARAM_INVALID),
    ("assign rid [1.5]", "assign", {"uid": 1, "rid": [1.5]}, PARAM_INVALID),
    ("assign rid [true]", "assign", {"uid": 1, "rid": [True]}, PARAM_INVALID),
    ("assign rid [null]", "assign", {"uid": 1, "rid": [None]}, PARAM_INVALID),
    ("assign rid [[1]]", "assign", {"uid": 1, "rid": [[1]]}, PARAM_INVALID),
    ("assign rid [huge]", "assign", {"uid": 1, "rid": [HUGE]}, PARAM_INVALID),
    ("assign rid [2^31]", "assign", {"uid": 1, "rid": [2 ** 31]}, PARAM_INVALID),
    ("assign rid ['1 ']", "assign", {"uid": 1, "rid": ["1 "]}, PARAM_INVALID),
    ("assign too many rid", "assign", {"uid": 1, "rid": list(range(1, 102))}, PARAM_INVALID),
    ("assign unknown uid", "assign", {"uid": 999999, "rid": []}, NOT_FOUND),
    ("assign unknown uid with roles", "assign", {"uid": 2147483647, "rid": [1]}, NOT_FOUND),
    ("assign unknown role", "assign", {"uid": 1, "rid": [999999]}, NOT_FOUND),
    # user
    ("user no uid", "user", {}, PARAM_INVALID),
    ("user uid abc", "user", {"uid": "abc"}, PARAM_INVALID),
    ("user uid 0", "user", {"uid": 0}, PARAM_INVALID),
    ("user uid huge", "user", {"uid": HUGE}, PARAM_INVALID),
    ("user uid list", "user", {"uid": [1]}, PARAM_INVALID),
    ("user unknown uid", "user", {"uid": 999999}, NOT_FOUND),
    ("user max uid", "user", {"uid": 2147483647}, NOT_FOUND),
]


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("case, action, params, error", BAD_INPUT, ids=[case[0] for case in BAD_INPUT])
def test_bad_input_gets_its_envelope(client: Client, admin: dict[str, Any], admin_md5: str, version: str,
                                     case: str, action: str, params: dict[str, Any],
                                     error: tuple[int, int, int]) -> None:
    token = admin["token"] if version == "v2" else admin_md5
    params = {k: (admin["uid"] if v == 1 and k == "uid" else v) for k, v in params.items()}
    response = call(client, version, action, params, token)
    assert response.status_code < 500, (case, response.status_code, response.text[:300])
    message = refused(response, version, error)
    if error == PARAM_INVALID and version == "v2":
        assert message.startswith("数据验证失败，原因如下："), message


def test_bad_input_changed_nothing(client: Client, admin: dict[str, Any]) -> None:
    data = ok(client, "v2", "list", {"limit": 100}, admin["token"])
    assert "okname" not in [r["name"] for r in data["list"]]
    builtin = [r for r in data["list"] if r["id"] == 1]
    assert builtin == [{"id": 1, "name": "admin", "title": builtin[0]["title"], "permissions": ["*"]}]
    assert ok(client, "v2", "user", {"uid": admin["uid"]}, admin["token"])["permissions"] == ["*"]


@pytest.mark.parametrize("version", VERSIONS)
def test_duplicate_name(client: Client, admin: dict[str, Any], admin_md5: str, version: str) -> None:
    token = admin["token"] if version == "v2" else admin_md5
    name = unique("twin")
    ok(client, version, "create", {"name": name, "title": "one", "permissions": []}, token, status=201)
    refused(call(client, version, "create", {"name": name, "title": "two", "permissions": ["*"]}, token),
            version, ROLE_NAME_TAKEN)
    refused(call(client, version, "create", {"name": "admin", "title": "mine", "permissions": ["*"]}, token),
            version, ROLE_NAME_TAKEN)
    same = [r for r in ok(client, "v2", "list", {"limit": 100}, admin["token"])["list"] if r["name"] == name]
    assert len(same) == 1 and same[0]["title"] == "one" and same[0]["permissions"] == []


def test_validation_messages_name_the_field(client: Client, admin: dict[str, Any]) -> None:
    response = client.post("/v2/role/create", {"name": "okname", "title": "t", "permissions": "role/list"},
                           token=admin["token"], headers={"Accept-Language": "en"})
    message = refused(response, "v2", PARAM_INVALID)
    assert "permissions" in message, message
    response = client.post("/v1/role/assign", {"uid": admin["uid"], "rid": 5}, token=admin["token"],
                           headers={"Accept-Language": "en"})
    assert "rid" in refused(response, "v1", PARAM_INVALID)


def test_json_number_too_long_to_read(client: Client, admin: dict[str, Any]) -> None:
    """A 5000-digit JSON number is past Python's int-from-text limit: a clear 4xx envelope, never a 500."""
    params, sign = client.signed({"id": 1})
    text = json.dumps(params).replace('"id": 1', '"id": ' + "9" * 5000)
    response = client.raw("POST", "/v2/role/delete", data=text.encode(), headers={
        "Content-Type": "application/json", "sign": sign, "Authorization": f"Bearer {admin['token']}"})
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:300])
    body = response.json()
    assert body["status"] is False and body["data"] == [], body


# -- roles in tokens --------------------------------------------------------------------------------


def test_rid_in_tokens_and_refresh_follow_the_database(client: Client, admin: dict[str, Any],
                                                       plain: dict[str, Any], role_factory: Any) -> None:
    one, two = role_factory(["role/list"]), role_factory(["x/y"])
    old_access, old_refresh = plain["token"], plain["refresh"]
    assert claims(old_access)["rid"] == [] and claims(old_refresh)["rid"] == []

    ok(client, "v2", "assign", {"uid": plain["uid"], "rid": [two["id"], one["id"]]}, admin["token"])
    expected = [str(i) for i in sorted([one["id"], two["id"]])]

    # /test reads the database, not the token
    assert expect_ok(client.post("/v2/test", {}, token=old_access), "v2")["rid"] == expected
    assert expect_ok(client.post("/v1/test", {}, token=old_access), "v1")["rid"] == expected

    # a token issued after assignment lists the role ids as strings
    fresh, fresh_refresh = jwt_login(client, plain["account"])
    assert claims(fresh)["rid"] == expected
    assert claims(fresh_refresh)["rid"] == expected
    status = expect_ok(client.post("/v2/login/jwt/status", {"jwt": fresh}), "v2")
    assert status["jwt_data"] == {"uid": plain["uid"], "rid": expected}

    # refresh issues an access token with the current roles, even from a refresh token issued before
    refreshed = expect_ok(client.post("/v2/login/jwt/refresh", {"jwt": old_refresh}), "v2")
    assert isinstance(refreshed, str)
    assert claims(refreshed)["rid"] == expected and claims(refreshed)["type"] == "access"
    ok(client, "v2", "list", {}, refreshed)

    ok(client, "v2", "assign", {"uid": plain["uid"], "rid": [two["id"]]}, admin["token"])
    again = expect_ok(client.post("/v2/login/jwt/refresh", {"jwt": fresh_refresh}), "v2")
    assert claims(again)["rid"] == [str(two["id"])]
    assert expect_ok(client.post("/v2/test", {}, token=fresh), "v2")["rid"] == [str(two["id"])]
    # the stale rid in `fresh` grants nothing: role/list is gone
    refused(call(client, "v2", "list", {}, fresh), "v2", PERMISSION_DENIED)
    refused(call(client, "v2", "list", {}, refreshed), "v2", PERMISSION_DENIED)
    # and no role at all
    ok(client, "v2", "assign", {"uid": plain["uid"], "rid": []}, admin["token"])
    assert claims(expect_ok(client.post("/v2/login/jwt/refresh", {"jwt": fresh_refresh}), "v2"))["rid"] == []
    assert expect_ok(client.post("/v2/test", {}, token=fresh), "v2")["rid"] == []


def test_md5_token_status_reports_current_roles(client: Client, admin: dict[str, Any], plain: dict[str, Any],
                                                role_factory: Any) -> None:
    one = role_factory(["role/list"])
    token = md5_login(client, plain["account"])
    ok(client, "v2", "assign", {"uid": plain["uid"], "rid": [one["id"]]}, admin["token"])
    status = expect_ok(client.post("/v2/login/jwt/status", {"jwt": token}), "v2")
    assert status["jwt_data"] == {"uid": plain["uid"], "rid": [str(one["id"])]}


# -- several workers --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def two_workers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with serving(tmp_path_factory, "runtime2", live=True, workers=2) as server:
        yield server


def test_revocation_holds_in_every_worker(two_workers: Server) -> None:
    server = two_workers
    client = Client(server.url)
    server.create_user("chief", "13600000001", PASSWORD, admin=True)
    uid = server.create_user("worker", "13600000002", PASSWORD)
    admin_token, _ = jwt_login(client, "chief")
    token, _ = jwt_login(client, "worker")
    role = ok(client, "v2", "create", {"name": "lister", "title": "t", "permissions": ["role/list"]},
              admin_token, status=201)

    granted = server.command("role:grant", "--user", "worker", "--role", "lister")
    assert granted.returncode == 0, granted.stderr
    # fresh connections, so both workers answer
    for _ in range(20):
        expect_ok(Client(server.url).post("/v2/role/list", {}, token=token), "v2")

    revoked = server.command("role:revoke", "--user", "worker", "--role", "lister")
    assert revoked.returncode == 0, revoked.stderr
    answers = [Client(server.url).post("/v2/role/list", {}, token=token) for _ in range(20)]
    for response in answers:
        refused(response, "v2", PERMISSION_DENIED)

    # the same through the API: grant, then take away with assign rid []
    ok(client, "v2", "assign", {"uid": uid, "rid": [role["id"]]}, admin_token)
    for _ in range(10):
        expect_ok(Client(server.url).post("/v2/role/list", {}, token=token), "v2")
    ok(Client(server.url), "v2", "assign", {"uid": uid, "rid": []}, admin_token)
    for _ in range(20):
        refused(Client(server.url).post("/v2/role/list", {}, token=token), "v2", PERMISSION_DENIED)
    expect_ok(Client(server.url).post("/v2/test", {}, token=token), "v2")
