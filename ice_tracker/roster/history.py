"""Build the roster history outputs from every archived workbook (the step the daily job calls).

Reads `<data_dir>/sheets/*/*.xlsx` and writes, under `<out_dir>` (default `<data_dir>/data`):
roster_history/YYYY-MM.csv (one file per month of snapshots, see history_files.py),
roster_current.csv, changes.csv, editorial_changes.csv, roster_counts.csv, roster_checks.csv and
quality.csv. Every roster is kept in the history; one that fails the publication check (checks.py)
is marked suspect in roster_checks.csv and quality.csv and left out of the current roster, the
counts and the changes.

Incremental by construction. Rosters are processed in publication order; each roster's share of
every output (a "block") is cached under a key chained from all earlier rosters, the workbook
bytes, the rule files and the source of the deriving code, together with the id state after the newest roster.
A daily run with one new workbook parses and processes only that workbook and re-assembles the
outputs from cached blocks; anything else (a workbook inserted into the past, a changed rule
file) falls back to processing every roster, which gives the same bytes. A workbook that cannot be
read is listed in quality.csv and skipped; it never stops the run and is never touched.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import Counter
from dataclasses import dataclass, field
from operator import attrgetter
from pathlib import Path

from ice_tracker.config import default_cache_dir, overrides_for
from ice_tracker.fileio import atomic_write_text, csv_lines, csv_text
from ice_tracker.limits import limit
from ice_tracker.quarantine import Quarantine
from ice_tracker.roster.archive import ArchivedWorkbook, find_workbooks
from ice_tracker.roster.cache import ParseCache, ParsedWorkbook, code_fingerprint, write_cache_file
from ice_tracker.roster.changes import (CHANGE_COLUMNS, PENDING_CHECK, diff_roster, group_editorial, hold_removals,
                                        settle_moves)
from ice_tracker.roster.checks import CHECK_COLUMNS, CheckRules, Profile, check_roster, load_check_rules
from ice_tracker.roster.counts import COUNT_COLUMNS, roster_counts
from ice_tracker.roster.filenames import roster_date
from ice_tracker.roster.fips import UNRESOLVED, county_fips
from ice_tracker.roster.history_files import HISTORY_DIR, LEGACY_FILE, partition
from ice_tracker.roster.ids import IdState, advance, assign_roster
from ice_tracker.roster.model import HISTORY_COLUMNS, LISTS, QUALITY_COLUMNS, Roster, quality
from ice_tracker.roster.rows import build_rows
from ice_tracker.roster.vocab import Vocabulary, load_vocabulary
from ice_tracker.xlsx import WorkbookError

log = logging.getLogger(__name__)
OUTPUT_FILES = ("roster_current.csv", "changes.csv", "editorial_changes.csv", "roster_counts.csv", "roster_checks.csv",
                "quality.csv")  # + the monthly history
DERIVING_MODULES = tuple(f"ice_tracker.roster.{name}" for name in (
    "archive", "cache", "changes", "checks", "counts", "filenames", "fips", "history", "ids", "model", "normalise",
    "rows", "vocab",
)) + ("ice_tracker.urls", "ice_tracker.xlsx", "ice_tracker.xlsx_guard", "ice_tracker.limits",
      "ice_tracker.sources.ice287g.workbook", "ice_tracker.sources.ice287g.html_table")


def output_names(out_dir: Path) -> list[str]:
    """Every output file present under `out_dir` (relative names): the fixed ones, then the months."""
    months = [f"{HISTORY_DIR}/{p.name}" for p in sorted((Path(out_dir) / HISTORY_DIR).glob("*.csv"))]
    return [name for name in OUTPUT_FILES if (Path(out_dir) / name).is_file()] + months


def default_roster_cache_dir() -> Path:
    return default_cache_dir() / "roster"


def _rows_text(rows) -> str:
    """CSV lines without a header, written exactly as fileio.csv_text writes them (values are never None here)."""
    return csv_lines(rows)


_ROW_TAIL = attrgetter(*HISTORY_COLUMNS[HISTORY_COLUMNS.index("row_number") + 1:])
_TAILS: dict[tuple, str] = {}


def _history_text(roster: Roster) -> str:
    """The roster's history lines. The same agreement row recurs in every snapshot, so the part
    after `row_number` is rendered once per distinct value and reused (byte-identical to csv)."""
    prefix = _rows_text([[roster.snapshot, roster.file, roster.rows[0].roster_date if roster.rows else "",
                          roster.roster_date_source, roster.list]])[:-1]
    if len(_TAILS) > 200_000:  # a memo, not a leak, in long-lived processes
        _TAILS.clear()
    lines = []
    for row in roster.rows:
        tail = _ROW_TAIL(row)
        text = _TAILS.get(tail)
        if text is None:
            text = _TAILS[tail] = _rows_text([tail])
        lines.append(f"{prefix},{row.row_number},{text}")
    return "".join(lines)


@dataclass
class Block:
    """One roster's share of every output, as cached."""

    key: str
    snapshot: str
    file: str
    list: str
    rows: int
    ids: list[str]
    history: str
    quality: str
    quality_count: int
    counts: str
    changes: list[dict] = field(default_factory=list)
    check: dict = field(default_factory=dict)  # the roster_checks.csv row
    editorial: list[dict] = field(default_factory=list)  # per-agreement detail of an editorial change

    @property
    def good(self) -> bool:
        return self.check.get("verdict", "good") == "good"


