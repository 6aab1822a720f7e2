"""Read ICE detention tables in every form people hold them, through one alias table and one typing.

Raw workbooks (every sheet, header found by name), DDP's processed parquet, and the same tables as
CSV / pipe / tab text (delimiter sniffed, optionally gzipped), feather or Stata .dta.

Raw workbooks carry a title block above the header (row 7 in 2025–2026, row 5 in 2012–2023) and
split big tables over several sheets. An .xlsx sheet is read in windows of rows (xlsx_windows.py), so
memory stays bounded whatever the workbook size: the title block and header through python-calamine,
then each window's XML through a compiled scan (xlsx_scan.py) into the typed Arrow columns fastexcel
would give (xlsx_columns.py): a 50,000-row window in ~0.2 s where fastexcel's cell grid takes ~1 s.
A workbook under xlsx_scan_min_bytes of sheet XML skips the scan (loading it costs ~0.5 s). A window
in a form the scan does not read goes through fastexcel; a window where a column mixes numbers, text
and dates (which fastexcel refuses) through python-calamine's cells. All three give the same typed
frame. .xls / .xlsb are read whole.
"""

from __future__ import annotations

import csv
import gzip
import io
import itertools
import logging
import os
import re
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute  # noqa: F401  (pa.compute)
from pandas.api.types import union_categoricals
from python_calamine import CalamineWorkbook

from ice_tracker.detention import parquet_prefetch
from ice_tracker.detention.clean import DATETIME_KINDS, NUMBER_KINDS, TEXT, clean_frame, column_kind
from ice_tracker.detention.columns import REQUIRED, describe_missing, known_name_count, map_header
from ice_tracker.detention.xlsx_windows import NotWindowable, SheetPart, Window, WindowedWorkbook
from ice_tracker.limits import limit

if TYPE_CHECKING:
    from ice_tracker.detention.xlsx_columns import WorkbookParts

log = logging.getLogger(__name__)

HEADER_SCAN_ROWS = 25
MIN_KNOWN_HEADER_NAMES = 3
CHUNK_ROWS = 100_000
WINDOW_THREADS = min(2, os.cpu_count() or 1)

WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xlsb", ".xls")
TEXT_SUFFIXES = (".csv", ".tsv", ".tab", ".txt", ".psv")
FRAME_SUFFIXES = (".parquet", ".feather", ".arrow", ".dta")
DELIMITERS = ",|\t"
SNIFF_BYTES = 1 << 16
FILE_DATE = re.compile(r"(?<!\d)(20\d\d)(\d\d)(\d\d)(?!\d)")


class DetentionInputError(ValueError):
    """A file or sheet that cannot be read as a detention table."""


@dataclass
class SheetRead:
    file: str
    sheet: str
    header_row: int | None  # Excel row number of the header; None for parquet
    rows: int
    unknown_columns: list[str] = field(default_factory=list)
    error: str | None = None


def constant_column(value: str, n: int) -> pd.Categorical:
    """One repeated text as a categorical: no n copies of the string, and it sorts and groups for free."""
    return pd.Categorical.from_codes(np.zeros(n, dtype=np.int8), categories=[value])


def _find_header(rows: list[list[object]]) -> int | None:
    for index, cells in enumerate(rows):
        if known_name_count(list(cells)) >= MIN_KNOWN_HEADER_NAMES:
            return index
    return None


def _chunk_frame(chunk: list[list[object]], names: list[str], numbers: list[int], file: str, sheet: str) -> pd.DataFrame:
    width = len(names)
    if any(len(row) != width for row in chunk):
        chunk = [(list(row) + [None] * width)[:width] for row in chunk]
    frame = clean_frame(pd.DataFrame(chunk, columns=names, dtype=object))
    frame["source_file"] = constant_column(file, len(frame))
    frame["source_sheet"] = constant_column(sheet, len(frame))
    frame["source_row"] = pd.array(numbers, dtype="int64")
    return frame


