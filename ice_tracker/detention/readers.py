"""Read ICE detention tables in every form people hold them, through one alias table and one typing.

Raw workbooks (every sheet, header found by name), DDP's processed parquet, and the same tables as
CSV / pipe / tab text (delimiter sniffed, optionally gzipped), feather or Stata .dta.

Raw workbooks carry a title block above the header (row 7 in 2025–2026, row 5 in 2012–2023) and
split big tables over several sheets. Rows are streamed with python-calamine and typed in chunks, so a
280 MB workbook never exists as one list of Python cells.
"""

from __future__ import annotations

import csv
import gzip
import io
import itertools
import logging
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
from pandas.api.types import union_categoricals
from python_calamine import CalamineWorkbook

from ice_tracker.detention.clean import clean_frame
from ice_tracker.limits import limit
from ice_tracker.detention.columns import REQUIRED, describe_missing, known_name_count, map_header

log = logging.getLogger(__name__)

HEADER_SCAN_ROWS = 25
MIN_KNOWN_HEADER_NAMES = 3
CHUNK_ROWS = 100_000

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


def read_rows(rows: Iterator[list[object]], file: str, sheet: str, start_row: int = 0) -> tuple[pd.DataFrame | None, SheetRead]:
    """Typed frame from a sheet's rows (any cell reader): header found by name, blank rows skipped.

    `start_row` is the zero-based sheet row of the first row yielded (calamine starts at the first
    non-empty row), so `source_row` is always the true Excel row number.
    """
    rows = iter(rows)
    head = list(itertools.islice(rows, HEADER_SCAN_ROWS))
    header_index = _find_header(head)
    if header_index is None:
        return None, SheetRead(file, sheet, None, 0, error=f"no header row with known column names in the first {HEADER_SCAN_ROWS} rows")
    names, unknown = map_header(list(head[header_index]))
    header_row = start_row + header_index + 1
    missing = [col for col in REQUIRED if col not in names]
    if missing:
        return None, SheetRead(file, sheet, header_row, 0, unknown, error=describe_missing(missing))
    frames: list[pd.DataFrame] = []
    next_row = header_row + 1  # Excel row number of the next row to be read
    pending = head[header_index + 1 :]
    while True:
        chunk = pending + list(itertools.islice(rows, CHUNK_ROWS - len(pending)))
        pending = []
        if not chunk:
            break
        # blank rows (all cells empty) are skipped; row numbers stay true to the sheet
        numbers = [next_row + i for i, row in enumerate(chunk) if any(row)]
        if numbers:
            kept = chunk if len(numbers) == len(chunk) else [chunk[n - next_row] for n in numbers]
            frames.append(_chunk_frame(kept, names, numbers, file, sheet))
        next_row += len(chunk)
    frame = stack(frames)
    return frame, SheetRead(file, sheet, header_row, 0 if frame is None else len(frame), unknown)


def _read_sheet(workbook: CalamineWorkbook, name: str, file: str) -> tuple[pd.DataFrame | None, SheetRead]:
    sheet = workbook.get_sheet_by_name(name)
    return read_rows(sheet.iter_rows(), file, name, start_row=(sheet.start or (0, 0))[0])


def _streamed_sheets(path: Path) -> tuple[list[str], Callable[[str], tuple[pd.DataFrame | None, SheetRead]]]:
    """openpyxl read-only: rows come off the zip stream one at a time, so memory stays bounded by the
    typed chunks whatever the workbook size (calamine holds a whole sheet, ~30× the file size)."""
    from openpyxl import load_workbook  # imported here: it costs 0.2 s at start-up and only big workbooks need it
    workbook = load_workbook(path, read_only=True, data_only=True)
    return workbook.sheetnames, lambda name: read_rows(workbook[name].iter_rows(values_only=True), path.name, name)


