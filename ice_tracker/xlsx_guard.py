"""Reject a workbook whose declared size would blow up the reader, before the reader sees it.

The cell reader (calamine) allocates one slot for every cell of the rectangle from A1 to the
furthest cell a sheet names, so a 2 KB workbook holding one cell at XFD1048576 asks for ~550 GB,
and a ZIP member can inflate a thousandfold. Everything checked here comes from the ZIP central
directory and a streaming scan of the sheet XML (never more than one chunk in memory):

- total uncompressed size, and each big member's compression ratio;
- the actual inflated size of every sheet (a lying central directory is caught while reading);
- each sheet's `<dimension ref=…>` and the furthest row and column any `<row>`/`<c>` names.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ice_tracker.limits import MIB, limit
from ice_tracker.xlsx import WorkbookError, cell_to_index

CHUNK = 1 << 20
OVERLAP = 64  # bytes kept between chunks so a reference cut in two is still seen
RATIO_FLOOR = MIB  # members smaller than this may compress as well as they like
DIMENSION = re.compile(rb'<(?:\w+:)?dimension\s+ref="([A-Za-z$0-9:]+)"')
# `r` attributes exist only on <row> (digits) and <c> (letters + digits) in sheet XML.
REFERENCE = re.compile(rb'\sr="([A-Z]{0,4})([0-9]{1,9})"')
BEYOND_SMALL = re.compile(rb' r="(?:[A-Z]{2}|[A-Z]{0,4}[0-9]{5})')
SMALL_BOUND = (9_999, 26)  # what a reference outside BEYOND_SMALL can reach


class WorkbookTooLarge(WorkbookError):
    """A workbook whose declared or inflated size is over a limit in ice_tracker/limits.py."""


@dataclass(frozen=True)
class WorkbookLimits:
    unzipped: float
    rows: float
    columns: float
    cells: float
    ratio: float

    @classmethod
    def named(cls, prefix: str) -> "WorkbookLimits":
        """The `<prefix>_workbook_*` limits: `roster` or `ddp`."""
        rows = limit(f"{prefix}_workbook_rows") if prefix == "roster" else 1_048_576
        return cls(limit(f"{prefix}_workbook_unzipped"), rows, limit(f"{prefix}_workbook_columns"),
                   limit(f"{prefix}_workbook_cells"), limit("unzip_ratio"))


def column_letters(index: int) -> str:
    """0 → A, 16383 → XFD."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


@lru_cache(maxsize=4096)
def _column_number(letters: bytes) -> int:
    """b"A" → 1, b"XFD" → 16384."""
    return cell_to_index(letters.decode() + "1")[1] + 1


def _check_extent(name: str, rows: int, columns: int, limits: WorkbookLimits, what: str) -> None:
    corner = f"{column_letters(max(columns - 1, 0))}{rows}"
    if rows > limits.rows:
        raise WorkbookTooLarge(f"{name}: {what} reaches row {rows:,} ({corner}); limit {limits.rows:,.0f} rows")
    if columns > limits.columns:
        raise WorkbookTooLarge(f"{name}: {what} reaches column {columns:,} ({corner}); limit {limits.columns:,.0f}")
    if rows * columns > limits.cells:
        raise WorkbookTooLarge(f"{name}: {what} spans {rows * columns:,} cells (A1:{corner}); "
                               f"limit {limits.cells:,.0f}")


def _furthest(text: bytes, limits: WorkbookLimits) -> tuple[int, int]:
    """(row, column) numbers of the furthest reference in `text`, or an upper bound that is within
    the limits. Real sheets name no column past Z and no row past 9,999, which one C-speed search
    proves; only otherwise is every reference read."""
    if not BEYOND_SMALL.search(text) and SMALL_BOUND[0] <= limits.rows and SMALL_BOUND[1] <= limits.columns \
            and SMALL_BOUND[0] * SMALL_BOUND[1] <= limits.cells:
        return SMALL_BOUND
    max_row = max_col = 0
    for letters, digits in REFERENCE.findall(text):
        max_row = max(max_row, int(digits))
        if letters:
            max_col = max(max_col, _column_number(letters))
    return max_row, max_col


def _scan_sheet(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limits: WorkbookLimits) -> None:
    """Stream one sheet: its dimension, furthest reference and true inflated size."""
    max_row = max_col = rows_seen = inflated = 0
    tail = b""
    dimension_seen = False
    with archive.open(info) as stream:
        while block := stream.read(CHUNK):
            inflated += len(block)
            if inflated > info.file_size:  # zipfile stops at the declared size, but be explicit
                raise WorkbookTooLarge(f"{info.filename}: inflates past its declared {info.file_size:,} bytes")
            text = tail + block
            if not dimension_seen and (found := DIMENSION.search(text)):
                dimension_seen = True
                last = found.group(1).decode().split(":")[-1]
                try:
                    row, col = cell_to_index(last)
                except ValueError:
                    row = col = 0
                _check_extent(info.filename, row + 1, col + 1, limits, "its declared dimension")
            row, col = _furthest(text, limits)
            max_row, max_col = max(max_row, row), max(max_col, col)
            rows_seen += block.count(b"<row") + block.count(b":row ")
            tail = text[-OVERLAP:]
            _check_extent(info.filename, max(max_row, rows_seen), max_col, limits, "a cell")


def check_workbook(path: str | Path, limits: WorkbookLimits) -> None:
    """Raise WorkbookTooLarge (or WorkbookError for a broken ZIP) unless reading `path` is safe."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
            total = sum(m.file_size for m in members)
            if total > limits.unzipped:
                raise WorkbookTooLarge(f"unzips to {total:,} bytes; limit {limits.unzipped:,.0f}")
            for member in members:
                ratio = member.file_size / max(member.compress_size, 1)
                if member.file_size > RATIO_FLOOR and ratio > limits.ratio:
                    raise WorkbookTooLarge(f"{member.filename}: inflates {ratio:,.0f}× ({member.file_size:,} bytes "
                                           f"from {member.compress_size:,}); limit {limits.ratio:,.0f}×")
            for member in members:
                if member.filename.startswith("xl/worksheets/") and member.filename.endswith(".xml"):
                    _scan_sheet(archive, member, limits)
    except WorkbookError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError, NotImplementedError) as exc:
        raise WorkbookError(f"unreadable workbook: {type(exc).__name__}: {exc}") from exc
