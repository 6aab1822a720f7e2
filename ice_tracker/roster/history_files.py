"""Where the roster history lives and the one way to read it.

Committed (small, diffable, see intervals.py): `data/roster_history/snapshots.csv` (one line per
roster), `versions.csv` and `positions.csv` (one line per agreement version / row position, with
the rosters it is valid from and to; the versions without `valid_to` are the agreements in force)
and `data/quality.csv` (issues as intervals). The per-snapshot table (every row of every roster,
the form the history had before) is rebuilt from them on demand and cached as parquet in the cache
dir, keyed by the committed files' bytes; every reader goes through `read_snapshots`, and the
newest rosters and the counts per roster come from it too (`read_current`, `read_counts`): files
that change with every snapshot are never committed.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from ice_tracker.config import default_cache_dir, overrides_for
from ice_tracker.fileio import atomic_write_text, csv_text, read_dict_csv, temp_path_beside
from ice_tracker.roster import intervals
from ice_tracker.roster.filenames import snapshot_time
from ice_tracker.roster.model import HISTORY_COLUMNS, LISTS

log = logging.getLogger(__name__)

HISTORY_DIR = "roster_history"
SNAPSHOTS = f"{HISTORY_DIR}/snapshots.csv"
VERSIONS = f"{HISTORY_DIR}/versions.csv"
POSITIONS = f"{HISTORY_DIR}/positions.csv"
QUALITY = "quality.csv"
TABLES = {SNAPSHOTS: intervals.SNAPSHOT_COLUMNS, VERSIONS: intervals.VERSION_COLUMNS,
          POSITIONS: intervals.POSITION_COLUMNS, QUALITY: intervals.QUALITY_COLUMNS}
# what older versions wrote per snapshot; derived, so removed when the interval files are written
LEGACY = ("roster_history.csv", "roster_counts.csv", "roster_current.csv")
FORMAT = "intervals-1"  # part of the cache key: bump when decode changes


def default_roster_cache_dir() -> Path:
    return default_cache_dir() / "roster"


def partition(snapshot: str) -> str:
    """The month a snapshot belongs to (`sheets_20250519_024922` → `2025-05`): the old files' grouping,
    which fixes the order `read_snapshots` returns rosters in."""
    when = snapshot_time(snapshot)
    return f"{when:%Y-%m}" if when else "undated"


def write_history(out_dir: Path, rosters: list[intervals.RosterRows], orphans=()) -> list[str]:
    """Write the committed history files from rosters in publication order (see `write_tables`)."""
    return write_tables(out_dir, intervals.encode(rosters, orphans))


def write_tables(out_dir: Path, tables: dict[str, list[tuple]]) -> list[str]:
    """Write the committed history files from `intervals` tables; remove the per-snapshot files of
    older versions. Returns the names (relative to `out_dir`) written anew or removed."""
    out_dir = Path(out_dir)
    rows = {SNAPSHOTS: tables["snapshots"], VERSIONS: tables["versions"], POSITIONS: tables["positions"],
            QUALITY: tables["quality"]}
    (out_dir / HISTORY_DIR).mkdir(parents=True, exist_ok=True)
    written = [name for name, content in rows.items()
               if atomic_write_text(out_dir / name, csv_text(TABLES[name], content))]
    stale = [p for p in sorted((out_dir / HISTORY_DIR).glob("*.csv")) if f"{HISTORY_DIR}/{p.name}" not in TABLES]
    stale += [out_dir / name for name in LEGACY if (out_dir / name).is_file()]
    for path in stale:
        log.info("removing %s (derived per snapshot; the history is kept as intervals now)", path)
        path.unlink()
        written.append(path.relative_to(out_dir).as_posix())
    return written


def history_present(out_dir: Path) -> bool:
    return (Path(out_dir) / SNAPSHOTS).is_file()


def _digest(out_dir: Path) -> str:
    digest = hashlib.sha256(FORMAT.encode())
    for name in (SNAPSHOTS, VERSIONS, POSITIONS):
        digest.update(name.encode() + b"\0" + (out_dir / name).read_bytes() + b"\0")
    return digest.hexdigest()[:24]


def _rebuild(out_dir: Path) -> pd.DataFrame:
    snapshots = read_dict_csv(out_dir / SNAPSHOTS)
    per_roster = intervals.decode(snapshots, read_dict_csv(out_dir / VERSIONS), read_dict_csv(out_dir / POSITIONS))
    order = sorted(range(len(snapshots)), key=lambda i: (partition(snapshots[i]["snapshot"]), snapshots[i]["snapshot"],
                                                          snapshots[i]["list"], snapshots[i]["file"]))
    rows = [row for i in order for row in per_roster[i]]
    return pd.DataFrame(rows, columns=list(HISTORY_COLUMNS), dtype=str) if rows else \
        pd.DataFrame({c: pd.Series(dtype=str) for c in HISTORY_COLUMNS})


def _cached(cache_dir: Path | None, name: str, digest: str, build) -> pd.DataFrame:
    """`build()`'s frame, from `<cache>/<name>-<digest>.parquet` when present; older digests are removed."""
    if cache_dir is None:
        return build()
    path = Path(cache_dir) / f"{name}-{digest}.parquet"
    try:
        return pd.read_parquet(path).astype(str)
    except FileNotFoundError:
        pass
    except Exception as exc:  # a damaged cache entry only costs a rebuild
        log.warning("ignoring unreadable cache %s: %s", path, exc)
    frame = build()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = temp_path_beside(path)
        frame.to_parquet(tmp, index=False)
        os.replace(tmp, path)
        for old in path.parent.glob(f"{name}-*.parquet"):
            if old != path:
                old.unlink(missing_ok=True)
    except OSError as exc:  # a read-only cache only costs speed
        log.warning("cannot write roster cache %s: %s", path, exc)
    return frame


