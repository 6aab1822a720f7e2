"""Each MOA result saved the moment it is known, so a killed run loses only the PDFs in progress.

The metadata CSV is rewritten once, at the end of a run. In between, every finished PDF's row is
appended to a journal (one JSON line, flushed to disk); the next run reads the journal back over
the CSV. A line cut short by a kill is skipped. The journal is removed once the CSV holds it all.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import IO, Any

log = logging.getLogger(__name__)


def moa_journal(data_dir: Path) -> Path:
    """Where the daily job keeps the journal: beside the data, outside the staging copy, never committed."""
    from ice_tracker.archive import TEMP_DIR_NAME

    return Path(data_dir) / TEMP_DIR_NAME / "moa_journal.jsonl"


def read_journal(path: Path) -> dict[str, dict[str, Any]]:
    """sha256 → the last row recorded for it (rows cut short or malformed are skipped)."""
    rows: dict[str, dict[str, Any]] = {}
    if not path.is_file():
        return rows
    with open(path, encoding="utf-8", errors="replace") as handle:
        for number, line in enumerate(handle, start=1):
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                log.warning("%s line %d is incomplete (a run was stopped while writing it): skipped", path, number)
                continue
            if isinstance(row, dict) and isinstance(row.get("sha256"), str):
                rows[row["sha256"]] = row
    return rows


class Journal:
    """Append-only record of finished rows; `close(keep=False)` removes it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.handle: IO[str] | None = None

    def add(self, row: dict[str, Any]) -> None:
        if self.handle is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.handle = open(self.path, "a", encoding="utf-8")
        self.handle.write(json.dumps(row, sort_keys=True, default=str) + "\n")
        self.handle.flush()
        os.fsync(self.handle.fileno())

    def close(self, keep: bool) -> None:
        if self.handle is not None:
            self.handle.close()
            self.handle = None
        if not keep:
            self.path.unlink(missing_ok=True)