@dataclass
class _Header:
    names: list[str]
    unknown: list[str]
    row: int  # Excel row number of the header
    pending: list[list[object]]  # rows after the header among the scanned ones


def _header(head: list[list[object]], file: str, sheet: str, start_row: int) -> tuple[_Header | None, SheetRead | None]:
    """The header among the first HEADER_SCAN_ROWS rows, or the SheetRead saying why there is none."""
    header_index = _find_header(head[:HEADER_SCAN_ROWS])
    if header_index is None:
        return None, SheetRead(file, sheet, None, 0, error=f"no header row with known column names in the first {HEADER_SCAN_ROWS} rows")
    names, unknown = map_header(list(head[header_index]))
    header_row = start_row + header_index + 1
    missing = [col for col in REQUIRED if col not in names]
    if missing:
        return None, SheetRead(file, sheet, header_row, 0, unknown, error=describe_missing(missing))
    return _Header(names, unknown, header_row, head[header_index + 1:]), None


def _row_frames(rows: Iterator[list[object]], next_row: int, names: list[str], file: str, sheet: str) -> Iterator[pd.DataFrame]:
    """Typed frames of Python cell rows, CHUNK_ROWS at a time; `next_row` is the Excel row of the first.
    Blank rows (all cells empty) are skipped; row numbers stay true to the sheet."""
    while True:
        chunk = list(itertools.islice(rows, CHUNK_ROWS))
        if not chunk:
            return
        numbers = [next_row + i for i, row in enumerate(chunk) if any(row)]
        if numbers:
            kept = chunk if len(numbers) == len(chunk) else [chunk[n - next_row] for n in numbers]
            yield _chunk_frame(kept, names, numbers, file, sheet)
        next_row += len(chunk)


def read_rows(rows: Iterator[list[object]], file: str, sheet: str, start_row: int = 0) -> tuple[pd.DataFrame | None, SheetRead]:
    """Typed frame from a sheet's rows (any cell reader): header found by name, blank rows skipped.

    `start_row` is the zero-based sheet row of the first row yielded (calamine starts at the first
    non-empty row), so `source_row` is always the true Excel row number.
    """
    rows = iter(rows)
    header, failed = _header(list(itertools.islice(rows, HEADER_SCAN_ROWS)), file, sheet, start_row)
    if header is None:
        return None, failed
    frames = list(_row_frames(itertools.chain(header.pending, rows), header.row + 1, header.names, file, sheet))
    frame = stack(frames)
    return frame, SheetRead(file, sheet, header.row, 0 if frame is None else len(frame), header.unknown)


def _read_sheet(workbook: CalamineWorkbook, name: str, file: str) -> tuple[pd.DataFrame | None, SheetRead]:
    sheet = workbook.get_sheet_by_name(name)
    return read_rows(sheet.iter_rows(), file, name, start_row=(sheet.start or (0, 0))[0])


def _calamine_window(window: Window) -> tuple[list[list[object]], int]:
    """A window's Python cell rows and the Excel row number of the first."""
    sheet = CalamineWorkbook.from_path(window.workbook).get_sheet_by_index(0)
    return sheet.to_python(), (sheet.start or (0, 0))[0] + 1


def _arrow_series(column: pa.Array, kind: str) -> pd.Series | None:
    """A fastexcel column as what clean_frame gets from python-calamine's cells (same typed result);
    None for an Arrow type without an exact equivalent (the window is then read cell by cell)."""
    kind_of = column.type
    if pa.types.is_null(kind_of):
        return pd.Series(np.full(len(column), None, dtype=object))
    if pa.types.is_string(kind_of) or pa.types.is_large_string(kind_of):
        if kind not in DATETIME_KINDS and kind not in NUMBER_KINDS:
            return pd.Series(pd.array(column, dtype=TEXT))
        return pd.Series(column.to_numpy(zero_copy_only=False), dtype=object)
    if pa.types.is_timestamp(kind_of) and kind_of.tz is None:
        series = column.to_pandas()
        return series if kind in DATETIME_KINDS else series.astype(object)
    if pa.types.is_floating(kind_of) or pa.types.is_boolean(kind_of):
        series = pd.Series(column.to_numpy(zero_copy_only=False))
        return series if kind in NUMBER_KINDS and pa.types.is_floating(kind_of) else series.astype(object)
    return None


