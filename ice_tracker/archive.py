"""The archive: timestamped folders of files as published, and `manifest.csv`, their provenance.

Rules this module enforces, so no caller can break them:
- a file is only ever added: an archived path is never rewritten, renamed or deleted;
- identity is the sha256 of the bytes, not the name (ICE republishes names with new bytes);
- a timestamped folder (`sheets/sheets_YYYYMMDD_HHMMSS/`) is created only when a file lands in it;
- files arrive by atomic rename from `.tmp/` inside the data dir, so a crash never leaves a partial
  file in the archive, and each addition is recorded in the manifest at once: the run's first by
  rewriting it (atomically, in the current columns), the next ones by appending their line in one
  write() (a killed process never leaves half a line; rewriting the whole manifest after every
  file made a first run of 2,400 agreements write ~1 GB of CSV).
"""

from __future__ import annotations

import logging
import os
import shutil
from dataclasses import dataclass, fields
from datetime import datetime, timedelta, timezone
from pathlib import Path

from ice_tracker.fileio import atomic_write_text, csv_row_text, csv_text, temp_path_beside
from ice_tracker.state_files import is_count, is_sha256, not_empty, read_state_csv

log = logging.getLogger(__name__)

TEMP_DIR_NAME = ".tmp"


@dataclass
class ManifestEntry:
    path: str  # relative to the data dir, POSIX separators
    kind: str  # participating / pending / moa / addendum / (later sources add their own)
    source_url: str
    sha256: str
    bytes: int
    fetched_at: str  # UTC ISO 8601
    etag: str = ""
    last_modified: str = ""
    content_type: str = ""
    state: str = ""
    agency: str = ""
    # Where the bytes came from: live (fetched from the publisher by this tool), wayback (a Wayback
    # Machine capture) or import (an existing archive). Manifests written before these columns
    # existed load with the defaults: every row then was a live fetch.
    source: str = "live"
    origin: str = ""  # import: the archive it came from (e.g. "appelson/Tracking_287g@1946c79")
    capture_timestamp: str = ""  # wayback: the capture's 14-digit timestamp (YYYYMMDDhhmmss, UTC)
    capture_url: str = ""  # wayback: where the capture's original bytes were read


MANIFEST_COLUMNS = [f.name for f in fields(ManifestEntry)]
MANIFEST_CHECKS = (not_empty("path"), is_sha256("sha256"), is_count("bytes"))


def manifest_entry(row: dict[str, str]) -> ManifestEntry:
    """A manifest row as an entry; columns this version does not know are ignored, missing ones default."""
    known = {k: v for k, v in row.items() if k in MANIFEST_COLUMNS and v is not None}
    if not known.get("source"):
        known.pop("source", None)
    return ManifestEntry(**{**known, "bytes": int(known.get("bytes") or 0)})  # type: ignore[arg-type]


def utc_iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def remove_empty_temp_dir(data_dir: Path) -> None:
    """Remove `<data>/.tmp` when empty, so a run that achieved nothing leaves no trace."""
    try:
        (Path(data_dir) / TEMP_DIR_NAME).rmdir()
    except OSError:
        pass


