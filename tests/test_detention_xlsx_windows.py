"""The windowed .xlsx reader gives exactly the typed table of the whole-sheet cell reader.

Real-layout workbooks are written by the tests (title block, header on row 5 or 7, two sheets,
redactions, dates as cells, text and serials, messy headers); they are read in windows of 7 rows
(every boundary case: header window, marker rows, blank rows) and of 100,000, and compared column by
column, dtype by dtype, with python-calamine's whole-sheet cells fed to the same typing.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import zipfile
from datetime import datetime
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from ice_tracker.detention.clean import TEXT
from ice_tracker.detention.readers import read_workbook_stints, stack
from ice_tracker.detention.xlsx_windows import FOLDER_PREFIX, WindowedWorkbook, _after_nth
from tests.test_detention_layouts import LAYOUT_2026, LAYOUT_CASE_IDS, LAYOUT_CASES, layout_stints, write_layout


@pytest.fixture(scope="module")
def stints() -> pd.DataFrame:
    return layout_stints(120, 5, 3)


def _same_as_whole_sheets(path: Path) -> pd.DataFrame:
    windowed, windowed_reads = read_workbook_stints(path)
    whole, whole_reads = read_workbook_stints(path, whole_sheets=True)
    pd.testing.assert_frame_equal(windowed, whole)
    assert [r.__dict__ for r in windowed_reads] == [r.__dict__ for r in whole_reads]
    return windowed


@pytest.mark.parametrize("window_rows", ["7", "100000"])
@pytest.mark.parametrize("layout, header_row, style, alphabetical", LAYOUT_CASES, ids=LAYOUT_CASE_IDS)
def test_windows_give_the_whole_sheet_table(tmp_path: Path, stints: pd.DataFrame, monkeypatch: pytest.MonkeyPatch,
                                            xlsx_reader: str, window_rows: str, layout: dict[str, str], header_row: int, style: str,
                                            alphabetical: bool) -> None:
    monkeypatch.setenv("ICE_TRACKER_LIMIT_XLSX_WINDOW_ROWS", window_rows)
    path = write_layout(tmp_path / "detentions.xlsx", stints, layout, header_row, sheets=2, style=style,
                        alphabetical=alphabetical)
    frame = _same_as_whole_sheets(path)
    assert len(frame) == len(stints)


def test_windows_mixing_cell_types_and_blank_rows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, xlsx_reader: str) -> None:
    """Date cells, text dates, serials, redactions and numbers in one column; blank and all-zero rows."""
    monkeypatch.setenv("ICE_TRACKER_LIMIT_XLSX_WINDOW_ROWS", "10")
    wb = openpyxl.Workbook()
    ws = wb.active
    for _ in range(6):
        ws.append(["ICE ERO detention history"])
    ws.append(["Anonymized Identifier", "Book In Date Time", "Book Out Date Time", "Detention Facility Code",
               "Initial Bond Set Amount", "MSC Charge Code", "Birth Year"])
    outs = [datetime(2025, 11, 2, 10, 5), "2025-11-03 08:00", 45970.25, "b(6), b(7)c", "11/05/2025 14:05", None, 3]
    for i in range(80):
        if i % 17 == 5:
            ws.append([])  # a blank row inside the data
        elif i % 23 == 9:
            ws.append([0, 0, 0, 0, 0, 0, 0])  # all zeros: skipped like a blank row, as the cell reader does
        else:
            ws.append([f"id-{i}", datetime(2025, 11, 1, i % 24, 0), outs[i % len(outs)], f"FAC{i % 4}",
                       "1,500" if i % 5 == 0 else 1500.0 * (i % 3), 1234 if i % 2 else "12A", 1980 + i % 20])
    path = tmp_path / "mixed.xlsx"
    wb.save(path)
    frame = _same_as_whole_sheets(path)
    assert frame["book_out_date_time"].notna().sum() > 40
    assert frame["source_row"].is_monotonic_increasing and frame["source_row"].iloc[0] == 8


def test_rows_without_numbers_are_read_whole(tmp_path: Path, stints: pd.DataFrame, monkeypatch: pytest.MonkeyPatch) -> None:
    """Some writers leave out `r` on rows; a window could not know its row numbers, so the sheet is
    read whole (same table)."""
    monkeypatch.setenv("ICE_TRACKER_LIMIT_XLSX_WINDOW_ROWS", "7")
    numbered = write_layout(tmp_path / "numbered.xlsx", stints, LAYOUT_2026, 7, sheets=1)
    bare = tmp_path / "bare.xlsx"
    with zipfile.ZipFile(numbered) as source, zipfile.ZipFile(bare, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename.startswith("xl/worksheets/"):
                data = re.sub(rb'(<row\b[^>]*?) r="\d+"', rb"\1", data)
            target.writestr(item, data)
    expected, _ = read_workbook_stints(numbered)
    frame, reads = read_workbook_stints(bare)
    assert reads[0].rows == len(stints)
    columns = [c for c in expected.columns if c != "source_file"]
    pd.testing.assert_frame_equal(frame[columns], expected[columns])


def test_window_files_are_removed_once_read(tmp_path: Path, stints: pd.DataFrame, monkeypatch: pytest.MonkeyPatch) -> None:
    """Windows are written as workbook files in a private temp folder; none is left after the read."""
    monkeypatch.setenv("ICE_TRACKER_LIMIT_XLSX_WINDOW_ROWS", "7")
    temp = tmp_path / "temp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    path = write_layout(tmp_path / "detentions.xlsx", stints, LAYOUT_2026, 7, sheets=2)
    book = WindowedWorkbook(str(path))
    seen = []
    for window in book.windows(book.sheets[0], 7, 25):
        assert Path(window.workbook).parent.parent == temp and zipfile.ZipFile(window.workbook).testzip() is None
        seen.append(window.workbook)
        window.discard()
        assert not Path(window.workbook).exists()
    assert len(seen) >= 5
    book.close()
    frame, _ = read_workbook_stints(path)
    assert len(frame) == len(stints)
    assert list(temp.iterdir()) == []


@pytest.mark.parametrize("n", [1, 2, 5, 9, 10])
def test_cut_after_the_nth_row_end_from_either_end(n: int) -> None:
    buffer = bytearray(b"".join(b'<row r="%d"><c/></row>' % i for i in range(1, 11)) + b"<row r")
    cut = _after_nth(buffer, b"</row>", n, 10)
    assert buffer[:cut].count(b"</row>") == n and buffer[:cut].endswith(b"</row>")


def test_stack_expands_text_categorical_in_some_frames_only() -> None:
    categorical = pd.DataFrame({"gender": pd.Categorical.from_codes([0, 1, -1, 1], categories=pd.Index(["F", "M"], dtype=TEXT))})
    plain = pd.DataFrame({"gender": pd.array(["M", None], dtype=TEXT)})
    stacked = stack([plain, categorical])
    expected = pd.concat([plain, categorical.astype({"gender": TEXT})], ignore_index=True)
    pd.testing.assert_frame_equal(stacked, expected)
    assert stacked["gender"].dtype == TEXT


def test_window_folders_of_killed_runs_are_removed(tmp_path: Path, stints: pd.DataFrame, monkeypatch: pytest.MonkeyPatch) -> None:
    """A run killed before close() leaves its window folder; the next run removes it, never a live run's."""
    temp = tmp_path / "temp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = temp / f"{FOLDER_PREFIX}{dead.pid}-abc"
    live = temp / f"{FOLDER_PREFIX}{os.getppid()}-abc"
    for folder in (stale, live):
        folder.mkdir()
        (folder / "window-000001.xlsx").write_bytes(b"x")
    path = write_layout(tmp_path / "detentions.xlsx", stints, LAYOUT_2026, 7, sheets=1)
    frame, _ = read_workbook_stints(path)
    assert len(frame) == len(stints)
    assert not stale.exists() and (live / "window-000001.xlsx").exists()
