"""Find the archived roster workbooks (`sheets/<snapshot>/<file>.xlsx`) and what the manifest says of them."""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from ice_tracker.fileio import read_dict_csv, sha256_file
from ice_tracker.roster.filenames import parse_name, snapshot_time

log = logging.getLogger(__name__)
WORKBOOK_SUFFIXES = (".xlsx", ".html")  # .html: a roster table from a page capture


@dataclass
class ArchivedWorkbook:
    path: Path
    snapshot: str  # the folder name
    file: str  # the file name as published
    list: str  # participating / pending / ""
    fetched: datetime | None
    sha256: str
    sequence: int = 0  # place in the archive's order: the manifest row (appended as files arrive)


def _parse_time(text: str) -> datetime | None:
    text = (text or "").strip()
    if not text:
        return None
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def find_workbooks(data_dir: Path) -> list[ArchivedWorkbook]:
    """Every workbook under `sheets/`, sorted by path. The list comes from the manifest's `kind`
    when present, else from the file name; the fetch time from the folder name, else the manifest;
    the archive order from the manifest's row order (files it does not list follow, by path)."""
    root = data_dir / "sheets"
    if not root.is_dir():
        return []
    manifest = {row.get("path", "").strip().lstrip("./"): row for row in read_dict_csv(data_dir / "manifest.csv")}
    order = {path: index for index, path in enumerate(manifest)}
    found = []
    for path in sorted(root.rglob("*")):
        if not path.is_file() or path.suffix.lower() not in WORKBOOK_SUFFIXES or path.name.startswith(("~$", ".")):
            continue
        relative = path.relative_to(data_dir).as_posix()
        entry = manifest.get(relative, {})
        kind = entry.get("kind", "").strip().lower()
        if kind not in ("participating", "pending"):
            kind = parse_name(path.name).list
        fetched = snapshot_time(path.parent.name) or _parse_time(entry.get("fetched_at", ""))
        found.append(ArchivedWorkbook(path, path.parent.name, path.name, kind, fetched, sha256_file(path),
                                      order.get(relative, len(order) + len(found))))
    return found


def copy_workbooks(source: Path, target: Path, keep: Callable[[Path], bool] = lambda path: True) -> list[Path]:
    """Copy the archived workbooks `keep` accepts into another archive root, contents only (the
    shared fixtures are read-only): how tests and the bench stage "the archive before a new day"."""
    copied = []
    for path in sorted(source.glob("sheets/*/*.xlsx")):
        if keep(path):
            destination = target / path.relative_to(source)
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, destination)
            copied.append(destination)
    return copied
