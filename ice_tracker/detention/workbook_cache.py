"""Each raw detentions workbook read once: its typed table kept as parquet, keyed by the file's sha256.

Reading a 280 MB workbook costs minutes of XML parsing; the parquet of the same typed table reads
in seconds. An entry is a folder `<sha256>-<reader version>/` holding `table.parquet` (every sheet's
rows, stacked) and `reads.json` (what each sheet gave). The reader version digests the reading code,
the alias table and the cell readers' versions, so a change to any of them reads the workbook again; an old
entry is simply never used (delete the folder at any time). An entry is written under a temporary
name and renamed into place, so a crash never leaves a half entry that looks complete.

The file name is not part of the entry: the same bytes under another name give the same rows, with
`source_file` set to the name they were read under.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
from functools import lru_cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import numpy as np
import pandas as pd

from ice_tracker.detention.clean import DATETIME_KINDS, TEXT, column_kind
from ice_tracker.detention.columns import ALIASES_CSV, PROVENANCE
from ice_tracker.detention.readers import SheetRead, constant_column, stack, workbook_frames
from ice_tracker.fileio import sha256_file
from ice_tracker.roster.cache import code_fingerprint

log = logging.getLogger(__name__)

CACHE_FORMAT = 2  # 1: one parquet part per window
READER_MODULES = ("ice_tracker.detention.readers", "ice_tracker.detention.xlsx_windows", "ice_tracker.detention.xlsx_scan",
                  "ice_tracker.detention.xlsx_columns", "ice_tracker.detention.clean", "ice_tracker.detention.columns", __name__)
CELL_READERS = ("fastexcel", "python-calamine", "numba", "pandas", "pyarrow")
READS = "reads.json"
TABLE = "table.parquet"


@lru_cache(maxsize=1)
def reader_version() -> str:
    """What decides the typed table of a workbook: our reading code, the alias table, the cell readers."""
    digest = hashlib.sha256(code_fingerprint(*READER_MODULES).encode())
    digest.update(ALIASES_CSV.read_bytes())
    digest.update(" ".join(f"{name} {_version(name)}" for name in CELL_READERS).encode())
    digest.update(str(CACHE_FORMAT).encode())
    return digest.hexdigest()[:16]


def _version(distribution: str) -> str:
    try:
        return version(distribution)
    except PackageNotFoundError:  # numba on a platform without its wheels: fastexcel reads every window
        return "absent"


def entry_path(cache_dir: Path, sha256: str) -> Path:
    return Path(cache_dir) / f"{sha256}-{reader_version()}"


def _convert(path: Path, entry: Path) -> tuple[pd.DataFrame | None, list[SheetRead]]:
    """Read the workbook window by window, stack the typed windows and keep the table as one parquet
    file; the run that converts uses the table it holds (`_canonical`, as a later run reads it back)."""
    temp = entry.with_name(f".{entry.name}.tmp-{os.getpid()}")
    shutil.rmtree(temp, ignore_errors=True)
    temp.mkdir(parents=True)
    try:
        reads: list[SheetRead] = []
        by_sheet: dict[str, list[pd.DataFrame]] = {}
        for sheet, frame in workbook_frames(path, reads):
            if frame is None:  # the sheet failed part way: drop what it gave
                by_sheet.pop(sheet, None)
            else:
                by_sheet.setdefault(sheet, []).append(frame)
        table = stack([frame for frames in by_sheet.values() for frame in frames])
        if table is not None:
            table = _canonical(table.drop(columns="source_file"))
            table.to_parquet(temp / TABLE, index=False)
        (temp / READS).write_text(json.dumps([read.__dict__ for read in reads], indent=1), encoding="utf-8")
        try:
            os.rename(temp, entry)
        except OSError:  # another run wrote the same entry meanwhile: theirs is as good
            if not (entry / READS).is_file():
                raise
            shutil.rmtree(temp, ignore_errors=True)
    except BaseException:
        shutil.rmtree(temp, ignore_errors=True)
        raise
    return _with_source(table, path.name), reads


def _canonical(frame: pd.DataFrame) -> pd.DataFrame:
    """The dtypes a parquet round trip gives back, made the readers' again: datetimes in seconds (parquet
    keeps milliseconds at least), text categories as Arrow strings (read back as Python strings), an
    empty categorical (read back as missing objects) as a categorical. The readers' tables hold only
    these dtypes (datetime64[s], float64, int64, Arrow text, categoricals of text), so the converting run
    and every later one get the same table."""
    for column in frame.columns:
        values = frame[column]
        if column_kind(column) in DATETIME_KINDS and values.dtype != "datetime64[s]":
            frame[column] = values.astype("datetime64[s]")
        elif column in PROVENANCE:
            continue
        elif isinstance(values.dtype, pd.CategoricalDtype):
            if values.cat.categories.dtype != TEXT:
                frame[column] = pd.Categorical.from_codes(values.cat.codes, categories=values.cat.categories.astype(TEXT))
        elif values.dtype == object and values.isna().all():
            frame[column] = pd.Categorical.from_codes(np.full(len(frame), -1, dtype=np.int8), categories=pd.Index([], dtype=TEXT))
    return frame


def _with_source(table: pd.DataFrame | None, name: str) -> pd.DataFrame | None:
    if table is not None:
        table.insert(len(table.columns) - 2, "source_file", constant_column(name, len(table)))
    return table


def _load(entry: Path, name: str) -> tuple[pd.DataFrame | None, list[SheetRead]]:
    reads = [SheetRead(**{**read, "file": name}) for read in json.loads((entry / READS).read_text(encoding="utf-8"))]
    table = _canonical(pd.read_parquet(entry / TABLE)) if (entry / TABLE).is_file() else None
    return _with_source(table, name), reads


def read_workbook_cached(path: Path, cache_dir: Path) -> tuple[pd.DataFrame | None, list[SheetRead]]:
    """The workbook's typed table from the cache, converting it first when this sha256 (and reader) is new.
    Once converted, the .xlsx is never opened again."""
    entry = entry_path(cache_dir, sha256_file(path))
    if (entry / READS).is_file():
        log.info("%s: read from the workbook cache (%s)", path.name, entry.name)
        return _load(entry, path.name)
    log.info("%s: converting to the workbook cache (%s)", path.name, entry.name)
    entry.parent.mkdir(parents=True, exist_ok=True)
    return _convert(path, entry)