def _fastexcel_window(window: Window, names: list[str], file: str, sheet: str) -> pd.DataFrame | None:
    """A window's rows typed straight from Arrow; None when some column is not exactly typeable."""
    import fastexcel

    logging.getLogger("fastexcel").setLevel(logging.ERROR)  # 'falling back to string' for every empty column
    try:
        batch = fastexcel.read_excel(window.workbook).load_sheet(
            0, header_row=0, eager=True, schema_sample_rows=None, dtype_coercion="strict")
    except fastexcel.FastExcelError:  # a column mixing cell types: its cells are read one by one
        return None
    return _typed_window([batch.column(i) for i in range(batch.num_columns)], batch.num_rows, window, names, file, sheet)


def _scanned_window(window: Window, parts: WorkbookParts, names: list[str], file: str, sheet: str) -> pd.DataFrame | None:
    """The same frame as `_fastexcel_window`, from the compiled scan of the window's XML; None when a
    column mixes kinds. Raises Unreadable for what only fastexcel reads."""
    from ice_tracker.detention.xlsx_columns import window_columns

    scanned = window_columns(window.rows_xml, window.first_row, parts)
    if scanned is None:
        return None
    columns, n_rows = scanned
    return _typed_window(columns, n_rows, window, names, file, sheet)


def _typed_window(batch: list[pa.Array], n_rows: int, window: Window, names: list[str], file: str,
                  sheet: str) -> pd.DataFrame | None:
    """Arrow columns (from column A, rows from the window's first) as the typed frame python-calamine's
    cells give; None when some column is not exactly typeable."""
    columns: dict[str, pd.Series] = {}
    blank = np.ones(n_rows, dtype=bool)
    for index, name in enumerate(names):
        if index >= len(batch):
            columns[name] = pd.Series(np.full(n_rows, None, dtype=object))
            continue
        series = _arrow_series(batch[index], column_kind(name))
        if series is None:
            return None
        columns[name] = series
    for index in range(len(batch)):  # blank = every cell empty, as `any(row)` judges Python cells
        if not blank.any():  # every row already has a filled cell: the other columns cannot change that
            break
        column = batch[index]
        if pa.types.is_null(column.type):
            continue
        if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
            filled = pa.compute.not_equal(column, "")
        elif pa.types.is_floating(column.type):
            filled = pa.compute.not_equal(column, 0.0)
        elif pa.types.is_boolean(column.type):
            filled = column
        else:
            filled = pa.compute.is_valid(column)
        blank &= ~pa.compute.fill_null(filled, False).to_numpy(zero_copy_only=False)
    keep = ~blank
    if not keep.any():
        return pd.DataFrame()
    numbers = window.first_row + np.flatnonzero(keep)
    frame = pd.DataFrame(columns)
    if not keep.all():
        frame = frame[keep].reset_index(drop=True)
    frame = clean_frame(frame)
    frame["source_file"] = constant_column(file, len(frame))
    frame["source_sheet"] = constant_column(sheet, len(frame))
    frame["source_row"] = pd.array(numbers, dtype="int64")
    return frame


