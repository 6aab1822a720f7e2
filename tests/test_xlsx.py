"""The fast workbook reader agrees with openpyxl on values and hyperlinks."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from ice_tracker.sources.ice287g.workbook import RosterFormatError, read_roster
from ice_tracker.xlsx import WorkbookError, cell_to_index, read_workbook
from tests.conftest import shared_fixture_path


def _write(path: Path, rows: list[list], links: dict[str, str]) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    for row in rows:
        ws.append(row)
    for ref, url in links.items():
        ws[ref].hyperlink = url
    wb.save(path)
    return path


def test_cell_reference_parsing() -> None:
    assert cell_to_index("A1") == (0, 0)
    assert cell_to_index("$AA$10") == (9, 26)
    with pytest.raises(ValueError):
        cell_to_index("1A")


def test_reads_values_and_links_by_header_name(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "w.xlsx",
        [["Title block"], [], ["MOA", "state", "Law Enforcement  Agency", "New column"], ["MOA", "TEXAS", "X PD", 1], [None, None, None, None], ["link pending ", "OHIO", "Y SO", 2]],
        {"A4": "https://example.org/a.pdf"},
    )
    table = read_roster(path)
    assert table.header_row == 3
    assert table.columns == {"moa": 0, "state": 1, "agency": 2}
    assert table.unknown_headers == ["New column"]
    assert [r.row_number for r in table.rows] == [4, 6]
    assert table.rows[0].links == {"moa": "https://example.org/a.pdf"}
    assert table.rows[1].links == {}


def test_rejects_non_workbooks(tmp_path: Path) -> None:
    with pytest.raises(WorkbookError):
        read_workbook(b"<html>blocked</html>")
    with pytest.raises(WorkbookError):
        read_workbook(b"PK\x03\x04 truncated")
    path = _write(tmp_path / "no_header.xlsx", [["a", "b"], [1, 2]], {})
    with pytest.raises(RosterFormatError):
        read_roster(path)


def test_matches_openpyxl_on_real_workbooks() -> None:
    sheets = sorted(shared_fixture_path("ice287g", "sheets").glob("*/*.xlsx"))
    assert len(sheets) == 64
    for path in sheets[::9]:
        ws = openpyxl.load_workbook(path).active
        expected = {(c.row - 1, c.column - 1): c.hyperlink.target for row in ws.iter_rows() for c in row if c.hyperlink and c.hyperlink.target}
        raw = read_workbook(path)[0]
        assert raw.links == expected
        assert len(read_roster(path).rows) == sum(1 for r in ws.iter_rows(min_row=2, values_only=True) if any(v not in (None, "") and str(v).strip() for v in r))
