"""Deep checks that a file is what it claims, before it is archived and whenever `verify` runs.

The first bytes prove little: a PDF cut short, a ZIP or an HTML page behind `%PDF`, a garbage
parquet with the right magic, or a file spliced from a lying range response all start right.
Each check here opens the file in its format: a PDF's page tree must be read and `%%EOF` be
present; a workbook must pass the size guard, open and (for a roster) have a roster header; a
ZIP's every member must match its CRC; a parquet's every row group must decode; a detentions table
must have the columns the detention derivations need. They raise `FormatError`, and are meant to
run in the sandboxed worker (ice_tracker/sandbox.py), since they parse what strangers sent.
"""

from __future__ import annotations

import csv
import zipfile
from pathlib import Path

PDF_HEAD = b"%PDF-"
PDF_TAIL_WINDOW = 2048  # %%EOF must sit in the last bytes (the spec says 1024; writers pad)
FOREIGN_BODIES = ((b"PK\x03\x04", "a ZIP archive"), (b"<html", "an HTML page"), (b"<!doctype", "an HTML page"))
HEADER_SCAN_ROWS = 25
DETENTION_TABLES = ("detentions", "stints")


class FormatError(ValueError):
    """The file does not open as the format it claims."""


def _ends(path: Path, size: int) -> tuple[bytes, bytes]:
    with open(path, "rb") as handle:
        head = handle.read(size)
        handle.seek(0, 2)
        end = handle.tell()
        handle.seek(max(0, end - size))
        return head, handle.read(size)


def check_pdf(path: str | Path) -> int:
    """The PDF's page count (-1 when encrypted, which is still a PDF); FormatError otherwise."""
    from pdfminer.pdfdocument import PDFDocument, PDFPasswordIncorrect
    from pdfminer.pdfparser import PDFParser
    from pdfminer.pdftypes import resolve1

    path = Path(path)
    head, tail = _ends(path, PDF_TAIL_WINDOW)
    start = head.find(PDF_HEAD)
    if start < 0 or start > 1024:
        raise FormatError("not a PDF: no %PDF- header")
    body = head[start:].split(b"\n", 1)[-1].lstrip().lower()
    for magic, what in FOREIGN_BODIES:
        if body.startswith(magic.lower()) or magic.lower() in head[start:start + 64].lower():
            raise FormatError(f"not a PDF: {what} behind the %PDF header")
    if b"%%EOF" not in tail:
        raise FormatError("not a whole PDF: no %%EOF at the end (cut short?)")
    try:
        with open(path, "rb") as handle:
            document = PDFDocument(PDFParser(handle))
            pages = resolve1(document.catalog.get("Pages"))
            count = resolve1(pages.get("Count")) if isinstance(pages, dict) else None
    except PDFPasswordIncorrect:
        return -1
    except Exception as exc:  # pdfminer raises many types for a broken file
        raise FormatError(f"not a readable PDF: {type(exc).__name__}: {exc}") from exc
    if not isinstance(count, int) or count < 1:
        raise FormatError(f"not a readable PDF: page tree gives {count!r} pages")
    return count


def check_zip(path: str | Path) -> list[str]:
    """Every member's bytes match their CRC (catches spliced and truncated files); the names."""
    try:
        with zipfile.ZipFile(path) as archive:
            bad = archive.testzip()
            names = archive.namelist()
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError) as exc:
        raise FormatError(f"not a readable ZIP: {type(exc).__name__}: {exc}") from exc
    if bad is not None:
        raise FormatError(f"damaged ZIP: {bad} does not match its CRC")
    if not names:
        raise FormatError("empty ZIP")
    return names


def _header_rows(path: Path) -> list[list[object]]:
    """The first rows of every sheet, read in streaming mode (never the whole workbook)."""
    from openpyxl import load_workbook

    rows: list[list[object]] = []
    try:
        handle = open(path, "rb")  # a handle: openpyxl judges a path by its extension (.part)
        workbook = load_workbook(handle, read_only=True, data_only=True)
        try:
            for sheet in workbook.worksheets:
                for row in sheet.iter_rows(max_row=HEADER_SCAN_ROWS, values_only=True):
                    rows.append(list(row))
        finally:
            workbook.close()
            handle.close()
    except Exception as exc:  # openpyxl raises many types for a broken workbook
        raise FormatError(f"not a readable workbook: {type(exc).__name__}: {exc}") from exc
    return rows


def _check_columns(table: str, header_rows: list[list[object]]) -> None:
    """A detentions table needs the derivations' required columns; any other table a header."""
    if table in DETENTION_TABLES:
        from ice_tracker.detention.columns import REQUIRED, map_header

        for cells in header_rows:
            names, _ = map_header(list(cells))
            if all(column in names for column in REQUIRED):
                return
        raise FormatError(f"no {table} header with the required columns {list(REQUIRED)}")
    if not any(sum(1 for cell in cells if str(cell or "").strip()) >= 2 for cells in header_rows):
        raise FormatError(f"no header row (two or more named columns) in the first {HEADER_SCAN_ROWS} rows")


def check_release_file(path: str | Path, fmt: str, table: str) -> str:
    """A DDP release file opens as `fmt` and has `table`'s expected columns; returns what was checked."""
    path = Path(path)
    if fmt in ("xlsx", "zip"):
        names = check_zip(path)
        if fmt == "zip":
            return f"ZIP, {len(names)} members"
        from ice_tracker.xlsx import WorkbookError
        from ice_tracker.xlsx_guard import WorkbookLimits, check_workbook

        try:
            check_workbook(path, WorkbookLimits.named("ddp"))
        except WorkbookError as exc:
            raise FormatError(str(exc)) from exc
        _check_columns(table, _header_rows(path))
        return "xlsx workbook"
    if fmt == "parquet":
        import pyarrow.parquet as pq

        try:
            parquet = pq.ParquetFile(path)
            columns = parquet.schema_arrow.names
            for group in range(parquet.num_row_groups):  # decodes every page: a splice shows here
                parquet.read_row_group(group)
        except Exception as exc:  # pyarrow raises ArrowInvalid, OSError, …
            raise FormatError(f"not a readable parquet file: {type(exc).__name__}: {exc}") from exc
        _check_columns(table, [columns])
        return f"parquet, {parquet.metadata.num_rows:,} rows"
    if fmt == "dta":
        import pandas as pd

        try:
            with pd.read_stata(path, iterator=True) as reader:
                columns = list(reader.read(1).columns)
        except Exception as exc:  # pandas raises ValueError, UnicodeDecodeError, …
            raise FormatError(f"not a readable Stata file: {type(exc).__name__}: {exc}") from exc
        _check_columns(table, [columns])
        return "Stata file"
    if fmt == "csv":
        head, _ = _ends(path, 1 << 16)
        if b"\x00" in head:
            raise FormatError("not a CSV: binary bytes")
        text = head.decode("utf-8", errors="replace")
        lines = text.splitlines()[:HEADER_SCAN_ROWS]
        _check_columns(table, list(csv.reader(lines)))
        return "CSV"
    return "unchecked format"