def _window_frames(window: Window, parts: WorkbookParts | None, names: list[str], file: str, sheet: str) -> list[pd.DataFrame]:
    """A window's typed frames: the compiled scan, or fastexcel for what it does not read, or cell by
    cell for a column mixing kinds (all three give the same frame). Its file is deleted once read."""
    try:
        frame, scanned = None, False
        if parts is not None:  # the scan was loaded for this workbook (never for a small one)
            from ice_tracker.detention.xlsx_columns import Unreadable

            try:
                frame, scanned = _scanned_window(window, parts, names, file, sheet), True
            except Unreadable as exc:
                log.debug("%s / %s rows %d-%d through fastexcel: %s", file, sheet, window.first_row, window.last_row, exc)
        if not scanned:
            frame = _fastexcel_window(window, names, file, sheet)
        if frame is None:
            rows, first = _calamine_window(window)
            if first < window.first_row:  # the marker row above the window
                rows, first = rows[window.first_row - first:], window.first_row
            return list(_row_frames(iter(rows), first, names, file, sheet))
        return [frame] if len(frame) else []
    finally:
        window.discard()


def _windowed_sheet(book: WindowedWorkbook, part: SheetPart, parts: WorkbookParts | None, file: str,
                    reads: list[SheetRead]) -> Iterator[pd.DataFrame]:
    """One .xlsx sheet, window by window; its SheetRead is appended to `reads` when it is done."""
    windows = book.windows(part, int(limit("xlsx_window_rows")), HEADER_SCAN_ROWS)
    first = next(windows, None)
    if first is None:
        reads.append(SheetRead(file, part.name, None, 0, error=f"no header row with known column names in the first {HEADER_SCAN_ROWS} rows"))
        return
    try:
        rows, start = _calamine_window(first)
    finally:
        first.discard()
    header, failed = _header(rows, file, part.name, start - 1)
    if header is None:
        reads.append(failed)
        return
    count = 0
    for frame in _row_frames(iter(header.pending), header.row + 1, header.names, file, part.name):
        count += len(frame)
        yield frame
    # windows are parsed and typed on WINDOW_THREADS threads (fastexcel and Arrow release the GIL) while
    # this one inflates and cuts the next; at most WINDOW_THREADS windows are in flight, so memory stays bounded
    with ThreadPoolExecutor(max_workers=WINDOW_THREADS, thread_name_prefix="xlsx-window") as pool:
        waiting: deque[Future[list[pd.DataFrame]]] = deque()
        for window in itertools.chain(windows, [None]):
            if window is not None:
                waiting.append(pool.submit(_window_frames, window, parts, header.names, file, part.name))
            while waiting and (window is None or len(waiting) >= WINDOW_THREADS):
                for frame in waiting.popleft().result():
                    count += len(frame)
                    yield frame
    reads.append(SheetRead(file, part.name, header.row, count, header.unknown))


def _scan_parts(book: WindowedWorkbook, file: str) -> WorkbookParts | None:
    """The shared strings and style classes the compiled scan needs; None (fastexcel reads every
    window) for a small workbook (loading the scan would cost more than it saves), when they are in a
    form the scan does not read, or when numba cannot compile here."""
    if book.sheet_xml_bytes() < limit("xlsx_scan_min_bytes"):
        return None
    try:
        from ice_tracker.detention.xlsx_columns import Unreadable, WorkbookParts, classify_styles, shared_strings
    except ImportError as exc:  # a platform without numba wheels: fastexcel reads every window
        log.warning("%s read through fastexcel (no compiled scan: %s)", file, exc)
        return None
    try:
        return WorkbookParts(shared_strings(book.shared), classify_styles(max(1, book.style_count()), book.probe))
    except Unreadable as exc:
        log.info("%s read through fastexcel: %s", file, exc)
    except RuntimeError as exc:  # numba: e.g. no writable folder for its compiled cache
        log.warning("%s read through fastexcel (the compiled scan failed: %s)", file, exc)
    return None


