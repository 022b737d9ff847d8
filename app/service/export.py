"""Exports (SPEC §14, Excel/CSV): every matching row, in memory that stays flat however many.

Rows are read in keyset batches (`WHERE id > last ORDER BY id LIMIT 1000`), never in one fetch,
and written out batch by batch: CSV as UTF-8 chunks, XLSX through openpyxl's write-only mode into
a temporary file. The same generators serve the HTTP routes (each step in a worker thread) and the
`user:export` / `audit:export` commands.
"""
from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import AsyncIterator, Callable, Generator, Iterator
from dataclasses import dataclass
from typing import IO, Any

import anyio.to_thread

from app.common.clock import format_time
from app.common.database import db_write
from app.model.audit_log import AuditLog
from app.model.base import db
from app.model.user import User
from app.service.admin_query import audit_query, audit_row, user_query, user_row

BATCH = 1000
CHUNK = 64 * 1024
# Rows of one XLSX sheet, the header's included (Excel opens no more).
SHEET_ROWS = 1_048_576
FORMATS = {"csv": "text/csv; charset=utf-8",
           "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
# A spreadsheet reads a cell starting with one of these as a formula (CSV injection).
_FORMULA_STARTS = frozenset("=+-@\t\r")
_TIMES = frozenset({"created_at", "updated_at"})


@dataclass(frozen=True)
class Sheet:
    """What one export reads: its query (from the list filters), key, row shape and columns."""

    name: str
    model: Any
    query: Callable[[dict[str, Any]], Any]
    to_row: Callable[[Any, bool], dict[str, Any]]
    columns: tuple[str, ...]


SHEETS = {
    "users": Sheet("users", User, user_query, user_row,
                   ("uid", "account", "phone", "status", "created_at", "updated_at")),
    "audit": Sheet("audit", AuditLog, audit_query, audit_row,
                   ("id", "created_at", "event", "outcome", "uid", "account", "ip", "detail")),
}


def batches(sheet: Sheet, filters: dict[str, Any], max_rows: int | None = None) -> Iterator[list[Any]]:
    """The matching rows in id order, BATCH at a time, each batch one indexed query."""
    key = sheet.model.id
    base = sheet.query(filters)
    last, left = 0, max_rows
    while left is None or left > 0:
        size = BATCH if left is None else min(BATCH, left)
        # Straight from the cursor, zipped with the column names: peewee's per-row processing
        # would cost more than the query itself.
        cursor = db.execute(base.where(key > last).order_by(key).limit(size))
        names = [column[0] for column in cursor.description]
        rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
        cursor.close()
        if rows:
            yield rows
        if len(rows) < size:
            return
        last = rows[-1]["id"]
        left = None if left is None else left - len(rows)


def table(sheet: Sheet, filters: dict[str, Any], *, pii: bool, zone: str,
          max_rows: int | None = None) -> Iterator[list[list[Any]]]:
    """Batches of cells in the sheet's column order, times as `YYYY-MM-DD HH:MM:SS` in `zone`."""
    for rows in batches(sheet, filters, max_rows):
        yield [[format_time(value, zone) if column in _TIMES and value else value
                for column, value in sheet.to_row(item, pii).items()] for item in rows]


def csv_cell(value: Any) -> str:
    """The text of one CSV cell; one a spreadsheet would run as a formula gets a leading `'`."""
    text = "" if value is None else str(value)
    return "'" + text if text and text[0] in _FORMULA_STARTS else text


def csv_chunks(columns: tuple[str, ...], tables: Iterator[list[list[Any]]]) -> Generator[bytes, None, None]:
    """UTF-8 with a BOM (so Excel reads Chinese right), one chunk per batch."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    yield ("\ufeff" + buffer.getvalue()).encode("utf-8")
    for rows in tables:
        buffer.seek(0)
        buffer.truncate()
        writer.writerows([csv_cell(value) for value in row] for row in rows)
        yield buffer.getvalue().encode("utf-8", errors="replace")


def write_xlsx(target: IO[bytes], title: str, columns: tuple[str, ...], tables: Iterator[list[list[Any]]]) -> None:
    """An XLSX workbook of one sheet; text is always a string cell, never a formula."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title)
    sheets, used = 1, 1

    def cell(value: Any) -> Any:
        if not isinstance(value, str):
            return value
        # Control characters (an identity typed at login may hold any) are not allowed in XML.
        value = ILLEGAL_CHARACTERS_RE.sub("\ufffd", value)
        if not value.startswith("="):
            return value
        formula_proof = WriteOnlyCell(sheet, value=value)
        formula_proof.data_type = "s"  # openpyxl would store "=…" as a formula
        return formula_proof

    sheet.append(list(columns))
    for rows in tables:
        for row in rows:
            if used == SHEET_ROWS:  # Excel's limit: the rest goes on to the next sheet, headed again
                sheets, used = sheets + 1, 1
                sheet = workbook.create_sheet(f"{title}-{sheets}")
                sheet.append(list(columns))
            sheet.append([cell(value) for value in row])
            used += 1
    workbook.save(target)


async def stream_csv(chunks: Generator[bytes, None, None]) -> AsyncIterator[bytes]:
    """Each chunk produced in a worker thread (its batch's query runs there), sent as it comes."""
    try:
        while (chunk := await db_write(next, chunks, None)) is not None:
            yield chunk
    finally:
        chunks.close()


async def build_xlsx(title: str, columns: tuple[str, ...], tables: Iterator[list[list[Any]]]) -> tuple[IO[bytes], int]:
    """The workbook, built in a worker thread into an anonymous temporary file: (file, size)."""
    target = tempfile.TemporaryFile()
    try:
        await db_write(write_xlsx, target, title, columns, tables)
    except BaseException:
        target.close()
        raise
    return target, target.tell()


async def stream_file(target: IO[bytes]) -> AsyncIterator[bytes]:
    """The file from its start, CHUNK bytes at a time, closed (and so deleted) at the end."""
    try:
        await anyio.to_thread.run_sync(target.seek, 0)
        while chunk := await anyio.to_thread.run_sync(target.read, CHUNK):
            yield chunk
    finally:
        target.close()


def export_to_file(target: IO[bytes], name: str, fmt: str, filters: dict[str, Any], *, pii: bool, zone: str,
                   max_rows: int | None = None) -> None:
    """The whole export written to an open file (the `user:export` / `audit:export` commands)."""
    sheet = SHEETS[name]
    tables = table(sheet, filters, pii=pii, zone=zone, max_rows=max_rows)
    if fmt == "xlsx":
        write_xlsx(target, name, sheet.columns, tables)
        return
    for chunk in csv_chunks(sheet.columns, tables):
        target.write(chunk)
