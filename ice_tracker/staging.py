"""Derivations commit all or nothing: they run against a staging copy and their outputs are swapped in together.

The staging folder (`<data-dir>/.tmp/derive/view`) looks like the data dir to every derivation: the
derived outputs (data/, plots/, site/, agreements.csv, datapackage.json) are copied in, everything
else (the archive, reference files) is a symlink to the real thing. When the derivations are done a
marker says so and the changed files are moved into place (unchanged files stay untouched, bytes and
mtimes); a kill before the marker leaves the previous complete set in place, and a kill during the
move is finished by the next run before it does anything else.
"""

from __future__ import annotations

import filecmp
import logging
import os
import shutil
from pathlib import Path

from ice_tracker.archive import TEMP_DIR_NAME
from ice_tracker.fileio import atomic_write_text

log = logging.getLogger(__name__)

DERIVED = ("data", "plots", "site", "agreements.csv", "datapackage.json")
NOT_DERIVED = {"data/last_run.json",  # the run's own record, written after the derivations
               "data/quarantine.csv", "data/corrupt_rows.csv"}  # state files, written in place
NOT_IN_VIEW = {".git", TEMP_DIR_NAME, ".ice_tracker.lock"}
STAGING = "derive"
COMPLETE = ".complete"


def _staging_root(data_dir: Path) -> Path:
    return Path(data_dir) / TEMP_DIR_NAME / STAGING


def open_staging(data_dir: Path) -> Path:
    """A fresh staging view of `data_dir` (finishing or dropping whatever an earlier run left); returns its root."""
    data_dir = Path(data_dir)
    finish_interrupted_swap(data_dir)
    view = _staging_root(data_dir) / "view"
    view.mkdir(parents=True)
    for entry in sorted(data_dir.iterdir()):
        if entry.name in NOT_IN_VIEW:
            continue
        target = view / entry.name
        if entry.name in DERIVED and not entry.is_symlink():
            if entry.is_dir():
                shutil.copytree(entry, target, symlinks=True)
            elif entry.is_file():
                shutil.copy2(entry, target)
        else:
            target.symlink_to(entry.resolve())
    return view


def _derived_files(root: Path) -> dict[str, Path]:
    found: dict[str, Path] = {}
    for name in DERIVED:
        top = root / name
        if top.is_symlink():
            continue
        if top.is_file():
            found[name] = top
        elif top.is_dir():
            for folder, _dirs, files in os.walk(top):
                for file in files:
                    path = Path(folder) / file
                    rel = path.relative_to(root).as_posix()
                    if not path.is_symlink() and rel not in NOT_DERIVED:
                        found[rel] = path
    return found


def commit_staging(data_dir: Path) -> list[str]:
    """Mark the staged outputs complete and move them into place; returns the paths that changed."""
    root = _staging_root(data_dir)
    listing = "".join(f"{rel}\n" for rel in sorted(_derived_files(root / "view")))
    atomic_write_text(root / COMPLETE, listing)  # the full set, for a swap cut short
    changed = _swap(root / "view", Path(data_dir), listing.splitlines())
    discard_staging(data_dir)
    return changed


def _swap(view: Path, data_dir: Path, staged: list[str]) -> list[str]:
    """Make the derived files of `data_dir` exactly `staged` (relative paths), taking bytes from `view`."""
    current = _derived_files(data_dir)
    changed = []
    for rel in staged:
        source, target = view / rel, data_dir / rel
        if not source.is_file():
            continue  # already moved by the run that was cut short
        if rel in current and filecmp.cmp(source, target, shallow=False):
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(source, target)
        changed.append(rel)
    for rel in sorted(set(current) - set(staged)):  # a derivation removed it (e.g. a vanished month)
        (data_dir / rel).unlink()
        changed.append(rel)
    return changed


def discard_staging(data_dir: Path) -> None:
    root = _staging_root(data_dir)
    if root.exists():
        shutil.rmtree(root)
    try:
        root.parent.rmdir()  # .tmp, when nothing else is in it
    except OSError:
        pass


def finish_interrupted_swap(data_dir: Path) -> None:
    """Complete a swap a killed run had started (marker present), or drop an unfinished staging."""
    root = _staging_root(data_dir)
    if (root / COMPLETE).exists():
        staged = (root / COMPLETE).read_text(encoding="utf-8").splitlines()
        changed = _swap(root / "view", Path(data_dir), staged)
        log.warning("finished moving derived outputs a killed run had completed: %d file(s)", len(changed))
    if root.exists():
        discard_staging(data_dir)