def _whole_sheets(path: Path, reads: list[SheetRead], only: str | None = None) -> Iterator[tuple[str, pd.DataFrame | None]]:
    """.xls / .xlsb, or an .xlsx sheet that cannot be cut into windows: read whole by calamine."""
    try:
        workbook = CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # calamine raises its own error types for broken files
        raise DetentionInputError(f"{path.name}: unreadable workbook: {exc}") from exc
    for name in workbook.sheet_names if only is None else [only]:
        try:
            frame, read = _read_sheet(workbook, name, path.name)
        except Exception as exc:  # one broken sheet must not lose the others
            log.error("%s / %s: %s", path.name, name, exc)
            frame, read = None, SheetRead(path.name, name, None, 0, error=f"{type(exc).__name__}: {exc}")
        _note(read)
        reads.append(read)
        if frame is not None:
            yield name, frame


def _note(read: SheetRead) -> None:
    if read.error:
        log.warning("%s / %s skipped: %s", read.file, read.sheet, read.error)


def workbook_frames(path: Path, reads: list[SheetRead]) -> Iterator[tuple[str, pd.DataFrame | None]]:
    """(sheet, typed frame) for every sheet of a raw ICE detentions workbook, a window at a time, so
    memory stays bounded; (sheet, None) means: drop what that sheet gave so far (it failed part way).
    One SheetRead per sheet is appended to `reads`."""
    if path.suffix.lower() not in (".xlsx", ".xlsm"):
        yield from _whole_sheets(path, reads)
        return
    try:
        book = WindowedWorkbook(str(path))
    except Exception as exc:  # zipfile / XML errors for a file that is not a workbook
        raise DetentionInputError(f"{path.name}: unreadable workbook: {type(exc).__name__}: {exc}") from exc
    try:
        parts = _scan_parts(book, path.name)
        for part in book.sheets:
            done, given = len(reads), False
            try:
                for frame in _windowed_sheet(book, part, parts, path.name, reads):
                    given = True
                    yield part.name, frame
                _note(reads[-1])
            except NotWindowable as exc:
                log.info("%s / %s read whole: %s", path.name, part.name, exc)
                del reads[done:]
                if given:
                    yield part.name, None
                yield from _whole_sheets(path, reads, only=part.name)
            except Exception as exc:  # one broken sheet must not lose the others
                log.error("%s / %s: %s", path.name, part.name, exc)
                del reads[done:]
                if given:
                    yield part.name, None
                reads.append(SheetRead(path.name, part.name, None, 0, error=f"{type(exc).__name__}: {exc}"))
                _note(reads[-1])
    finally:
        book.close()


def read_workbook_stints(path: Path, whole_sheets: bool = False) -> tuple[pd.DataFrame | None, list[SheetRead]]:
    """Every sheet of a raw ICE detentions workbook, stacked, with source file/sheet/row columns.

    `whole_sheets` reads every sheet whole through python-calamine's cells (the reader before the
    windowed one, and still the one for .xls / .xlsb): the reference the windowed reader is tested
    and benchmarked against."""
    reads: list[SheetRead] = []
    by_sheet: dict[str, list[pd.DataFrame]] = {}
    for sheet, frame in (_whole_sheets(path, reads) if whole_sheets else workbook_frames(path, reads)):
        if frame is None:
            by_sheet.pop(sheet, None)
        else:
            by_sheet.setdefault(sheet, []).append(frame)
    return stack([frame for frames in by_sheet.values() for frame in frames]), reads


def stack(frames: list[pd.DataFrame]) -> pd.DataFrame | None:
    """Tables one under the other; categorical columns (provenance, few-valued text) get one shared set
    of categories."""
    if len(frames) <= 1:
        return frames[0] if frames else None
    for name in dict.fromkeys(name for frame in frames for name in frame.columns):
        categorical = [isinstance(f[name].dtype, pd.CategoricalDtype) for f in frames if name in f]
        if any(categorical) and len(categorical) == len(frames):
            _empty_as_categorical(frames, name)
            categorical = [isinstance(f[name].dtype, pd.CategoricalDtype) for f in frames]
        if all(categorical) and len(categorical) == len(frames):
            union = union_categoricals([f[name] for f in frames], sort_categories=True)
            start = 0
            for frame in frames:
                frame[name] = pd.Categorical.from_codes(union.codes[start:start + len(frame)], categories=union.categories)
                start += len(frame)
        elif any(categorical):  # text that was categorical in some chunks only: plain text everywhere
            for frame in frames:
                if name in frame and isinstance(frame[name].dtype, pd.CategoricalDtype):
                    frame[name] = _decoded(frame[name])
    return pd.concat(frames, ignore_index=True)


