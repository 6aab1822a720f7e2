"""Build the roster history outputs from every archived workbook (the step the daily job calls).

Reads `<data_dir>/sheets/*/*.xlsx` and writes, under `<out_dir>` (default `<data_dir>/data`):
roster_history/{snapshots,versions,positions}.csv and quality.csv (the history as validity
intervals, see history_files.py and intervals.py), changes.csv, editorial_changes.csv and
roster_checks.csv. Every roster is kept in the history; one that fails the publication check
(checks.py) is marked suspect in roster_checks.csv, snapshots.csv (`verdict`) and quality.csv, and
left out of the current roster, the counts and the changes (see history_files.read_current/read_counts).

Incremental by construction. Rosters are processed in publication order; each roster's share of
every output (a "block") is cached under a key chained from all earlier rosters, the workbook
bytes, the rule files and the source of the deriving code, together with the id state after the newest roster.
A daily run with one new workbook parses and processes only that workbook and re-assembles the
outputs from cached blocks; anything else (a workbook inserted into the past, a changed rule
file) falls back to processing every roster, which gives the same bytes. A workbook that cannot be
read is listed in quality.csv and skipped; it never stops the run and is never touched.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
from collections import Counter
from dataclasses import dataclass, field
from operator import attrgetter
from pathlib import Path

from ice_tracker.config import overrides_for
from ice_tracker.fileio import atomic_write_text, csv_lines, csv_text, restore_cell
from ice_tracker.limits import limit
from ice_tracker.quarantine import Quarantine
from ice_tracker.roster.archive import ArchivedWorkbook, find_workbooks
from ice_tracker.roster.cache import ParseAhead, ParseCache, ParsedWorkbook, code_fingerprint, write_cache_file
from ice_tracker.roster.changes import (CHANGE_COLUMNS, PENDING_CHECK, diff_roster, group_editorial, hold_removals,
                                        settle_moves)
from ice_tracker.roster.checks import (CHECK_COLUMNS, GOOD, SUSPECT, CheckRules, Profile, check_roster,
                                       load_check_rules)
from ice_tracker.roster.filenames import roster_date
from ice_tracker.roster.fips import UNRESOLVED, county_fips
from ice_tracker.roster.history_files import TABLES, default_roster_cache_dir, write_tables
from ice_tracker.roster.intervals import Encoder, RosterRows, roster_ids
from ice_tracker.roster.ids import IdState, advance, assign_roster
from ice_tracker.roster.model import HISTORY_COLUMNS, LISTS, QUALITY_COLUMNS, Roster, quality
from ice_tracker.roster.rows import build_rows
from ice_tracker.roster.vocab import Vocabulary, load_vocabulary
from ice_tracker.sources.ice287g.html_table import source_format
from ice_tracker.xlsx import WorkbookError

log = logging.getLogger(__name__)
OUTPUT_FILES = (*TABLES, "changes.csv", "editorial_changes.csv", "roster_checks.csv")
DERIVING_MODULES = tuple(f"ice_tracker.roster.{name}" for name in (
    "archive", "cache", "changes", "checks", "counts", "filenames", "fips", "history", "ids", "intervals", "model",
    "normalise", "ranks", "rows", "vocab",
)) + ("ice_tracker.urls", "ice_tracker.xlsx", "ice_tracker.xlsx_guard", "ice_tracker.limits",
      "ice_tracker.sources.ice287g.workbook", "ice_tracker.sources.ice287g.html_table")


def output_names(out_dir: Path) -> list[str]:
    """Every output file present under `out_dir` (relative names)."""
    return [name for name in OUTPUT_FILES if (Path(out_dir) / name).is_file()]


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
    roster_date: str = ""
    roster_date_source: str = ""
    changes: list[dict] = field(default_factory=list)
    lengths: list[int] = field(default_factory=list)  # of the texts, while they are still on disk
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
        self.encoder_file = cache_dir / "intervals.json" if cache_dir else None

    def encoder(self, keys: list[str], ids: list[str]) -> tuple[Encoder, int]:
        """The interval encoder saved after the longest prefix of these rosters, and its length."""
        try:
            data = json.loads(self.encoder_file.read_text(encoding="utf-8")) if self.encoder_file else None
            if data and data["keys"] == keys[:len(data["keys"])] and data["ids"] == ids[:len(data["keys"])]:
                return Encoder.from_json(data["state"]), len(data["keys"])
        except FileNotFoundError:
            pass
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.warning("ignoring unreadable interval state %s: %s", self.encoder_file, exc)
        return Encoder(), 0

    def put_encoder(self, keys: list[str], ids: list[str], encoder: Encoder) -> None:
        if self.encoder_file:
            self._write(self.encoder_file, {"keys": keys, "ids": ids, "state": encoder.to_json()})

    TEXTS = ("history", "quality")  # big CSV texts go to a plain file beside the JSON

    def get(self, key: str) -> Block | None:
        """A block without its texts (read by `load_texts` when needed: a daily run needs only the new ones)."""
        if not self.dir:
            return None
        meta, texts = self.dir / f"{key}.json", self.dir / f"{key}.csv"
        try:
            data = json.loads(meta.read_text(encoding="utf-8"))
            if not texts.is_file():
                return None
            return Block(**{**data, "history": "", "quality": ""})
        except FileNotFoundError:
            return None
        except (OSError, ValueError, TypeError, KeyError) as exc:
            log.warning("ignoring unreadable block %s: %s", meta, exc)
            return None

    def load_texts(self, block: Block) -> Block:
        """Fill in a block's texts; a damaged block is removed (the next run rebuilds it) and reported."""
        if not block.lengths:
            return block
        path = self.dir / f"{block.key}.csv"
        try:
            with open(path, encoding="utf-8", newline="") as handle:  # keep any \r inside a cell
                text = handle.read()
            if sum(block.lengths) != len(text):
                raise ValueError(f"block text {path} does not match its lengths")
        except (OSError, ValueError):
            (self.dir / f"{block.key}.json").unlink(missing_ok=True)
            raise
        start = 0
        for name, length in zip(self.TEXTS, block.lengths):
            setattr(block, name, text[start:start + length])
            start += length
        block.lengths = []
        return block

    def put(self, block: Block) -> None:
        if self.dir:
            data = {k: v for k, v in block.__dict__.items() if k not in (*self.TEXTS, "lengths")}
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
        roster_date=roster.roster_date.isoformat() if roster.roster_date else "",
        roster_date_source=roster.roster_date_source, changes=changes, check=verdict.record, editorial=editorial,
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
    readable: list[tuple[int, Pending]] = []
    key, state, processed = "", None, 0
    with ParseAhead(parse_cache, [(item.book.path, item.book.sha256) for item in items]) as ahead:
        for index, item in enumerate(items):
            item.key = _chain(key, item.roster, vocab, rules)
            block = store.get(item.key) if state is None else None
            if block is not None:
                blocks.append(block)
                readable.append((index, item))
                key = item.key
                continue
            try:
                parsed = ahead.get(index)
            except (WorkbookError, OSError) as exc:
                orphans.extend(item.issues + [quality(item.roster, 0, "", "", "", f"workbook_unreadable: {exc}")])
                log.error("skipping unreadable workbook %s: %s", item.book.path, exc)
                item.key = ""
                continue
            if state is None:  # the first roster without a stored block: resume from the state before it
                state = store.state(key)
                if state is None:  # no saved state at that point: process every roster again
                    log.info("roster history: full rebuild")
                    state = IdState()
                    for position, (earlier_index, earlier) in enumerate(readable):
                        blocks[position] = _process(earlier, ahead.get(earlier_index), state, vocab, rules)
                        store.put(blocks[position])
                        processed += 1
            blocks.append(_process(item, parsed, state, vocab, rules))
            store.put(blocks[-1])
            readable.append((index, item))
            processed += 1
            key = item.key
    if state is not None:
        store.put_state(key, state)

    written = _write_outputs(out_dir, blocks, orphans, store)
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


