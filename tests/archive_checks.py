"""Invariants every test checks after every scenario: nothing invalid archived, nothing changed."""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path

from ice_tracker.sources.ice287g.html_table import read_archived_roster

ARCHIVE_AREAS = ("sheets", "agreements")


def snapshot(data_dir: Path) -> dict[str, str]:
    """sha256 of every file in the archive areas, by relative path."""
    found = {}
    for area in ARCHIVE_AREAS:
        for path in sorted((data_dir / area).rglob("*")):
            if path.is_file():
                found[path.relative_to(data_dir).as_posix()] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def manifest_rows(data_dir: Path) -> list[dict[str, str]]:
    path = data_dir / "manifest.csv"
    if not path.exists():
        return []
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def assert_archive_valid(data_dir: Path, before: dict[str, str] | None = None) -> dict[str, str]:
    """Every archived file is valid and in the manifest with its sha256; nothing archived earlier
    changed or vanished; no temp file sits in the archive. Returns the new snapshot."""
    now = snapshot(data_dir)
    rows = {row["path"]: row for row in manifest_rows(data_dir)}
    assert set(rows) == set(now), f"manifest/archive mismatch: {set(rows) ^ set(now)}"
    for rel, sha in now.items():
        path = data_dir / rel
        assert rows[rel]["sha256"] == sha, f"{rel}: manifest sha differs from file"
        assert int(rows[rel]["bytes"]) == path.stat().st_size
        assert not path.name.endswith(".part")
        assert path.resolve().is_relative_to(data_dir.resolve())
        if rel.startswith("sheets/"):
            read_archived_roster(path)  # raises if not a real roster (workbook or captured page table)
        else:
            assert path.read_bytes()[:1024].find(b"%PDF-") >= 0, f"{rel} is not a PDF"
    for rel, sha in (before or {}).items():
        assert now.get(rel) == sha, f"archived file changed or vanished: {rel}"
    return now