def _empty_as_categorical(frames: list[pd.DataFrame], name: str) -> None:
    """A column categorical in some frames and wholly empty in the others (a parquet round trip keeps an
    empty categorical as plain missing values, or with categories of another type): empty categoricals
    with the others' type of categories, so the frames are joined as codes, not expanded to text."""
    kinds = [f[name].cat.categories.dtype for f in frames
             if isinstance(f[name].dtype, pd.CategoricalDtype) and len(f[name].cat.categories)]
    if not kinds or any(kind != kinds[0] for kind in kinds):
        return
    for frame in frames:
        values = frame[name]
        empty = (not len(values.cat.categories) if isinstance(values.dtype, pd.CategoricalDtype)
                 else values.dtype == object and values.isna().all())
        if empty:
            frame[name] = pd.Categorical.from_codes(np.full(len(frame), -1, dtype=np.int8),
                                                    categories=pd.Index([], dtype=kinds[0]))


def _decoded(values: pd.Series) -> pd.Series:
    """A categorical as plain values of its categories' type. Arrow-backed text is expanded by one
    Arrow `take` (pandas' astype goes through a Python object per row: ~2 s for 250k rows × 10 columns)."""
    categories = values.cat.categories
    if categories.dtype != TEXT:
        return values.astype(categories.dtype)
    codes = values.cat.codes.to_numpy()
    taken = pa.array(categories.array).take(pa.array(codes, mask=codes < 0))
    return pd.Series(pd.array(taken, dtype=TEXT), index=values.index, name=values.name)


def _typed_table(raw: pd.DataFrame, name: str) -> tuple[pd.DataFrame, list[SheetRead]]:
    """A whole table already in memory (parquet, feather, .dta, text): renamed and typed like a sheet."""
    names, unknown = map_header(list(raw.columns))
    raw.columns = names
    missing = [col for col in REQUIRED if col not in names]
    if missing:
        raise DetentionInputError(f"{name}: {describe_missing(missing)}")
    frame = clean_frame(raw)
    frame["source_file"] = constant_column(name, len(frame))
    frame["source_sheet"] = constant_column("", len(frame))
    frame["source_row"] = pd.RangeIndex(1, len(frame) + 1).astype("int64")
    return frame, [SheetRead(name, "", None, len(frame), unknown)]


def read_ddp_stints(path: Path) -> tuple[pd.DataFrame, list[SheetRead]]:
    """DDP's processed `detention-stints-latest.parquet` (or feather / Stata), via the same alias table."""
    suffix = path.suffix.lower()
    try:
        if suffix == ".dta":
            raw = pd.read_stata(path, convert_categoricals=False)
        elif suffix in (".feather", ".arrow"):
            raw = pd.read_feather(path)
        else:
            table = parquet_prefetch.take(path)
            if table is None:
                table = parquet_prefetch.read_table(path)
            raw = table.to_pandas()  # what pandas.read_parquet does with pandas' default dtypes
            del table
    except Exception as exc:  # pyarrow / the Stata reader raise many types for a file that is not a table
        raise DetentionInputError(f"{path.name}: not a readable {suffix} table: {type(exc).__name__}: {exc}") from exc
    return _typed_table(raw, path.name)


def _text_suffix(path: Path) -> str:
    """'.csv' for both x.csv and x.csv.gz."""
    suffixes = [s.lower() for s in path.suffixes]
    return suffixes[-2] if suffixes and suffixes[-1] == ".gz" and len(suffixes) > 1 else (suffixes[-1] if suffixes else "")


