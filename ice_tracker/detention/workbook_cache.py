"""Each raw detentions workbook read once: its typed table kept as parquet, keyed by the file's sha256.

Reading a 280 MB workbook costs minutes of XML parsing; the parquet of the same typed table reads
in seconds. An entry is a folder `<sha256>-<reader version>/` holding one parquet part per window of
rows and `reads.json` (what each sheet gave). The reader version digests the reading code, the alias
table and the cell readers' versions, so a change to any of them reads the workbook again; an old
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
from importlib.metadata import version
from pathlib import Path

import pandas as pd

from ice_tracker.detention.clean import DATETIME_KINDS, column_kind
from ice_tracker.detention.columns import ALIASES_CSV
from ice_tracker.detention.readers import SheetRead, constant_column, stack, workbook_frames
from ice_tracker.fileio import sha256_file
from ice_tracker.roster.cache import code_fingerprint

log = logging.getLogger(__name__)

CACHE_FORMAT = 1
READER_MODULES = ("ice_tracker.detention.readers", "ice_tracker.detention.xlsx_windows",
                  "ice_tracker.detention.clean", "ice_tracker.detention.columns", __name__)
READS = "reads.json"


@lru_cache(maxsize=1)
def reader_version() -> str:
    """What decides the typed table of a workbook: our reading code, the alias table, the cell readers."""
    digest = hashlib.sha256(code_fingerprint(*READER_MODULES).encode())
    digest.update(ALIASES_CSV.read_bytes())
    digest.update(" ".join(f"{name} {version(name)}" for name in ("fastexcel", "python-calamine", "pandas", "pyarrow")).encode())
    digest.update(str(CACHE_FORMAT).encode())
    return digest.hexdigest()[:16]


def entry_path(cache_dir: Path, sha256: str) -> Path:
    return Path(cache_dir) / f"{sha256}-{reader_version()}"


def _convert(path: Path, entry: Path) -> None:
    """Read the workbook window by window into parquet parts (never the whole table in memory)."""
    temp = entry.with_name(f".{entry.name}.tmp-{os.getpid()}")
    shutil.rmtree(temp, ignore_errors=True)
    temp.mkdir(parents=True)
    try:
        reads: list[SheetRead] = []
        parts: dict[str, list[Path]] = {}
        count = 0
        for sheet, frame in workbook_frames(path, reads):
            if frame is None:  # the sheet failed part way: drop what it gave
                for part in parts.pop(sheet, []):
                    part.unlink()
                continue
            part = temp / f"part-{count:06d}.parquet"
            frame.drop(columns="source_file").to_parquet(part, index=False)
            parts.setdefault(sheet, []).append(part)
            count += 1
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


def _load(entry: Path, name: str) -> tuple[pd.DataFrame | None, list[SheetRead]]:
    reads = [SheetRead(**{**read, "file": name}) for read in json.loads((entry / READS).read_text(encoding="utf-8"))]
    frames = []
    for part in sorted(entry.glob("part-*.parquet")):
        frame = pd.read_parquet(part)
        for column in frame.columns:  # parquet keeps milliseconds at least; the readers type to seconds
            if column_kind(column) in DATETIME_KINDS and frame[column].dtype != "datetime64[s]":
                frame[column] = frame[column].astype("datetime64[s]")
        frame.insert(len(frame.columns) - 2, "source_file", constant_column(name, len(frame)))
        frames.append(frame)
    return stack(frames), reads


def read_workbook_cached(path: Path, cache_dir: Path) -> tuple[pd.DataFrame | None, list[SheetRead]]:
    """The workbook's typed table from the cache, converting it first when this sha256 (and reader) is new.
    Once converted, the .xlsx is never opened again."""
    entry = entry_path(cache_dir, sha256_file(path))
    if (entry / READS).is_file():
        log.info("%s: read from the workbook cache (%s)", path.name, entry.name)
    else:
        log.info("%s: converting to the workbook cache (%s)", path.name, entry.name)
        entry.parent.mkdir(parents=True, exist_ok=True)
        _convert(path, entry)
    return _load(entry, path.name)
