"""Exports (SPEC §14, Excel/CSV): /{ver}/admin/user/export and /{ver}/admin/audit/export against a live server.

The answer is the file itself (errors stay envelopes); CSV is UTF-8 with a BOM and no cell a
spreadsheet would run as a formula; XLSX text is always a string cell; phones are masked unless
the caller holds `user/export_pii`; rows come in id order, across many batches.
"""
from __future__ import annotations

import csv
import io
import re
import time
from typing import Any

import openpyxl
import pytest
import requests

from tests.api.test_admin_users import make_user, tokens, with_role
from tests.conftest import PASSWORD, Server
from tests.support import Client, expect_error

VERSIONS = ("v1", "v2")
PARAM_INVALID = (60006, 9906, 400)
PERMISSION_DENIED = (60018, 9914, 403)
INJECTED = "=1+1"


@pytest.fixture(scope="module")
def root(server: Server) -> dict[str, Any]:
    client = Client(server.url)
    uid = server.create_user("root", "13900000001", PASSWORD, admin=True)
    return {"uid": uid, "account": "root", **tokens(client, "root")}


def export(client: Client, version: str, what: str, params: dict[str, Any], token: str) -> requests.Response:
    return client.post(f"/{version}/admin/{what}/export", params, token=token)


def read_csv(response: requests.Response) -> list[list[str]]:
    assert response.status_code == 200, response.text[:300]
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert re.fullmatch(r'attachment; filename="(users|audit)-\d{8}-\d{6}\.csv"',
                        response.headers["content-disposition"])
    assert response.content.startswith(b"\xef\xbb\xbf")  # the BOM, so Excel reads UTF-8
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"), newline="")))


def read_xlsx(response: requests.Response) -> list[tuple]:
    assert response.status_code == 200, response.text[:300]
    assert response.headers["content-type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert re.fullmatch(r'attachment; filename="(users|audit)-\d{8}-\d{6}\.xlsx"',
                        response.headers["content-disposition"])
    assert int(response.headers["content-length"]) == len(response.content)
    sheet = openpyxl.load_workbook(io.BytesIO(response.content), read_only=True).active
    return list(sheet.iter_rows())


def masked(phone: str) -> str:
    return phone[:3] + "****" + phone[-4:]


@pytest.mark.parametrize("version", VERSIONS)
def test_user_csv_masks_phones_unless_pii(server: Server, client: Client, root: dict[str, Any],
                                          version: str) -> None:
    person = make_user(server, client)
    rows = read_csv(export(client, version, "user", {"format": "csv", "keyword": person["account"]}, root[version]))
    assert rows[0] == ["uid", "account", "phone", "status", "created_at", "updated_at"]
    # the administrator holds `*`, user/export_pii included
    assert rows[1][:4] == [str(person["uid"]), person["account"], person["phone"], "1"]
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}", rows[1][4])
    assert len(rows) == 2
    exporter = with_role(server, client, root, ["user/export"])
    plain = read_csv(export(client, version, "user", {"format": "csv", "keyword": person["phone"]}, exporter[version]))
    assert plain[1][2] == masked(person["phone"])
    pii = with_role(server, client, root, ["user/export", "user/export_pii"])
    full = read_csv(export(client, version, "user", {"format": "csv", "keyword": person["phone"]}, pii[version]))
    assert full[1][2] == person["phone"]


@pytest.mark.parametrize("version", VERSIONS)
def test_formula_cells_are_defused(server: Server, client: Client, root: dict[str, Any], version: str) -> None:
    """An identity typed at login lands in the audit log as typed: `=1+1` must not become a formula."""
    marker = f"ua{version}"
    for typed in (INJECTED, "+1", "-1", "@SUM(A1)", f"{marker} plain"):
        client.post("/v1/login", {"username": typed, "password": "wrong_pass"})
    # The audit log escapes control characters it is given (SPEC §10), so a tab or a CR at the start of
    # a cell can only come from rows written before that, or by hand: put them there directly.
    for raw in ("\tx", "\rx"):
        server.query("INSERT INTO audit_log (created_at, event, outcome, account, ip) VALUES (?, 'login', 'failed', ?, "
                     "'127.0.0.1')", int(time.time()), raw)
    server.query("UPDATE audit_log SET detail = ? WHERE account = ?", marker, f"{marker} plain")
    rows = read_csv(export(client, version, "audit", {"format": "csv", "event": "login"}, root[version]))
    accounts = [row[5] for row in rows[1:]]
    for cell in ("'=1+1", "'+1", "'-1", "'@SUM(A1)", "'\tx", "'\rx", f"{marker} plain"):
        assert cell in accounts
    assert INJECTED not in accounts
    cells = read_xlsx(export(client, version, "audit", {"format": "xlsx", "event": "login"}, root[version]))
    assert [c.value for c in cells[0]] == ["id", "created_at", "event", "outcome", "uid", "account", "ip", "detail"]
    injected = [row[5] for row in cells[1:] if row[5].value == INJECTED]
    assert injected and all(cell.data_type == "s" for cell in injected)
    assert all(row[5].data_type == "s" for row in cells[1:] if row[5].value is not None)