def read_snapshots(out_dir: Path, cache_dir: Path | None = None) -> pd.DataFrame:
    """Every row of every archived roster (HISTORY_COLUMNS, all text, rosters ordered by snapshot,
    list, file; rows in workbook order): the per-snapshot table, rebuilt from the interval files
    and cached. Raises FileNotFoundError when the history has not been built."""
    out_dir = Path(out_dir)
    if not history_present(out_dir):
        raise FileNotFoundError(f"{out_dir / SNAPSHOTS} not found: build the roster history first "
                                "(`python -m ice_tracker history`)")
    cache_dir = default_roster_cache_dir() if cache_dir is None else cache_dir
    return _cached(cache_dir, "snapshots", _digest(out_dir), lambda: _rebuild(out_dir))


def iter_history_rows(out_dir: Path, cache_dir: Path | None = None) -> Iterator[dict[str, str]]:
    """Every history row as a dict (nothing when the history has not been built)."""
    if history_present(out_dir):
        yield from read_snapshots(out_dir, cache_dir).to_dict("records")


def _good(snapshot: dict[str, str]) -> bool:
    """A roster that passed the publication check (files written before the check have no verdict)."""
    return snapshot.get("verdict", "good") != "suspect"


def newest_good(out_dir: Path) -> dict[str, dict[str, str]]:
    """Per list, the snapshots.csv line of its newest roster that passed the publication check (an am
    and a pm roster of one day: the later one)."""
    newest: dict[str, dict[str, str]] = {}
    for snapshot in read_dict_csv(Path(out_dir) / SNAPSHOTS):  # in publication order
        if _good(snapshot) and snapshot["list"] in LISTS:
            newest[snapshot["list"]] = snapshot
    return newest


def suspect_rosters(out_dir: Path) -> set[tuple[str, str]]:
    """(snapshot, file) of every roster that failed the publication check."""
    return {(s["snapshot"], s["file"]) for s in read_dict_csv(Path(out_dir) / SNAPSHOTS) if not _good(s)}


def read_current(out_dir: Path, cache_dir: Path | None = None) -> pd.DataFrame:
    """The rows of the newest good participating and the newest good pending roster, as the workbooks
    list them: what the agreements in force and the dashboard are built from."""
    frame = read_snapshots(out_dir, cache_dir)
    newest = newest_good(out_dir)
    parts = [frame[(frame["snapshot"] == newest[n]["snapshot"]) & (frame["file"] == newest[n]["file"])]
             for n in LISTS if n in newest]
    return pd.concat(parts, ignore_index=True) if parts else frame.iloc[0:0]


def read_counts(out_dir: Path, cache_dir: Path | None = None, overrides_dir: Path | None = None) -> pd.DataFrame:
    """Rows, agreements and agencies per good roster × list × model × state (see counts.py), from the
    history: a roster that failed the publication check is left out, so no plot dips with it."""
    from ice_tracker.roster.counts import COUNT_COLUMNS, counts_frame
    from ice_tracker.roster.vocab import load_vocabulary

    out_dir = Path(out_dir)
    vocab = load_vocabulary(overrides_dir or overrides_for(out_dir.parent))  # the history step's (agency keys)
    cache_dir = default_roster_cache_dir() if cache_dir is None else cache_dir
    digest = hashlib.sha256(f"{_digest(out_dir)}|{vocab.fingerprint}".encode()).hexdigest()[:24]
    suspect = suspect_rosters(out_dir)

    def build() -> pd.DataFrame:
        history = read_snapshots(out_dir, cache_dir)
        keep = [(s, f) not in suspect for s, f in zip(history["snapshot"], history["file"])]
        return counts_frame(history[keep] if suspect else history, vocab)

    frame = _cached(cache_dir, "counts", digest, build)
    return frame[list(COUNT_COLUMNS)]


def read_versions(out_dir: Path, in_force: bool = False) -> pd.DataFrame:
    """The agreement versions (versions.csv, all text); `in_force`: only those valid on the newest
    good roster of each list (without `valid_to` unless a suspect roster came after it). Far smaller
    than the per-snapshot table, for readers that need each agreement once."""
    out_dir = Path(out_dir)
    frame = pd.DataFrame(read_dict_csv(out_dir / VERSIONS), columns=list(intervals.VERSION_COLUMNS), dtype=str)
    if not in_force:
        return frame
    snapshots = read_dict_csv(out_dir / SNAPSHOTS)
    ids = intervals.roster_ids(tuple(s[c] for c in intervals.META) for s in snapshots)
    position: dict[tuple[str, str], int] = {}  # (list, roster id) -> place among the list's rosters
    count: dict[str, int] = {}
    newest: dict[str, int] = {}  # list -> place of its newest good roster
    for snapshot, rid in zip(snapshots, ids):
        place = position[(snapshot["list"], rid)] = count.get(snapshot["list"], 0)
        count[snapshot["list"]] = place + 1
        if _good(snapshot):
            newest[snapshot["list"]] = place
    end = len(snapshots)

    def valid(name: str, start: str, stop: str) -> bool:
        now = newest.get(name)
        return now is not None and position.get((name, start), end) <= now < (
            position.get((name, stop), end) if stop else end)

    keep = [valid(n, a, b) for n, a, b in zip(frame["list"], frame["valid_from"], frame["valid_to"])]
    return frame[keep].reset_index(drop=True)
