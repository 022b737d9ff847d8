"""The export writers (app/service/export.py) and the phone mask, without a server."""
from __future__ import annotations

import io

import openpyxl
import pytest

from app.service import export
from app.service.admin_query import mask_phone


@pytest.mark.parametrize("value, cell", [
    ("=1+1", "'=1+1"), ("+86", "'+86"), ("-1", "'-1"), ("@A1", "'@A1"), ("\tx", "'\tx"), ("\rx", "'\rx"),
    ("a=1", "a=1"), ("", ""), (None, ""), (-5, "'-5"), (7, "7"), ("中文", "中文"),
])
def test_csv_cell_defuses_formulas(value: object, cell: str) -> None:
    assert export.csv_cell(value) == cell


@pytest.mark.parametrize("phone, shown", [
    ("13800000000", "138****0000"), ("+8613800000000", "+86****0000"), ("123456", "****"), ("", ""), (None, None),
])
def test_mask_phone(phone: str | None, shown: str | None) -> None:
    assert mask_phone(phone) == shown


def test_csv_has_a_bom_and_one_chunk_per_batch() -> None:
    chunks = list(export.csv_chunks(("a", "b"), iter([[["=x", "中"]], [[1, None]]])))
    assert chunks == ["\ufeffa,b\r\n".encode(), "'=x,中\r\n".encode(), b"1,\r\n"]


def test_xlsx_text_is_never_a_formula_and_sheets_roll_over(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(export, "SHEET_ROWS", 3)
    target = io.BytesIO()
    export.write_xlsx(target, "audit", ("a", "b"), iter([[["=1+1", 1], ["x\x00y", 2]], [["=SUM(A1)", 3]]]))
    target.seek(0)
    workbook = openpyxl.load_workbook(target)
    assert [sheet.title for sheet in workbook.worksheets] == ["audit", "audit-2"]
    first, second = ([[(c.value, c.data_type) for c in row] for row in sheet.iter_rows()]
                     for sheet in workbook.worksheets)
    assert first == [[("a", "s"), ("b", "s")], [("=1+1", "s"), (1, "n")], [("x\ufffdy", "s"), (2, "n")]]
    assert second == [[("a", "s"), ("b", "s")], [("=SUM(A1)", "s"), (3, "n")]]
