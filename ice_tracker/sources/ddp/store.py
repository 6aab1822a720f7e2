"""Where release files live: small ones in the release folder (committed), big ones in the cache.

`releases/ddp/<release_id>/manifest.csv` lists every file of a release: table, url, file_name (as
Box announced it), bytes, sha256, fetched_at, stored (`repo` or `cache`), path (relative to the
data dir or to the cache dir) and asset_url (the durable copy of a cached file as a GitHub release
asset, see `assets.py`; empty when there is none yet). Identity is the sha256: bytes already held anywhere are referenced,
never stored twice. Files arrive by atomic rename and are never rewritten or deleted.
"""

from __future__ import annotations

import errno
import logging
import os
import shutil
from dataclasses import asdict, dataclass, fields
from pathlib import Path, PurePosixPath

from ice_tracker.fileio import read_dict_csv, temp_path_beside, write_dict_csv
from ice_tracker.safepath import safe_component

log = logging.getLogger(__name__)

DEFAULT_REPO_LIMIT = 50 * 1024 * 1024


@dataclass
class ReleaseFile:
    table: str
    url: str
    file_name: str
    bytes: int
    sha256: str
    fetched_at: str
    stored: str  # repo / cache
    path: str
    asset_url: str = ""


MANIFEST_COLUMNS = [f.name for f in fields(ReleaseFile)]


def move_into_place(source: Path, dest: Path) -> None:
    """Atomic rename; across filesystems (cache → repo) copy beside `dest`, then rename."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.replace(source, dest)
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
        temp = temp_path_beside(dest)
        shutil.copyfile(source, temp)
        os.replace(temp, dest)
        source.unlink()


def _free(dest: Path) -> Path:
    """`dest`, or `name_2.ext`… if taken: an archived file is never overwritten."""
    candidate, n = dest, 2
    while candidate.exists():
        candidate, n = dest.with_name(f"{dest.stem}_{n}{dest.suffix}"), n + 1
    return candidate


class ReleaseStore:
    """All release manifests of a data dir, plus the cache of big files."""

    def __init__(self, root: Path, data_dir: Path, cache_dir: Path, repo_limit: int = DEFAULT_REPO_LIMIT):
        self.root = Path(root)  # <data>/releases/ddp
        self.data_dir = Path(data_dir)
        self.cache_dir = Path(cache_dir)
        self.repo_limit = repo_limit
        self.manifests: dict[str, list[ReleaseFile]] = {}
        if self.root.is_dir():
            for path in sorted(self.root.glob("*/manifest.csv")):
                self.manifests[path.parent.name] = [ReleaseFile(**{**r, "bytes": int(r["bytes"] or 0)})  # type: ignore[arg-type]
                                                    for r in read_dict_csv(path)]

    def location(self, row: ReleaseFile) -> Path:
        return (self.data_dir if row.stored == "repo" else self.cache_dir) / row.path

    def rows(self, release_id: str) -> list[ReleaseFile]:
        return self.manifests.get(release_id, [])

    def _held(self, match) -> ReleaseFile | None:  # type: ignore[no-untyped-def]
        for rows in self.manifests.values():
            for row in rows:
                if match(row) and self.location(row).is_file():
                    return row
        return None

    def held_url(self, url: str) -> ReleaseFile | None:
        return self._held(lambda r: r.url == url)

    def held_sha(self, sha256: str) -> ReleaseFile | None:
        return self._held(lambda r: r.sha256 == sha256)

    def record(self, release_id: str, row: ReleaseFile) -> ReleaseFile:
        rows = self.manifests.setdefault(release_id, [])
        if not any(r.url == row.url for r in rows):
            rows.append(row)
            self.save(release_id)
        return row

    def reuse(self, release_id: str, table: str, url: str, held: ReleaseFile) -> ReleaseFile:
        """List bytes we already hold in this release, pointing at where they are."""
        return self.record(release_id, ReleaseFile(table, url, held.file_name, held.bytes, held.sha256,
                                                   held.fetched_at, held.stored, held.path, held.asset_url))

    def place(self, release_id: str, table: str, url: str, temp: Path, file_name: str, size: int,
              sha256: str, fetched_at: str) -> ReleaseFile:
        """Move a verified download into the repo (≤ limit) or the cache, and record it."""
        held = self.held_sha(sha256)
        if held is not None:
            temp.unlink(missing_ok=True)
            return self.reuse(release_id, table, url, held)
        name = safe_component(file_name or PurePosixPath(url).name or "download")
        if size <= self.repo_limit:
            dest = _free(self.root / release_id / name)
            stored, base = "repo", self.data_dir
        else:
            dest = self.cache_dir / "ddp" / "sha256" / sha256 / name
            stored, base = "cache", self.cache_dir
        if not (stored == "cache" and dest.is_file()):
            move_into_place(temp, dest)
        else:
            temp.unlink(missing_ok=True)
        log.info("archived %s (%s, %s bytes, %s)", name, table, f"{size:,}", stored)
        return self.record(release_id, ReleaseFile(table, url, file_name, size, sha256, fetched_at, stored,
                                                   dest.relative_to(base).as_posix()))

    def all_rows(self) -> list[tuple[str, ReleaseFile]]:
        return [(release_id, row) for release_id, rows in sorted(self.manifests.items()) for row in rows]

    def set_asset_url(self, sha256: str, asset_url: str) -> None:
        """Record the durable copy of `sha256` on every row that lists those bytes."""
        for release_id, rows in self.manifests.items():
            changed = [row for row in rows if row.sha256 == sha256 and row.asset_url != asset_url]
            for row in changed:
                row.asset_url = asset_url
            if changed:
                self.save(release_id)

    def save(self, release_id: str) -> None:
        rows = sorted(self.manifests.get(release_id, []), key=lambda r: (r.table, r.url))
        write_dict_csv(self.root / release_id / "manifest.csv", MANIFEST_COLUMNS, (asdict(r) for r in rows))