class Archive:
    """Store-only-new bookkeeping over one data dir for one run (one timestamp)."""

    def __init__(self, data_dir: Path, run_time: datetime):
        self.data_dir = Path(data_dir)
        self.run_time = run_time.astimezone(timezone.utc)
        self.stamp = self._unused_stamp(self.run_time)
        self.manifest_path = self.data_dir / "manifest.csv"
        self.temp_dir = self.data_dir / TEMP_DIR_NAME
        self.entries: list[ManifestEntry] = [
            manifest_entry(row)
            for row in read_state_csv(self.manifest_path, MANIFEST_COLUMNS, self.data_dir, MANIFEST_CHECKS)
        ]
        self.added: list[ManifestEntry] = []
        self._lines: list[str] = []  # rendered CSV rows, so a save after each file stays cheap
        self._synced = False  # whether manifest.csv on disk is exactly header + _lines (appends are safe)
        self._by_url: dict[str, list[ManifestEntry]] = {}
        self._by_sha: dict[str, list[ManifestEntry]] = {}
        for entry in self.entries:
            self._index(entry)

    def _index(self, entry: ManifestEntry) -> None:
        self._lines.append(csv_row_text([getattr(entry, c) for c in MANIFEST_COLUMNS]))
        self._by_url.setdefault(entry.source_url, []).append(entry)
        self._by_sha.setdefault(entry.sha256, []).append(entry)

    def _unused_stamp(self, moment: datetime) -> str:
        """YYYYMMDD_HHMMSS of the run, moved on by seconds if a folder of that name exists, so a
        timestamped folder only ever holds one run's files."""
        while True:
            stamp = moment.strftime("%Y%m%d_%H%M%S")
            if not any((self.data_dir / a / f"{a}_{stamp}").exists() for a in ("sheets", "agreements")):
                return stamp
            moment += timedelta(seconds=1)

    # ----- look-ups -------------------------------------------------------------------------
    def has_sha(self, sha256: str, kinds: tuple[str, ...] | None = None) -> bool:
        return any(kinds is None or e.kind in kinds for e in self._by_sha.get(sha256, ()))

    def entries_for_url(self, url: str) -> list[ManifestEntry]:
        return list(self._by_url.get(url, ()))

    def latest_for_url(self, url: str) -> ManifestEntry | None:
        matches = self.entries_for_url(url)
        return max(matches, key=lambda e: e.fetched_at) if matches else None

    def holds(self, sha256: str, state: str, agency: str, kinds: tuple[str, ...]) -> bool:
        """Whether these bytes are already archived for this agency (PDF identity)."""
        return any(e.state == state and e.agency == agency and e.kind in kinds for e in self._by_sha.get(sha256, ()))

    def holds_url(self, url: str, state: str, agency: str, kinds: tuple[str, ...]) -> ManifestEntry | None:
        """The newest entry archived from `url` for this agency, if any."""
        matches = [e for e in self._by_url.get(url, ()) if e.state == state and e.agency == agency and e.kind in kinds]
        return max(matches, key=lambda e: e.fetched_at) if matches else None

    def entry_with_sha(self, sha256: str) -> ManifestEntry | None:
        return next((e for e in self._by_sha.get(sha256, ()) if (self.data_dir / e.path).is_file()), None)

    # ----- writes ---------------------------------------------------------------------------
    def prepare(self) -> None:
        """Remove temp files left by a run that was killed mid-download (never archived files)."""
        if self.temp_dir.is_dir():
            for leftover in self.temp_dir.iterdir():
                if leftover.is_file():
                    log.info("removing partial download left by an interrupted run: %s", leftover.name)
                    leftover.unlink()

    def finish(self) -> None:
        remove_empty_temp_dir(self.data_dir)

    def folder(self, area: str, stamp: str | None = None) -> Path:
        """`<data>/<area>/<area>_<stamp>`, e.g. sheets/sheets_20250519_024922 (not created here).
        `stamp` defaults to this run's; a capture or an imported folder keeps its own time."""
        return self.data_dir / area / f"{area}_{stamp or self.stamp}"

    def _free_destination(self, dest: Path) -> Path:
        """`dest`, or `name_2.ext`, `name_3.ext`… if taken: an archived file is never overwritten."""
        if not dest.exists():
            return dest
        stem, suffix = dest.stem, dest.suffix
        n = 2
        while (candidate := dest.with_name(f"{stem}_{n}{suffix}")).exists():
            n += 1
        return candidate

    def add_file(self, temp_file: Path, area: str, relative: Path, entry: ManifestEntry,
                 stamp: str | None = None) -> ManifestEntry:
        """Move a verified temp file into this run's folder of `area` (or the folder of `stamp`) and record it."""
        dest = self._free_destination(self.folder(area, stamp) / relative)
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.replace(temp_file, dest)
        return self._record(dest, entry)

    def add_copy(self, source: Path, area: str, relative: Path, entry: ManifestEntry,
                 stamp: str | None = None) -> ManifestEntry:
        """Archive a copy of a file: bytes we already hold under a second path (one PDF linked by
        two agencies), or a file of another archive being imported."""
        self.temp_dir.mkdir(parents=True, exist_ok=True)
        temp = temp_path_beside(self.temp_dir / "copy")
        shutil.copyfile(source, temp)
        return self.add_file(temp, area, relative, entry, stamp)

    def _record(self, dest: Path, entry: ManifestEntry) -> ManifestEntry:
        entry.path = dest.relative_to(self.data_dir).as_posix()
        self.entries.append(entry)
        self.added.append(entry)
        self._index(entry)
        if self._synced:
            self._append(self._lines[-1])
        else:
            self.save(durable=False)  # rename-atomic; the run's final save() also fsyncs
        log.info("archived %s (%s, %s bytes)", entry.path, entry.kind, f"{entry.bytes:,}")
        return entry

    def save(self, durable: bool = True) -> None:
        atomic_write_text(self.manifest_path, csv_text(MANIFEST_COLUMNS, []) + "".join(self._lines), durable)
        self._synced = True

    def _append(self, line: str) -> None:
        """One manifest line in one write() to the end of a manifest this run wrote itself."""
        data = line.encode("utf-8")
        handle = os.open(self.manifest_path, os.O_WRONLY | os.O_APPEND)
        try:
            if os.write(handle, data) != len(data):
                raise OSError(f"short write to {self.manifest_path}")
        finally:
            os.close(handle)