@dataclass
class Pending:
    """A roster found in the archive, before its rows are read."""

    roster: Roster
    book: ArchivedWorkbook
    issues: list[dict]
    key: str = ""


def _chain(previous: str, roster: Roster, vocab: Vocabulary, rules: CheckRules) -> str:
    identity = [code_fingerprint(*DERIVING_MODULES), vocab.fingerprint, rules.fingerprint, previous, roster.snapshot, roster.file, roster.list,
                roster.sha256, roster.fetched.isoformat() if roster.fetched else "",
                roster.roster_date.isoformat() if roster.roster_date else "", roster.roster_date_source,
                roster.part_of_day, roster.sequence]
    return hashlib.sha256(json.dumps(identity).encode()).hexdigest()


class BlockStore:
    """Blocks under `<cache>/blocks/<key>.json`; the id state after the newest block in `state.json`."""

    def __init__(self, cache_dir: Path | None):
        self.dir = cache_dir / "blocks" if cache_dir else None
        self.state_file = cache_dir / "state.json" if cache_dir else None

    TEXTS = ("history", "quality", "counts")  # big CSV texts go to a plain file beside the JSON

    def get(self, key: str) -> Block | None:
        if not self.dir:
            return None
        meta, texts = self.dir / f"{key}.json", self.dir / f"{key}.csv"
        try:
            data = json.loads(meta.read_text(encoding="utf-8"))
            with open(texts, encoding="utf-8", newline="") as handle:  # keep any \r inside a cell
                text = handle.read()
            start = 0
            for name, length in zip(self.TEXTS, data.pop("lengths")):
                data[name] = text[start:start + length]
                start += length
            if start != len(text):
                raise ValueError("block text does not match its lengths")
            return Block(**data)
        except FileNotFoundError:
            return None
        except (OSError, ValueError, TypeError, KeyError) as exc:
            log.warning("ignoring unreadable block %s: %s", meta, exc)
            return None

    def put(self, block: Block) -> None:
        if self.dir:
            data = {k: v for k, v in block.__dict__.items() if k not in self.TEXTS}
            data["lengths"] = [len(getattr(block, name)) for name in self.TEXTS]
            self._write_text(self.dir / f"{block.key}.csv", "".join(getattr(block, n) for n in self.TEXTS))
            self._write(self.dir / f"{block.key}.json", data)  # written last: a block exists once its JSON does

    def state(self, key: str) -> IdState | None:
        """The id state saved after the roster whose key is `key` ("" = before any roster)."""
        if not key:
            return IdState()
        if not self.state_file or not self.state_file.is_file():
            return None
        try:
            data = json.loads(self.state_file.read_text(encoding="utf-8"))
            return IdState.from_json(data["state"]) if data.get("key") == key else None
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.warning("ignoring unreadable id state %s: %s", self.state_file, exc)
            return None

    def put_state(self, key: str, state: IdState) -> None:
        if self.state_file:
            self._write(self.state_file, {"key": key, "state": state.to_json()})

    @classmethod
    def _write(cls, path: Path, payload: dict) -> None:
        cls._write_text(path, json.dumps(payload, ensure_ascii=False, separators=(",", ":")))

    @staticmethod
    def _write_text(path: Path, text: str) -> None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            write_cache_file(path, text)
        except OSError as exc:  # a read-only cache only costs speed
            log.warning("cannot write roster cache %s: %s", path, exc)