def read_workbook_stints(path: Path) -> tuple[pd.DataFrame | None, list[SheetRead]]:
    """Every sheet of a raw ICE detentions workbook, stacked, with source file/sheet/row columns.

    Workbooks up to the `xlsx_stream_above` limit go through calamine (fast); bigger ones are streamed."""
    try:
        if path.stat().st_size > limit("xlsx_stream_above") * 1_000_000 and path.suffix.lower() in (".xlsx", ".xlsm"):
            names, read_sheet = _streamed_sheets(path)
        else:
            workbook = CalamineWorkbook.from_path(str(path))
            names = workbook.sheet_names
            read_sheet = lambda name: _read_sheet(workbook, name, path.name)  # noqa: E731
    except Exception as exc:  # calamine / zipfile raise their own error types for broken archives
        raise DetentionInputError(f"{path.name}: unreadable workbook: {exc}") from exc
    frames: list[pd.DataFrame] = []
    reads: list[SheetRead] = []
    for name in names:
        try:
            frame, read = read_sheet(name)
        except Exception as exc:  # one broken sheet must not lose the others
            log.error("%s / %s: %s", path.name, name, exc)
            frame, read = None, SheetRead(path.name, name, None, 0, error=f"{type(exc).__name__}: {exc}")
        if read.error:
            log.warning("%s / %s skipped: %s", path.name, name, read.error)
        reads.append(read)
        if frame is not None:
            frames.append(frame)
    return stack(frames), reads


def stack(frames: list[pd.DataFrame]) -> pd.DataFrame | None:
    """Tables one under the other; categorical columns (provenance, few-valued text) get one shared set
    of categories."""
    if len(frames) <= 1:
        return frames[0] if frames else None
    for name in dict.fromkeys(name for frame in frames for name in frame.columns):
        categorical = [isinstance(f[name].dtype, pd.CategoricalDtype) for f in frames if name in f]
        if all(categorical) and len(categorical) == len(frames):
            union = union_categoricals([f[name] for f in frames], sort_categories=True)
            start = 0
            for frame in frames:
                frame[name] = pd.Categorical.from_codes(union.codes[start:start + len(frame)], categories=union.categories)
                start += len(frame)
        elif any(categorical):  # text that was categorical in some chunks only: plain text everywhere
            for frame in frames:
                if name in frame and isinstance(frame[name].dtype, pd.CategoricalDtype):
                    frame[name] = frame[name].astype(frame[name].cat.categories.dtype)
    return pd.concat(frames, ignore_index=True)


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


def _few_valued_columns(path: Path) -> list[str]:
    """Text columns the file stores dictionary-encoded at a few bytes a row (gender, status, facility):
    read as categoricals, they are never expanded to one string per row."""
    import pyarrow.parquet as pq

    meta = pq.ParquetFile(path).metadata
    if meta.num_rows == 0:
        return []
    schema = meta.schema.to_arrow_schema()
    names = []
    for j, name in enumerate(schema.names):
        if not (pa.types.is_string(schema.field(name).type) or pa.types.is_large_string(schema.field(name).type)):
            continue
        chunks = [meta.row_group(i).column(j) for i in range(meta.num_row_groups)]
        size = sum(chunk.total_uncompressed_size for chunk in chunks)
        if all(any("DICTIONARY" in e for e in chunk.encodings) for chunk in chunks) and size <= 4 * meta.num_rows:
            names.append(name)
    return names


def read_ddp_stints(path: Path) -> tuple[pd.DataFrame, list[SheetRead]]:
    """DDP's processed `detention-stints-latest.parquet` (or feather / Stata), via the same alias table."""
    suffix = path.suffix.lower()
    try:
        if suffix == ".dta":
            raw = pd.read_stata(path, convert_categoricals=False)
        elif suffix in (".feather", ".arrow"):
            raw = pd.read_feather(path)
        else:
            raw = pd.read_parquet(path, read_dictionary=_few_valued_columns(path))
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


def read_stints(path: Path) -> tuple[pd.DataFrame | None, list[SheetRead]]:
    """Dispatch on the file type: workbooks, DDP-style frames, or text tables (gzipped or not)."""
    suffix = path.suffix.lower()
    if suffix in FRAME_SUFFIXES:
        return read_ddp_stints(path)
    if suffix in WORKBOOK_SUFFIXES:
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
