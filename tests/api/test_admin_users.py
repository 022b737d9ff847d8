"""The admin user API (SPEC §14): list, disable, enable, sessions, logout, audit list.

Who may act on whom follows the role rules: nobody acts on a user who holds more than they do,
nobody disables themselves, and the last active `*` holder stays (LAST_ADMIN).
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests.api.test_roles import jwt_login, md5_login, unique, unique_phone
from tests.conftest import PASSWORD, Server, serving
from tests.support import Client, expect_error, expect_ok

VERSIONS = ("v1", "v2")
# catalog codes (app/common/error.py), as (v1, v2, http)
PARAM_INVALID = (60006, 9906, 400)
PERMISSION_DENIED = (60018, 9914, 403)
NOT_FOUND = (60027, 50010, 404)
PERMISSION_ESCALATION = (60033, 50015, 403)
LAST_ADMIN = (60037, 50023, 403)
SELF_DISABLE = (60050, 50040, 403)
LOGIN_FAILED = (60001, 50006, 401)
TOKEN_INVALID = (60010, 9908, 401)
ROUTES = ("user/list", "user/disable", "user/enable", "user/sessions", "user/logout", "audit/list")


def admin_call(client: Client, version: str, route: str, params: dict[str, Any], token: str) -> requests.Response:
    return client.post(f"/{version}/admin/{route}", params, token=token)


def tokens(client: Client, account: str) -> dict[str, str]:
    """One token of each kind, each its own session: v1's md5 token, v2's access JWT."""
    return {"v1": md5_login(client, account), "v2": jwt_login(client, account)[0]}


def make_user(server: Server, client: Client, *, admin: bool = False) -> dict[str, Any]:
    account = unique("u")
    phone = unique_phone()
    uid = server.create_user(account, phone, PASSWORD, admin=admin)
    return {"uid": uid, "account": account, "phone": phone, **tokens(client, account)}


def make_root(server: Server) -> dict[str, Any]:
    client = Client(server.url)
    uid = server.create_user("root", "13900000001", PASSWORD, admin=True)
    return {"uid": uid, "account": "root", **tokens(client, "root")}


@pytest.fixture(scope="module")
def root(server: Server) -> dict[str, Any]:
    """The module's one administrator (holds `*`)."""
    return make_root(server)


