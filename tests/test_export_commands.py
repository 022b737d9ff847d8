"""`python server.py user:export` / `audit:export` (SPEC §14): the HTTP exports' files, from the shell."""
from __future__ import annotations

import csv
import io
from pathlib import Path

import openpyxl
import pytest

from tests.conftest import PASSWORD
from tests.support import Client, LiveServer


@pytest.fixture(scope="module")
def people(server: LiveServer) -> dict[str, int]:
    return {"alice": server.create_user("alice", "13811112222", PASSWORD),
            "bob": server.create_user("bob", "13833334444", PASSWORD)}


def read_csv(path: Path) -> list[list[str]]:
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def test_user_export_csv_filters_and_masks(server: LiveServer, people: dict[str, int], tmp_path: Path) -> None:
    out = tmp_path / "users.csv"
    done = server.command("user:export", "--format", "csv", "--out", str(out), "--keyword", "ALI")
    assert done.returncode == 0, done.stderr
    assert f"wrote {out}" in done.stdout
    rows = read_csv(out)
    assert rows[0] == ["uid", "account", "phone", "status", "created_at", "updated_at"]
    assert [row[:4] for row in rows[1:]] == [[str(people["alice"]), "alice", "138****2222", "1"]]
    exported = server.command("user:export", "--format", "csv", "--out", str(out), "--pii", "--keyword", "bob")
    assert exported.returncode == 0
    assert read_csv(out)[1][2] == "13833334444"


def test_audit_export_xlsx_keeps_formulas_out(server: LiveServer, people: dict[str, int], tmp_path: Path) -> None:
    Client(server.url).post("/v1/login", {"username": "=1+1", "password": "wrong_pass"})
    out = tmp_path / "audit.xlsx"
    done = server.command("audit:export", "--format", "xlsx", "--out", str(out), "--event", "login")
    assert done.returncode == 0, done.stderr
    rows = list(openpyxl.load_workbook(out).active.iter_rows())
    assert [c.value for c in rows[0]][:3] == ["id", "created_at", "event"]
    cells = [row[5] for row in rows[1:] if row[5].value == "=1+1"]
    assert cells and all(cell.data_type == "s" for cell in cells)
    csv_out = tmp_path / "audit.csv"
    assert server.command("audit:export", "--format", "csv", "--out", str(csv_out), "--event", "login",
                          "--max-rows", "1").returncode == 0
    assert [row[5] for row in read_csv(csv_out)[1:]] == ["'=1+1"]


@pytest.mark.parametrize("args, words", [
    (["audit:export", "--format", "csv", "--since", "yesterday"], ["since", "integer"]),
    (["audit:export", "--format", "csv", "--uid", "0"], ["uid"]),
    (["user:export", "--format", "csv", "--status", "2"], ["status"]),
    (["user:export", "--format", "csv", "--max-rows", "0"], ["max_rows"]),
])
def test_bad_filters_fail_cleanly(server: LiveServer, tmp_path: Path, args: list[str], words: list[str]) -> None:
    out = tmp_path / "never.csv"
    done = server.command(*args, "--out", str(out))
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    assert done.stderr.startswith("error: ")
    assert all(word in done.stderr for word in words), done.stderr
    assert not out.exists()


def test_bad_format_is_refused_by_the_parser(server: LiveServer, tmp_path: Path) -> None:
    done = server.command("user:export", "--format", "pdf", "--out", str(tmp_path / "x.pdf"))
    assert done.returncode == 2 and "invalid choice" in done.stderr