def _discover(data_dir: Path) -> tuple[list[Pending], list[dict]]:
    """Archived workbooks as rosters without rows (publication order), and issues of files that
    cannot be rosters."""
    found, orphans = [], []
    latest = None  # the newest fetch time so far in archive order: a clock set back cannot go before it
    for book in sorted(find_workbooks(data_dir), key=lambda b: b.sequence):
        fetched = book.fetched
        issues = []
        if fetched and latest and fetched < latest:
            fetched = latest
        latest = fetched or latest
        when = roster_date(book.file, fetched)
        roster = Roster(book.snapshot, book.file, book.list, book.sha256, fetched, when.value, when.source,
                        when.part_of_day, sequence=book.sequence)
        if fetched != book.fetched:
            issues.append(quality(roster, 0, "fetched_at", book.fetched.isoformat(), fetched.isoformat(),
                                  "fetched_before_an_earlier_archived_file"))
        if when.rule:
            issues.append(quality(roster, 0, "file name", book.file, when.value.isoformat() if when.value else "",
                                  when.rule))
        if not book.list:
            orphans.extend(issues + [quality(roster, 0, "file name", book.file, "", "list_unknown")])
            log.warning("skipping %s: neither participating nor pending", book.path)
            continue
        found.append(Pending(roster, book, issues))
    found.sort(key=lambda p: p.roster.order_key())
    return found, orphans


def _process(item: Pending, parsed: ParsedWorkbook, state: IdState, vocab: Vocabulary, rules: CheckRules) -> Block:
    """Normalise one roster, give its rows ids, check it against its list's last good roster and,
    when it passes, compare it with that roster."""
    roster = item.roster
    issues = list(item.issues)
    for header in parsed.unknown_headers:
        issues.append(quality(roster, 0, "header", header, "", "unknown_header"))
    for row_number, column, length, start in parsed.cut_cells:
        issues.append(quality(roster, row_number, column, f"{start}… ({length:,} characters)",
                              f"first {int(limit('cell_chars')):,} characters", "cell_too_long"))
    issues.extend(build_rows(roster, parsed, vocab))
    issues.extend(quality(roster, row.row_number, "county", row.county, "", UNRESOLVED) for row in roster.rows
                  if row.county and not county_fips(row.state, row.county))
    old_rows = dict(state.last.get(roster.list, {}))
    previous = state.last_roster.get(roster.list)
    matches = assign_roster(roster, state, vocab)
    renamed = sum(m.evidence not in ("moved", "possible") for m in matches.values())
    moved = set(state.last.get("participating", {})) if roster.list == "pending" else set()
    verdict = check_roster(Profile.of(roster, parsed.columns), roster.list, renamed, state.good.get(roster.list), rules,
                           moved)
    changes: list[dict] = []
    editorial: list[dict] = []
    if verdict.good:
        changes = diff_roster(roster, matches, state, vocab, old_rows, previous) if previous else []
        advance(roster, state)
        changes = hold_removals(changes, roster, state, old_rows)
        changes, editorial = group_editorial(changes, int(rules.limit("editorial_min_agreements")))
        state.good[roster.list] = Profile.of(roster, parsed.columns).to_json()
    else:  # kept in the history, believed by nothing: the list's state stays at its last good roster
        state.last[roster.list] = old_rows
        issues.append(quality(roster, 0, "roster", verdict.decided_by, "suspect",
                              f"roster_suspect: {'; '.join(verdict.reasons) or verdict.record['note']}"))
    seen: set[str] = set()
    for row in roster.rows:
        if row.agreement_id in seen:
            issues.append(quality(roster, row.row_number, "agency", row.agency, row.agreement_id,
                                  "duplicate_agreement_row"))
        seen.add(row.agreement_id)
    issues.sort(key=lambda q: (q["row"], q["column"], q["rule"], str(q["raw"])))
    return Block(
        key=item.key, snapshot=roster.snapshot, file=roster.file, list=roster.list, rows=len(roster.rows),
        ids=sorted(seen), history=_history_text(roster),
        quality=_rows_text([q[c] for c in QUALITY_COLUMNS] for q in issues), quality_count=len(issues),
        counts=_rows_text(roster_counts([roster])), changes=changes, check=verdict.record, editorial=editorial,
    )