@pytest.fixture(scope="module")
def race_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A real `python server.py` for the race: two requests truly in flight at once."""
    with serving(tmp_path_factory, "admin-race", live=True) as server:
        yield server


def with_role(server: Server, client: Client, root: dict[str, Any], permissions: list[str]) -> dict[str, Any]:
    """A fresh user holding exactly `permissions` through a role of their own."""
    role = expect_ok(client.post("/v2/role/create", {"name": unique("r"), "title": "t", "permissions": permissions},
                                 token=root["v2"]), "v2", 201)
    person = make_user(server, client)
    expect_ok(client.post("/v2/role/assign", {"uid": person["uid"], "rid": [role["id"]]}, token=root["v2"]), "v2")
    return person


def can_use(client: Client, token: str) -> bool:
    return client.post("/v2/test", token=token).status_code == 200


@pytest.mark.parametrize("version", VERSIONS)
def test_list_masks_phones_and_filters(server: Server, client: Client, root: dict[str, Any], version: str) -> None:
    person = make_user(server, client)
    data = expect_ok(admin_call(client, version, "user/list", {"keyword": person["account"].upper()}, root[version]),
                     version)
    assert data["total"] == 1 and (data["page"], data["limit"]) == (1, 20)
    row = data["list"][0]
    assert set(row) == {"uid", "account", "phone", "status", "created_at", "updated_at"}
    assert (row["uid"], row["account"], row["status"]) == (person["uid"], person["account"], 1)
    assert row["phone"] == person["phone"][:3] + "****" + person["phone"][-4:]
    by_phone = expect_ok(admin_call(client, version, "user/list", {"keyword": person["phone"]}, root[version]),
                         version)
    assert [r["uid"] for r in by_phone["list"]] == [person["uid"]]
    # Phones are stored encrypted (SPEC §13.3): only a whole number is found, through its blind index.
    part = expect_ok(admin_call(client, version, "user/list", {"keyword": person["phone"][-6:]}, root[version]),
                     version)
    assert part["total"] == 0
    # LIKE's wildcards in a keyword match only themselves
    assert expect_ok(admin_call(client, version, "user/list", {"keyword": "%"}, root[version]), version)["total"] == 0
    paged = expect_ok(admin_call(client, version, "user/list", {"page": 2, "limit": 1}, root[version]), version)
    assert (paged["page"], paged["limit"], len(paged["list"])) == (2, 1, 1) and paged["total"] >= 2
    server.query("UPDATE users SET status = 0 WHERE id = ?", person["uid"])
    disabled = expect_ok(admin_call(client, version, "user/list", {"status": 0}, root[version]), version)
    assert person["uid"] in [r["uid"] for r in disabled["list"]]
    assert all(r["status"] == 0 for r in disabled["list"])


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("route, params", [
    ("user/list", {"limit": 1000}), ("user/list", {"limit": 0}), ("user/list", {"page": "x"}),
    ("user/list", {"status": 2}), ("user/list", {"keyword": ["a"]}), ("user/disable", {}),
    ("user/disable", {"uid": [1]}), ("user/logout", {"uid": "abc"}), ("audit/list", {"since": "yesterday"}),
    ("audit/list", {"uid": [1]}), ("audit/list", {"until": -5}), ("audit/list", {"event": "DROP TABLE"}),
])
def test_bad_input_is_a_clear_parameter_error(client: Client, root: dict[str, Any], version: str, route: str,
                                              params: dict[str, Any]) -> None:
    expect_error(admin_call(client, version, route, params, root[version]), version, *PARAM_INVALID)


def test_wrong_type_messages_name_what_is_wanted(client: Client, root: dict[str, Any]) -> None:
    since = admin_call(client, "v2", "audit/list", {"since": "yesterday", "lang": "en"}, root["v2"])
    assert expect_error(since, "v2", *PARAM_INVALID).endswith("since must be an integer")
    uid = admin_call(client, "v2", "audit/list", {"uid": [1], "lang": "en"}, root["v2"])
    assert expect_error(uid, "v2", *PARAM_INVALID).endswith("uid must be an integer")


@pytest.mark.parametrize("version", VERSIONS)
def test_without_permission_every_route_is_403(server: Server, client: Client, root: dict[str, Any],
                                               version: str) -> None:
    plain = make_user(server, client)
    lister = with_role(server, client, root, ["user/list"])
    for route in ROUTES:
        expect_error(admin_call(client, version, route, {"uid": root["uid"]}, plain[version]), version,
                     *PERMISSION_DENIED)
    expect_ok(admin_call(client, version, "user/list", {}, lister[version]), version)
    expect_error(admin_call(client, version, "user/disable", {"uid": plain["uid"]}, lister[version]), version,
                 *PERMISSION_DENIED)
    assert server.query("SELECT status FROM users WHERE id = ?", plain["uid"]) == [(1,)]


@pytest.mark.parametrize("version", VERSIONS)
def test_disable_ends_sessions_and_logins_until_enabled(server: Server, client: Client, root: dict[str, Any],
                                                        version: str) -> None:
    person = make_user(server, client)
    assert can_use(client, person["v1"]) and can_use(client, person["v2"])
    done = expect_ok(admin_call(client, version, "user/disable", {"uid": person["uid"]}, root[version]), version)
    assert done == {"uid": person["uid"], "status": 0, "sessions_ended": 2}
    for kind in VERSIONS:  # both tokens fail at once, in either version
        expect_error(client.post(f"/{kind}/test", token=person[kind]), kind, *TOKEN_INVALID)
    # a disabled user's right password answers exactly as a wrong one
    expect_error(client.post("/v1/login", {"username": person["account"], "password": PASSWORD}), "v1", *LOGIN_FAILED)
    expect_error(client.post("/v2/login/jwt/get", {"account": person["account"], "pwd": PASSWORD}), "v2",
                 *LOGIN_FAILED)
    assert expect_ok(admin_call(client, version, "user/sessions", {"uid": person["uid"]}, root[version]),
                     version)["list"] == []
    expect_ok(admin_call(client, version, "user/enable", {"uid": person["uid"]}, root[version]), version)
    fresh = tokens(client, person["account"])
    assert can_use(client, fresh["v2"]) and can_use(client, fresh["v1"])
    assert not can_use(client, person["v2"])  # the sessions ended by disabling stay ended
    entries = server.query("SELECT outcome, detail FROM audit_log WHERE event = 'admin' AND uid = ? "
                           "AND detail LIKE ? ORDER BY id", root["uid"], f"user {person['uid']}%")
    assert [e[0] for e in entries] == ["user.disable", "user.sessions", "user.enable"]


@pytest.mark.parametrize("version", VERSIONS)
def test_sessions_and_logout(server: Server, client: Client, root: dict[str, Any], version: str) -> None:
    person = make_user(server, client)
    listed = expect_ok(admin_call(client, version, "user/sessions", {"uid": person["uid"]}, root[version]), version)
    assert listed["uid"] == person["uid"] and len(listed["list"]) == 2
    assert all(set(s) == {"sid", "created_at", "expire_at"} for s in listed["list"])
    ended = expect_ok(admin_call(client, version, "user/logout", {"uid": person["uid"]}, root[version]), version)
    assert ended == {"uid": person["uid"], "sessions_ended": 2}
    assert not can_use(client, person["v1"]) and not can_use(client, person["v2"])
    assert expect_ok(admin_call(client, version, "user/sessions", {"uid": person["uid"]}, root[version]),
                     version)["list"] == []
    assert can_use(client, tokens(client, person["account"])["v2"])  # logout is no disable
    expect_error(admin_call(client, version, "user/logout", {"uid": 999999}, root[version]), version, *NOT_FOUND)


@pytest.mark.parametrize("version", VERSIONS)
def test_nobody_acts_on_a_user_who_holds_more(server: Server, client: Client, root: dict[str, Any],
                                              version: str) -> None:
    manager = with_role(server, client, root, ["user/*"])
    plain = make_user(server, client)
    for route in ("user/disable", "user/enable", "user/sessions", "user/logout"):
        expect_error(admin_call(client, version, route, {"uid": root["uid"]}, manager[version]), version,
                     *PERMISSION_ESCALATION)
    assert can_use(client, root["v2"])
    expect_ok(admin_call(client, version, "user/disable", {"uid": plain["uid"]}, manager[version]), version)
    expect_ok(admin_call(client, version, "user/enable", {"uid": plain["uid"]}, manager[version]), version)
    # nobody disables themselves, even holding the permission
    expect_error(admin_call(client, version, "user/disable", {"uid": manager["uid"]}, manager[version]), version,
                 *SELF_DISABLE)
    assert can_use(client, manager["v2"])


@pytest.mark.parametrize("version", VERSIONS)
def test_the_last_admin_is_not_disabled(server: Server, client: Client, root: dict[str, Any],
                                        version: str) -> None:
    expect_error(admin_call(client, version, "user/disable", {"uid": root["uid"]}, root[version]), version,
                 *LAST_ADMIN)
    assert server.query("SELECT status FROM users WHERE id = ?", root["uid"]) == [(1,)]
    assert can_use(client, root["v2"])
    # with a second administrator, disabling oneself is still refused, and the other can be disabled
    other = make_user(server, client, admin=True)
    expect_error(admin_call(client, version, "user/disable", {"uid": root["uid"]}, root[version]), version,
                 *SELF_DISABLE)
    expect_ok(admin_call(client, version, "user/disable", {"uid": other["uid"]}, root[version]), version)
    assert not can_use(client, other["v2"])


@pytest.mark.parametrize("version", VERSIONS)
def test_audit_list_filters(server: Server, client: Client, root: dict[str, Any], version: str) -> None:
    person = make_user(server, client)
    expect_error(client.post("/v1/login", {"username": person["account"], "password": "wrong_pass"}), "v1",
                 *LOGIN_FAILED)
    data = expect_ok(admin_call(client, version, "audit/list", {"uid": person["uid"], "event": "login"},
                                root[version]), version)
    assert [(e["event"], e["outcome"]) for e in data["list"]] == [("login", "failed"), ("login", "ok"), ("login", "ok")]
    assert set(data["list"][0]) == {"id", "created_at", "event", "outcome", "uid", "account", "ip", "detail"}
    ids = [e["id"] for e in data["list"]]
    assert ids == sorted(ids, reverse=True) and data["total"] == 3
    newest = data["list"][0]["created_at"]
    assert expect_ok(admin_call(client, version, "audit/list", {"uid": person["uid"], "since": newest + 1},
                                root[version]), version)["total"] == 0
    assert expect_ok(admin_call(client, version, "audit/list",
                                {"uid": person["uid"], "event": "login", "until": newest},
                                root[version]), version)["total"] == 3
    # a phone typed at login is masked like any phone
    client.post("/v1/login", {"username": person["phone"], "password": "wrong_pass"})
    typed = expect_ok(admin_call(client, version, "audit/list", {"uid": person["uid"], "limit": 1}, root[version]),
                      version)["list"][0]
    assert typed["account"] == person["phone"][:3] + "****" + person["phone"][-4:]


def test_every_admin_route_names_a_listed_permission() -> None:
    import route.app  # noqa: F401 - declares the routes
    from app.common.permission import ADMIN_PERMISSIONS
    from app.common.route import Route

    guards = {rule.path: [m.partition(":")[2] for m in rule.middlewares if m.startswith("checkPermission")]
              for rule in Route.rules if "/admin/" in rule.path}
    assert len(guards) == 8
    for path, [permission] in guards.items():
        assert permission in ADMIN_PERMISSIONS and path.endswith(permission), path
    assert set(ADMIN_PERMISSIONS) - {p for [p] in guards.values()} == {"user/export_pii"}


def test_unversioned_path_is_the_default_version(client: Client, root: dict[str, Any]) -> None:
    data = expect_ok(client.post("/admin/user/list", {"limit": 1}, token=root["v2"]), "v2")
    assert data["limit"] == 1


def test_two_admins_disabling_each_other_at_once_leave_one(race_server: Server) -> None:
    """Both requests in flight together: one wins, the other hears LAST_ADMIN (or finds its token dead)."""
    import threading

    server, root = race_server, make_root(race_server)

    first, second = Client(server.url), Client(server.url)
    one, two = make_user(server, first, admin=True), make_user(server, second, admin=True)
    # for the race, `one` and `two` are the only active `*` holders (root sits it out, its tokens kept)
    server.query("UPDATE users SET status = 0 WHERE id NOT IN (?, ?) AND id IN "
                 "(SELECT uid FROM user_role WHERE role_id = 1)", one["uid"], two["uid"])
    barrier = threading.Barrier(2)
    answers: dict[str, requests.Response] = {}

    def disable(name: str, client: Client, token: str, uid: int) -> None:
        barrier.wait()
        answers[name] = admin_call(client, "v2", "user/disable", {"uid": uid}, token)

    threads = [threading.Thread(target=disable, args=("one", first, one["v2"], two["uid"])),
               threading.Thread(target=disable, args=("two", second, two["v2"], one["uid"]))]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        statuses = sorted(answer.status_code for answer in answers.values())
        assert statuses in ([200, 401], [200, 403]), {k: v.text for k, v in answers.items()}
        assert len(server.query("SELECT id FROM users WHERE status = 1 AND id IN (?, ?)",
                                one["uid"], two["uid"])) == 1
    finally:
        server.query("UPDATE users SET status = 1 WHERE id = ?", root["uid"])
        server.query("UPDATE users SET status = 0 WHERE id IN (?, ?)", one["uid"], two["uid"])
    assert can_use(Client(server.url), root["v2"])
