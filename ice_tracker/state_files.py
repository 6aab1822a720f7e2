"""Read a state CSV (manifest.csv, failures.csv, …) that heals: bad rows move to data/corrupt_rows.csv.

A row half-written by a killed editor, merge-conflict markers (`<<<<<<<`, `=======`, `>>>>>>>`)
left by a hand merge, a row with the wrong number of columns or a value that cannot be what its
column holds would otherwise be kept silently or stop the run before anything ran. Instead each such
row is appended to `data/corrupt_rows.csv` (file, line, reason, the row as text, when) and the state
file is rewritten without it, so the run goes on and a person can still see, and restore, every byte.
"""

from __future__ import annotations

import csv
import logging
import re
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

from ice_tracker.fileio import atomic_write_text, csv_row_text, csv_text, read_dict_csv, restore_cell

log = logging.getLogger(__name__)

CORRUPT_ROWS_FILE = "data/corrupt_rows.csv"
CORRUPT_COLUMNS = ["file", "line", "reason", "text", "found_at"]
CONFLICT_MARKER = re.compile(r"^(<{7}|={7}|>{7}|\|{7})( |$)")
SHA256 = re.compile(r"^[0-9a-f]{64}$")

Check = Callable[[dict[str, str]], str]  # a row → "" when fine, else why not


def is_sha256(field: str) -> Check:
    return lambda row: "" if SHA256.match(row.get(field, "")) else f"{field} is not a sha256"


def is_count(field: str) -> Check:
    return lambda row: "" if row.get(field, "").isdigit() else f"{field} is not a whole number"


def not_empty(field: str) -> Check:
    return lambda row: "" if row.get(field, "").strip() else f"{field} is empty"


def real_data_dir(data_dir: Path) -> Path:
    """`data_dir`, or the data dir a derive staging view (`<data>/.tmp/derive/view`) stands for.
    State files (failures, quarantine, corrupt rows) are not derived outputs: they are written where
    they live, and the staging swap leaves them alone (staging.NOT_DERIVED)."""
    from ice_tracker.archive import TEMP_DIR_NAME  # here: archive reads its manifest through this module
    from ice_tracker.staging import STAGING

    data_dir = Path(data_dir)
    if data_dir.name == "view" and data_dir.parent.name == STAGING and data_dir.parent.parent.name == TEMP_DIR_NAME:
        return data_dir.parents[2]
    return data_dir


def _problem(cells: list[str], header: list[str], checks: tuple[Check, ...]) -> str:
    if cells and CONFLICT_MARKER.match(cells[0]):
        return "merge-conflict marker"
    if len(cells) != len(header):
        return f"{len(cells)} columns, expected {len(header)} (a half-written or damaged row)"
    row = dict(zip(header, cells))
    return next((why for check in checks if (why := check(row))), "")


def read_state_csv(path: Path, columns: list[str], data_dir: Path, checks: tuple[Check, ...] = ()) -> list[dict[str, str]]:
    """The good rows of `path` as dicts; bad ones are moved to data/corrupt_rows.csv (see module doc).

    Columns the file lacks read as empty (older files); a header that shares nothing with `columns`
    means the whole file is unusable and every row moves."""
    path = Path(path)
    if not path.is_file():
        return []
    with open(path, newline="", encoding="utf-8", errors="replace") as handle:
        lines = [[restore_cell(cell) for cell in cells] for cells in csv.reader(handle)]
    if not lines:
        return []
    header = lines[0]
    if not set(header) & set(columns):
        header_problem = f"header {header[:4]!r} is not this file's header"
    else:
        header_problem = ""
    good: list[dict[str, str]] = []
    good_lines: list[list[str]] = []
    seen: set[tuple[str, ...]] = set()
    bad: list[tuple[int, str, list[str]]] = []
    for number, cells in enumerate(lines[1:], start=2):
        if not cells:
            continue
        why = header_problem or _problem(cells, header, checks)
        if why:
            bad.append((number, why, cells))
            continue
        if tuple(cells) in seen:  # both sides of a merge kept the same row
            continue
        seen.add(tuple(cells))
        good_lines.append(cells)
        good.append({name: dict(zip(header, cells)).get(name, "") for name in columns})
    if bad or len(good_lines) != sum(1 for cells in lines[1:] if cells):
        _move_rows(path, Path(data_dir), header if not header_problem else columns, good_lines, bad)
    return good


def _move_rows(path: Path, data_dir: Path, header: list[str], good: list[list[str]],
               bad: list[tuple[int, str, list[str]]]) -> None:
    found_at = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    name = path.relative_to(data_dir).as_posix() if path.is_relative_to(data_dir) else path.name
    corrupt = real_data_dir(data_dir) / CORRUPT_ROWS_FILE
    existing = read_dict_csv(corrupt)
    known = {(r["file"], r["text"]) for r in existing}
    for number, why, cells in bad:
        text = csv_row_text(cells).rstrip("\n")
        log.error("%s line %d moved to %s: %s", name, number, CORRUPT_ROWS_FILE, why)
        if (name, text) not in known:
            existing.append({"file": name, "line": str(number), "reason": why, "text": text, "found_at": found_at})
            known.add((name, text))
    atomic_write_text(corrupt, csv_text(CORRUPT_COLUMNS, ([r[c] for c in CORRUPT_COLUMNS] for r in existing)))
    atomic_write_text(path, csv_text(header, good))
