"""Build the roster history outputs from every archived workbook (the step the daily job calls).

Reads `<data_dir>/sheets/*/*.xlsx` (through a parse cache keyed by sha256) and writes, under
`<out_dir>` (default `<data_dir>/data`): roster_history.csv, roster_current.csv, changes.csv,
roster_counts.csv and quality.csv. Outputs depend only on the archive and the rule files, so a
re-run writes byte-identical files. A workbook that cannot be read is listed in quality.csv and
skipped; it never stops the run and is never touched.
"""

from __future__ import annotations

import logging
from collections import Counter
from pathlib import Path

from ice_tracker.config import default_cache_dir
from ice_tracker.fileio import write_csv, write_dict_csv
from ice_tracker.roster.archive import find_workbooks
from ice_tracker.roster.cache import ParseCache
from ice_tracker.roster.changes import CHANGE_COLUMNS, diff_all
from ice_tracker.roster.counts import COUNT_COLUMNS, roster_counts
from ice_tracker.roster.filenames import roster_date
from ice_tracker.roster.ids import assign_ids
from ice_tracker.roster.model import HISTORY_COLUMNS, LISTS, QUALITY_COLUMNS, Roster, quality
from ice_tracker.roster.rows import build_rows
from ice_tracker.roster.vocab import OVERRIDES_DIR, load_vocabulary
from ice_tracker.xlsx import WorkbookError

log = logging.getLogger(__name__)
OUTPUT_FILES = ("roster_history.csv", "roster_current.csv", "changes.csv", "roster_counts.csv", "quality.csv")


def default_roster_cache_dir() -> Path:
    return default_cache_dir() / "roster"


def load_rosters(data_dir: Path, cache: ParseCache, overrides_dir: Path = OVERRIDES_DIR) -> tuple[list[Roster], list[dict]]:
    """Every readable archived workbook as a normalised Roster (publication order), and the quality records."""
    vocab = load_vocabulary(overrides_dir)
    rosters: list[Roster] = []
    issues: list[dict] = []
    for book in find_workbooks(data_dir):
        when = roster_date(book.file, book.fetched)
        roster = Roster(book.snapshot, book.file, book.list, book.sha256, book.fetched, when.value, when.source,
                        when.part_of_day)
        if when.rule:
            fixed = when.value.isoformat() if when.value else ""
            issues.append(quality(roster, 0, "file name", book.file, fixed, when.rule))
        if not book.list:
            issues.append(quality(roster, 0, "file name", book.file, "", "list_unknown"))
            log.warning("skipping %s: neither participating nor pending", book.path)
            continue
        try:
            parsed = cache.get(book.path, book.sha256)
        except (WorkbookError, OSError) as exc:
            issues.append(quality(roster, 0, "", "", "", f"workbook_unreadable: {exc}"))
            log.error("skipping unreadable workbook %s: %s", book.path, exc)
            continue
        for header in parsed.unknown_headers:
            issues.append(quality(roster, 0, "header", header, "", "unknown_header"))
        issues.extend(build_rows(roster, parsed, vocab))
        rosters.append(roster)
    rosters.sort(key=Roster.order_key)
    return rosters, issues


def _duplicates(rosters: list[Roster]) -> list[dict]:
    issues = []
    for roster in rosters:
        seen: set[str] = set()
        for row in roster.rows:
            if row.agreement_id in seen:
                issues.append(quality(roster, row.row_number, "agency", row.agency, row.agreement_id,
                                      "duplicate_agreement_row"))
            seen.add(row.agreement_id)
    return issues


def build_history(data_dir: Path, out_dir: Path | None = None, cache_dir: Path | None = None,
                  overrides_dir: Path = OVERRIDES_DIR) -> dict:
    """Rebuild every roster output from the archive; returns a summary for the daily job's log."""
    data_dir = Path(data_dir)
    out_dir = Path(out_dir) if out_dir else data_dir / "data"
    cache = ParseCache(Path(cache_dir) if cache_dir else default_roster_cache_dir())
    vocab = load_vocabulary(overrides_dir)
    rosters, issues = load_rosters(data_dir, cache, overrides_dir)
    matches = assign_ids(rosters, vocab)
    issues.extend(_duplicates(rosters))
    changes = diff_all(rosters, matches, vocab)

    history = [row.as_tuple() for roster in rosters for row in roster.rows]
    history.sort(key=lambda r: (r[0], r[4], r[1], r[5]))  # snapshot, list, file, row_number
    newest = {r.list: r for r in rosters}  # rosters are in publication order
    current = [row.as_tuple() for name in LISTS if name in newest for row in newest[name].rows]
    issues.sort(key=lambda q: (q["snapshot"], q["file"], q["row"], q["column"], q["rule"], str(q["raw"])))

    out_dir.mkdir(parents=True, exist_ok=True)
    written = [
        write_csv(out_dir / "roster_history.csv", HISTORY_COLUMNS, history),
        write_csv(out_dir / "roster_current.csv", HISTORY_COLUMNS, current),
        write_dict_csv(out_dir / "changes.csv", CHANGE_COLUMNS, changes),
        write_csv(out_dir / "roster_counts.csv", COUNT_COLUMNS, roster_counts(rosters)),
        write_dict_csv(out_dir / "quality.csv", QUALITY_COLUMNS, issues),
    ]
    summary = {
        "snapshots": len({r.snapshot for r in rosters}),
        "workbooks": len(rosters),
        "rows": len(history),
        "agreements": len({row[-1] for row in history}),
        "parsed": cache.parsed,
        "cache_hits": cache.hits,
        "quality_issues": len(issues),
        "files_changed": [name for name, changed in zip(OUTPUT_FILES, written) if changed],
        "newest_changes": _newest_changes(rosters, changes),
    }
    log.info("roster history: %s", summary)
    return summary


def _newest_changes(rosters: list[Roster], changes: list[dict]) -> dict[str, dict]:
    """Per list: the newest roster and the count of each change kind against the one before it."""
    out = {}
    for name in LISTS:
        mine = [r for r in rosters if r.list == name]
        if not mine:
            continue
        newest = mine[-1]
        kinds = Counter(c["change"] for c in changes if c["list"] == name and c["snapshot"] == newest.snapshot
                        and c["file"] == newest.file)
        out[name] = {"snapshot": newest.snapshot, "file": newest.file,
                     "roster_date": newest.roster_date.isoformat() if newest.roster_date else "", **dict(sorted(kinds.items()))}
    return out