def _rows_of(text: str) -> list[list[str]]:
    """A block text's rows, as the values written (csv_lines neutralises formula-like cells)."""
    return [[restore_cell(value) for value in row] for row in csv.reader(io.StringIO(text, newline=""))]


def _write_outputs(out_dir: Path, blocks: list[Block], orphans: list[dict], store: BlockStore) -> list[str]:
    """Write every output; returns the names (relative to `out_dir`) written anew or removed. The
    interval encoder resumes from its state after the rosters it has already seen. Every output
    changes only with a new roster's news: the interval files by the lines that changed, the
    changes by the changes, roster_checks.csv by one line per new roster."""
    start = HISTORY_COLUMNS.index("row_number")
    keys = [b.key for b in blocks]
    ids = roster_ids((b.snapshot, b.file, b.roster_date, b.roster_date_source, b.list) for b in blocks)
    encoder, done = store.encoder(keys, ids)
    for block, rid in zip(blocks[done:], ids[done:]):
        store.load_texts(block)
        quality_rows = [q[2:] for q in _rows_of(block.quality)]
        encoder.add(RosterRows(block.snapshot, block.file, block.roster_date, block.roster_date_source, block.list,
                               [row[start:] for row in _rows_of(block.history)], quality_rows,
                               source_format(block.file), GOOD if block.good else SUSPECT), rid)
    if done < len(blocks):
        store.put_encoder(keys, ids, encoder)
    orphan_rows = [[str(q[c]) for c in QUALITY_COLUMNS] for q in orphans]
    out_dir.mkdir(parents=True, exist_ok=True)
    written = write_tables(out_dir, encoder.tables(orphan_rows))
    changes = [r for records in _settled_changes(blocks) for r in records]
    texts = {
        "changes.csv": csv_text(CHANGE_COLUMNS, []) + _rows_text([r[c] for c in CHANGE_COLUMNS] for r in changes),
        "editorial_changes.csv": csv_text(CHANGE_COLUMNS, []) + _rows_text(
            [r.get(c, "") for c in CHANGE_COLUMNS] for b in blocks for r in b.editorial),
        "roster_checks.csv": csv_text(CHECK_COLUMNS, []) + _rows_text(
            [b.check.get(c, "") for c in CHECK_COLUMNS] for b in blocks),
    }
    written += [name for name, text in texts.items() if atomic_write_text(out_dir / name, text)]
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
