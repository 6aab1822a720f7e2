"""Where the roster history lives: one CSV per month of snapshots, `data/roster_history/YYYY-MM.csv`.

Every snapshot adds a whole roster (~900 rows, ~110 KB), so a single file would pass the 50 MB a
repository file may have within about a year of daily archiving. Monthly files stay a few MB,
only the current month changes in a daily commit, and concatenating them in name order gives
the whole history in snapshot order. Everything that reads the history goes through here.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

from ice_tracker.fileio import restore_row
from ice_tracker.roster.filenames import snapshot_time

HISTORY_DIR = "roster_history"
LEGACY_FILE = "roster_history.csv"  # the single file written before the split


def partition(snapshot: str) -> str:
    """`sheets_20250519_024922` → `roster_history/2025-05.csv` (relative to the output folder)."""
    when = snapshot_time(snapshot)
    return f"{HISTORY_DIR}/{when:%Y-%m}.csv" if when else f"{HISTORY_DIR}/undated.csv"


def history_files(out_dir: Path) -> list[Path]:
    """The history's CSV files in snapshot order (an older single file when there is no split yet)."""
    parts = sorted((Path(out_dir) / HISTORY_DIR).glob("*.csv"))
    if parts:
        return parts
    legacy = Path(out_dir) / LEGACY_FILE
    return [legacy] if legacy.is_file() else []


def iter_history_rows(out_dir: Path) -> Iterator[dict[str, str]]:
    """Every history row, streamed file by file (the history is too big to want it all at once)."""
    for path in history_files(out_dir):
        with open(path, newline="", encoding="utf-8") as handle:
            yield from map(restore_row, csv.DictReader(handle))