def test_many_batches_in_id_order_and_max_rows(server: Server, client: Client, root: dict[str, Any]) -> None:
    """More rows than one batch (1000): every one exported, once, in id order; max_rows caps them."""
    values = ", ".join(f"({1000 + i}, 'bulk', 'ok', 424242, '中文{i}', '127.0.0.1')" for i in range(1, 2501))
    server.query(f"INSERT INTO audit_log (created_at, event, outcome, uid, account, ip) VALUES {values}")
    streamed = export(client, "v2", "audit", {"format": "csv", "uid": 424242}, root["v2"])
    # sent as it is written: no length known up front (chunked on the wire: tests/api/test_http_protocol.py)
    assert "content-length" not in streamed.headers
    rows = read_csv(streamed)[1:]
    assert len(rows) == 2500 and rows[0][5] == "中文1" and rows[-1][5] == "中文2500"
    ids = [int(row[0]) for row in rows]
    assert ids == sorted(set(ids))
    capped = read_csv(export(client, "v2", "audit", {"format": "csv", "uid": 424242, "max_rows": 1001,
                                                     "since": 1002}, root["v2"]))[1:]
    assert [row[5] for row in capped] == [f"中文{i}" for i in range(2, 1003)]
    cells = read_xlsx(export(client, "v1", "audit", {"format": "xlsx", "uid": 424242, "until": 1100}, root["v1"]))
    assert [row[5].value for row in cells[1:]] == [f"中文{i}" for i in range(1, 101)]


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("what, params", [
    ("user", {}), ("user", {"format": "pdf"}), ("audit", {"format": "CSV "}), ("user", {"format": ["csv"]}),
    ("audit", {"format": "csv", "max_rows": 10**12}), ("audit", {"format": "csv", "max_rows": 0}),
    ("audit", {"format": "csv", "since": "yesterday"}), ("audit", {"format": "xlsx", "uid": [1]}),
    ("user", {"format": "csv", "status": "all"}), ("user", {"format": "csv", "keyword": {"a": 1}}),
])
def test_bad_input_is_an_envelope(client: Client, root: dict[str, Any], version: str, what: str,
                                  params: dict[str, Any]) -> None:
    expect_error(export(client, version, what, params, root[version]), version, *PARAM_INVALID)


@pytest.mark.parametrize("version", VERSIONS)
def test_without_permission_403_envelope(server: Server, client: Client, root: dict[str, Any],
                                         version: str) -> None:
    plain = make_user(server, client)
    users_only = with_role(server, client, root, ["user/export"])
    for what in ("user", "audit"):
        expect_error(export(client, version, what, {"format": "csv"}, plain[version]), version, *PERMISSION_DENIED)
    expect_error(export(client, version, "audit", {"format": "csv"}, users_only[version]), version,
                 *PERMISSION_DENIED)
    assert read_csv(export(client, version, "user", {"format": "csv"}, users_only[version]))[0][0] == "uid"


def test_exports_are_signed_posts_and_audited(server: Server, client: Client, root: dict[str, Any]) -> None:
    unsigned = client.post("/v2/admin/user/export", {"format": "csv"}, token=root["v2"], sign=False)
    expect_error(unsigned, "v2", 60005, 9902, 400)  # no timestamp
    assert client.raw("GET", "/v2/admin/user/export").status_code == 405
    read_csv(export(client, "v2", "user", {"format": "csv", "status": 1}, root["v2"]))
    entry = server.query("SELECT outcome, detail FROM audit_log WHERE event = 'admin' AND uid = ? "
                         "ORDER BY id DESC LIMIT 1", root["uid"])
    assert entry == [("users.export", "csv with phones, filters {'status': '1'}")]


def test_openapi_describes_exports_as_files(server: Server) -> None:
    doc = Client(server.url).raw("GET", "/openapi.json").json()
    for what in ("user", "audit"):
        operation = doc["paths"][f"/v2/admin/{what}/export"]["post"]
        assert set(operation["responses"]["200"]["content"]) == {
            "text/csv; charset=utf-8", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
        assert "Content-Disposition" in operation["responses"]["200"]["headers"]
        assert operation["requestBody"]["content"]["application/json"]["schema"]["properties"]["format"]["enum"] == \
            ["csv", "xlsx"]
        assert {"PERMISSION_DENIED", "PARAM_INVALID"} <= {e["name"] for e in operation["x-errors"]}
    disable = doc["paths"]["/v1/admin/user/disable"]["post"]
    assert {"LAST_ADMIN", "SELF_DISABLE", "PERMISSION_ESCALATION"} <= {e["name"] for e in disable["x-errors"]}