def _open_text(path: Path) -> io.TextIOBase:
    raw = gzip.open(path, "rb") if path.suffix.lower() == ".gz" else open(path, "rb")
    # utf-8 with a BOM or without; an odd byte becomes U+FFFD instead of losing the file
    return io.TextIOWrapper(raw, encoding="utf-8-sig", errors="replace", newline="")


def read_text_stints(path: Path) -> tuple[pd.DataFrame, list[SheetRead]]:
    """A CSV / pipe / tab table (optionally gzipped): delimiter sniffed, header found by name."""
    try:
        with _open_text(path) as handle:
            sample = handle.read(SNIFF_BYTES)
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise DetentionInputError(f"{path.name}: unreadable text table: {exc}") from exc
    if "\x00" in sample:
        raise DetentionInputError(f"{path.name}: not a text table (binary content)")
    lines = sample.splitlines()[:HEADER_SCAN_ROWS]
    try:
        delimiter = csv.Sniffer().sniff("\n".join(lines), delimiters=DELIMITERS).delimiter
    except csv.Error:
        delimiter = max(DELIMITERS, key=lambda d: sum(line.count(d) for line in lines))
    head = list(csv.reader(lines, delimiter=delimiter))
    header_index = _find_header(head)
    if header_index is None:
        raise DetentionInputError(f"{path.name}: no header row with known column names in the first {HEADER_SCAN_ROWS} rows")
    with _open_text(path) as handle:
        raw = pd.read_csv(handle, sep=delimiter, skiprows=header_index, dtype=str, keep_default_na=False,
                          na_values=[""], quoting=csv.QUOTE_MINIMAL)
    frame, reads = _typed_table(raw, path.name)
    frame["source_row"] = frame["source_row"] + header_index + 1  # true line numbers in the file
    reads[0].header_row = header_index + 1
    return frame, reads


def read_stints(path: Path, cache_dir: Path | None = None) -> tuple[pd.DataFrame | None, list[SheetRead]]:
    """Dispatch on the file type: workbooks, DDP-style frames, or text tables (gzipped or not).
    With `cache_dir`, a workbook is read once and kept there as parquet (workbook_cache.py)."""
    suffix = path.suffix.lower()
    if suffix in FRAME_SUFFIXES:
        return read_ddp_stints(path)
    if suffix in WORKBOOK_SUFFIXES:
        if cache_dir is not None:
            from ice_tracker.detention.workbook_cache import read_workbook_cached

            return read_workbook_cached(path, cache_dir)
        return read_workbook_stints(path)
    if suffix in TEXT_SUFFIXES or (suffix == ".gz" and _text_suffix(path) in TEXT_SUFFIXES):
        return read_text_stints(path)
    raise DetentionInputError(f"{path.name}: not a detention table (expected .xlsx, .csv/.tsv/.txt (optionally .gz), "
                              ".parquet, .feather or .dta)")


def is_input_file(path: Path) -> bool:
    """A file the command reads from a folder: lock files and .txt (release notes) are skipped;
    a .txt table is read when named explicitly."""
    suffix = path.suffix.lower()
    text = _text_suffix(path) in TEXT_SUFFIXES and _text_suffix(path) != ".txt" and suffix in (".gz", _text_suffix(path))
    return not is_lock_file(path) and (suffix in FRAME_SUFFIXES or suffix in WORKBOOK_SUFFIXES or text)


def is_lock_file(path: Path) -> bool:
    return path.name.startswith("~$")


def date_from_file_names(paths: list[Path]) -> date | None:
    """The release date written in file names (`…_20260311_Redacted.xlsx`); latest if several."""
    found: list[date] = []
    for path in paths:
        for match in FILE_DATE.finditer(path.name):
            try:
                found.append(date(int(match[1]), int(match[2]), int(match[3])))
            except ValueError:
                continue
    return max(found) if found else None