def build_history(data_dir: Path, out_dir: Path | None = None, cache_dir: Path | None = None,
                  overrides_dir: Path | None = None) -> dict:
    """Bring every roster output up to date with the archive; returns a summary for the daily log."""
    data_dir = Path(data_dir)
    out_dir = Path(out_dir) if out_dir else data_dir / "data"
    cache_dir = Path(cache_dir) if cache_dir else default_roster_cache_dir()
    parse_cache, store = ParseCache(cache_dir, Quarantine(data_dir)), BlockStore(cache_dir)
    overrides_dir = overrides_dir or overrides_for(data_dir)
    vocab = load_vocabulary(overrides_dir)
    rules = load_check_rules(overrides_dir)
    items, orphans = _discover(data_dir)

    blocks: list[Block] = []
    parsed_now: dict[int, ParsedWorkbook] = {}
    key, first_missing = "", None
    for index, item in enumerate(items):
        item.key = _chain(key, item.roster, vocab, rules)
        block = store.get(item.key) if first_missing is None else None
        if block is None:
            try:
                parsed_now[index] = parse_cache.get(item.book.path, item.book.sha256)
            except (WorkbookError, OSError) as exc:
                orphans.extend(item.issues + [quality(item.roster, 0, "", "", "", f"workbook_unreadable: {exc}")])
                log.error("skipping unreadable workbook %s: %s", item.book.path, exc)
                item.key = ""
                continue
            first_missing = len(blocks) if first_missing is None else first_missing
            blocks.append(None)  # type: ignore[arg-type]  # filled below
        else:
            blocks.append(block)
        key = item.key
    readable = [(i, item) for i, item in enumerate(items) if item.key]

    processed = 0
    if first_missing is not None:
        resume_key = readable[first_missing - 1][1].key if first_missing else ""
        state = store.state(resume_key)
        start = first_missing
        if state is None:  # no saved state at that point: process every roster again
            log.info("roster history: full rebuild")
            state, start = IdState(), 0
        for position in range(start, len(readable)):
            index, item = readable[position]
            parsed = parsed_now.get(index) or parse_cache.get(item.book.path, item.book.sha256)
            blocks[position] = _process(item, parsed, state, vocab, rules)
            store.put(blocks[position])
            processed += 1
        store.put_state(readable[-1][1].key, state)

    written = _write_outputs(out_dir, blocks, orphans)
    changes = _settled_changes(blocks)
    summary = {
        "snapshots": len({b.snapshot for b in blocks}),
        "workbooks": len(blocks),
        "rows": sum(b.rows for b in blocks),
        "agreements": len(set().union(*(b.ids for b in blocks))) if blocks else 0,
        "parsed": parse_cache.parsed,
        "cache_hits": parse_cache.hits,
        "rosters_processed": processed,
        "quality_issues": sum(b.quality_count for b in blocks) + len(orphans),
        "suspect_rosters": [f"{b.snapshot}/{b.file}" for b in blocks if not b.good],
        "newest_suspect": [f"{b.snapshot}/{b.file}" for b in {b.list: b for b in blocks}.values() if not b.good],
        "files_changed": written,
        "newest_changes": _newest_changes(blocks, changes),
    }
    log.info("roster history: %s", summary)
    return summary


