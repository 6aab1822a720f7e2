"""Roster workbooks → rows keyed by column *name*, with each cell's hyperlink.

ICE reorders, adds and renames columns without notice (ADDENDUM appeared on 1 Jul 2025), so
columns are found by header text through an alias table, never by letter.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ice_tracker.limits import limit
from ice_tracker.xlsx import RawSheet, WorkbookError, _sheet_paths, cell_to_index, read_workbook
from ice_tracker.xlsx_guard import WorkbookLimits, check_workbook

# canonical column → header spellings (compared after upper-casing and squeezing non-letters).
HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "state": ("STATE",),
    "agency": ("LAW ENFORCEMENT AGENCY", "AGENCY", "AGENCY NAME", "LAW ENFORCEMENT AGENCY NAME", "LEA"),
    "type": ("TYPE", "AGENCY TYPE", "JURISDICTION TYPE"),
    "county": ("COUNTY", "COUNTY NAME"),
    "support_type": ("SUPPORT TYPE", "MODEL", "PROGRAM MODEL", "SUPPORT MODEL", "287G MODEL"),
    "signed": ("SIGNED", "DATE SIGNED", "SIGNED DATE", "MOA SIGNED"),
    "moa": ("MOA", "MOA LINK", "AGREEMENT", "MEMORANDUM OF AGREEMENT"),
    "addendum": ("ADDENDUM", "ADDENDUM LINK", "ADDENDA"),
}
REQUIRED = ("state", "agency")
CUT_PREVIEW = 100  # characters of an over-long cell kept in quality.csv, so a person can find it
HEADER_SEARCH_ROWS = 25
# An error cell (`#N/A`, `#REF!`…): calamine reads it as "", but the text is what ICE published.
ERROR_TYPE = re.compile(rb'\bt="e"')
CELL_REF_ATTR = re.compile(rb'\br="([A-Z]+[0-9]+)"')
CELL_VALUE = re.compile(rb"<(?:\w+:)?v>([^<]*)</(?:\w+:)?v>")


def header_key(value: Any) -> str:
    return re.sub(r"[^A-Z0-9]+", " ", str(value or "").upper()).strip()


ALIAS_LOOKUP = {header_key(alias): column for column, aliases in HEADER_ALIASES.items() for alias in aliases}


class RosterFormatError(WorkbookError):
    """A workbook that opens but has no recognisable roster header."""


@dataclass
class RosterRow:
    row_number: int  # Excel row number (1-based), for quality reports a person can check
    values: dict[str, Any]
    links: dict[str, str] = field(default_factory=dict)


@dataclass
class RosterTable:
    sheet: str
    header_row: int
    columns: dict[str, int]
    unknown_headers: list[str]
    rows: list[RosterRow]
    cut_cells: list[tuple[int, str, int, str]] = field(default_factory=list)  # (row, column, length, start)


def _find_header(sheet: RawSheet) -> tuple[int, dict[str, int], list[str]] | None:
    for index, row in enumerate(sheet.rows[:HEADER_SEARCH_ROWS]):
        columns: dict[str, int] = {}
        unknown: list[str] = []
        for col, cell in enumerate(row):
            key = header_key(cell)
            if not key:
                continue
            canonical = ALIAS_LOOKUP.get(key)
            if canonical and canonical not in columns:
                columns[canonical] = col
            else:
                unknown.append(str(cell).strip())
        if all(name in columns for name in REQUIRED):
            return index, columns, unknown
    return None


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def parse_roster(sheets: list[RawSheet]) -> RosterTable:
    """The first sheet with a roster header, its data rows (blank rows skipped) and their links."""
    for sheet in sheets:
        found = _find_header(sheet)
        if not found:
            continue
        header_index, columns, unknown = found
        rows = []
        cut: list[tuple[int, str, int, str]] = []
        cap = int(limit("cell_chars"))
        for index in range(header_index + 1, len(sheet.rows)):
            raw = sheet.rows[index]
            values = {name: (raw[col] if col < len(raw) else None) for name, col in columns.items()}
            if all(_blank(v) for v in values.values()):
                continue
            links = {name: sheet.links[(index, col)] for name, col in columns.items() if (index, col) in sheet.links}
            for cells in (values, links):
                for name, value in cells.items():
                    if isinstance(value, str) and len(value) > cap:
                        cut.append((index + 1, name, len(value), value[:CUT_PREVIEW]))
                        cells[name] = value[:cap]
            rows.append(RosterRow(row_number=index + 1, values=values, links=links))
        return RosterTable(sheet.name, header_index + 1, columns, unknown, rows, cut)
    raise RosterFormatError("no sheet has a roster header (needs STATE and LAW ENFORCEMENT AGENCY columns)")


def _restore_error_cells(data: bytes, sheets: list[RawSheet]) -> None:
    """Put error texts such as `#N/A` back where calamine left an empty string."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        paths = _sheet_paths(archive)
        for sheet in sheets:
            path = paths.get(sheet.name)
            if not path:
                continue
            xml = archive.read(path)
            if b't="e"' not in xml:
                continue
            for ref, text in _error_cells(xml):
                r, c = cell_to_index(ref.decode())
                if r < len(sheet.rows) and c < len(sheet.rows[r]) and sheet.rows[r][c] in ("", None):
                    sheet.rows[r][c] = text.decode()


def _error_cells(xml: bytes) -> list[tuple[bytes, bytes]]:
    """(cell reference, error text) of every t="e" cell. Plain byte searches for the layout Excel
    writes (`<c r="D18" s="28" t="e"><v>#N/A</v></c>`); anything else takes the general path."""
    cells = []
    position = xml.find(b' t="e"')
    while position >= 0:
        start = xml.rfind(b'<c r="', 0, position)
        ref_end = xml.find(b'"', start + 6)
        value_start = xml.find(b"<v>", position)
        value_end = xml.find(b"</v>", value_start)
        cell_end = xml.find(b"</c>", position)
        if min(start, value_start, value_end, cell_end) < 0 or ref_end > position or value_end > cell_end \
                or xml.find(b">", start, position) >= 0:
            return _error_cells_general(xml)
        cells.append((xml[start + 6:ref_end], xml[value_start + 3:value_end]))
        position = xml.find(b' t="e"', position + 6)
    return cells


def _error_cells_general(xml: bytes) -> list[tuple[bytes, bytes]]:
    """(cell reference, error text) of every t="e" cell, whatever the attribute order."""
    cells = []
    for found in ERROR_TYPE.finditer(xml):
        start = xml.rfind(b"<", 0, found.start())  # the <c …> tag holding t="e"
        end = xml.find(b"</c>", found.end())
        end = len(xml) if end < 0 else end
        ref = CELL_REF_ATTR.search(xml, start, found.start()) or CELL_REF_ATTR.search(xml, found.end(), end)
        value = CELL_VALUE.search(xml, found.end(), end)
        if ref and value:
            cells.append((ref.group(1), value.group(1)))
    return cells


def read_roster(source: str | Path | bytes) -> RosterTable:
    """Parse a participating or pending workbook; raises WorkbookError/RosterFormatError."""
    data = Path(source).read_bytes() if not isinstance(source, bytes) else source
    sheets = read_workbook(data)
    try:
        _restore_error_cells(data, sheets)
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:  # values are still usable without them
        raise WorkbookError(f"unreadable workbook: {type(exc).__name__}: {exc}") from exc
    return parse_roster(sheets)


def read_roster_checked(source: str | Path) -> RosterTable:
    """`read_roster` after the size guard (what the sandboxed worker runs on a stranger's file)."""
    check_workbook(source, WorkbookLimits.named("roster"))
    return read_roster(source)