def _settled_changes(blocks: list[Block]) -> list[list[dict]]:
    out = []
    for index, block in enumerate(blocks):
        following = next((b for b in blocks[index + 1:] if b.list == "participating" and b.good), None)
        records = settle_moves(block.changes, set(following.ids) if following else None)
        out.append([{k: v for k, v in r.items() if k != PENDING_CHECK} for r in records])
    return out


def _write_outputs(out_dir: Path, blocks: list[Block], orphans: list[dict]) -> list[str]:
    """Write every output; returns the names (relative to `out_dir`) written anew or removed."""

    def header(columns) -> str:
        return csv_text(columns, [])

    by_name = sorted(blocks, key=lambda b: (b.snapshot, b.list, b.file))
    good = [b for b in blocks if b.good]
    newest = {b.list: b for b in good}
    quality_parts = [((b.snapshot, b.file), b.quality) for b in blocks]
    orphans.sort(key=lambda q: (q["snapshot"], q["file"], q["row"], q["column"], q["rule"], str(q["raw"])))
    quality_parts += [((q["snapshot"], q["file"]), _rows_text([[q[c] for c in QUALITY_COLUMNS]])) for q in orphans]
    quality_parts.sort(key=lambda part: part[0])
    changes = [r for records in _settled_changes(blocks) for r in records]
    months: dict[str, list[str]] = {}
    for block in by_name:
        months.setdefault(partition(block.snapshot), []).append(block.history)
    texts = {name: header(HISTORY_COLUMNS) + "".join(parts) for name, parts in sorted(months.items())}
    texts |= {
        "roster_current.csv": header(HISTORY_COLUMNS) + "".join(newest[n].history for n in LISTS if n in newest),
        "changes.csv": header(CHANGE_COLUMNS) + _rows_text([r[c] for c in CHANGE_COLUMNS] for r in changes),
        "editorial_changes.csv": header(CHANGE_COLUMNS) + _rows_text(
            [r.get(c, "") for c in CHANGE_COLUMNS] for b in blocks for r in b.editorial),
        "roster_counts.csv": header(COUNT_COLUMNS) + "".join(b.counts for b in good),
        "roster_checks.csv": header(CHECK_COLUMNS) + _rows_text(
            [b.check.get(c, "") for c in CHECK_COLUMNS] for b in blocks),
        "quality.csv": header(QUALITY_COLUMNS) + "".join(text for _, text in quality_parts),
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    written = [name for name, text in texts.items() if atomic_write_text(out_dir / name, text)]
    # months no longer in the archive, and the single file of older versions, are derived: remove
    stale = [p for p in sorted((out_dir / HISTORY_DIR).glob("*.csv")) if f"{HISTORY_DIR}/{p.name}" not in texts]
    stale += [out_dir / LEGACY_FILE] if (out_dir / LEGACY_FILE).is_file() else []
    for path in stale:
        log.info("removing %s (no longer part of the roster history)", path)
        path.unlink()
        written.append(path.relative_to(out_dir).as_posix())
    return written


def _newest_changes(blocks: list[Block], changes: list[list[dict]]) -> dict[str, dict]:
    """Per list: the newest roster and the count of each change kind against the one before it."""
    out = {}
    for name in LISTS:
        mine = [i for i, b in enumerate(blocks) if b.list == name and b.good]
        if not mine:
            continue
        newest = blocks[mine[-1]]
        kinds = Counter(c["change"] for c in changes[mine[-1]])
        out[name] = {"snapshot": newest.snapshot, "file": newest.file, **dict(sorted(kinds.items()))}
    return out
