"""Per-workbook parse cache keyed by sha256, so a daily run parses only workbooks it has not seen.

The cache holds what `read_roster` found, with every cell rendered as text (dates as ISO), so it
is plain JSON and independent of the normalisation rules (changing a rule never needs a re-parse).
Delete the folder at any time; it is rebuilt from the archive.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import os
from functools import lru_cache
from dataclasses import dataclass, field
from datetime import date, datetime, time, timezone
from pathlib import Path
from typing import Any

from ice_tracker.archive import utc_iso
from ice_tracker.fileio import temp_path_beside
from ice_tracker.quarantine import Quarantine, rules_version
from ice_tracker.sandbox import SandboxFailure, run_limited
from ice_tracker.sources.ice287g.html_table import read_archived_roster
from ice_tracker.xlsx import WorkbookError
from ice_tracker.xlsx_guard import WorkbookTooLarge

log = logging.getLogger(__name__)
CACHE_VERSION = 1


@lru_cache(maxsize=None)
def code_fingerprint(*modules: str) -> str:
    """A digest of the given modules' source: cached results made by other code are not reused."""
    digest = hashlib.sha256()
    for name in modules:
        spec = importlib.util.find_spec(name)
        if spec and spec.origin and Path(spec.origin).is_file():
            digest.update(Path(spec.origin).read_bytes())
    return digest.hexdigest()[:16]


def parser_fingerprint() -> str:
    """The parsing code and the limits it runs under: a change to either re-parses (and gives a
    quarantined workbook one more try)."""
    return rules_version(code_fingerprint(__name__, "ice_tracker.xlsx", "ice_tracker.xlsx_guard",
                                          "ice_tracker.sources.ice287g.workbook",
                                          "ice_tracker.sources.ice287g.html_table"))
COLUMNS = ("state", "agency", "type", "county", "support_type", "signed", "moa", "addendum")
LINK_COLUMNS = ("moa", "addendum")


@dataclass
class ParsedWorkbook:
    """A workbook's data rows: `rows` are (excel row number, cell texts by COLUMNS, links by LINK_COLUMNS)."""

    sha256: str
    columns: list[str]  # which of COLUMNS the header had
    unknown_headers: list[str]
    rows: list[tuple[int, list[str], list[str]]]
    cut_cells: list[tuple[int, str, int, str]] = field(default_factory=list)  # values cut to the cell_chars limit


def cell_text(value: Any) -> str:
    """A cell as text: dates ISO, whole floats without '.0', None empty; strings untouched."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def parse_workbook(path: Path, sha256: str) -> ParsedWorkbook:
    """What the sandboxed worker runs: the size guard, the parse, every cell as text."""
    table = read_archived_roster(path)  # a workbook (size-guarded) or a page's table
    rows = []
    for row in table.rows:
        texts = [v if type(v) is str else "" if v is None else cell_text(v) for v in map(row.values.get, COLUMNS)]
        links = [row.links.get(name, "") for name in LINK_COLUMNS]
        rows.append((row.row_number, texts, links))
    return ParsedWorkbook(sha256, [c for c in COLUMNS if c in table.columns], table.unknown_headers, rows,
                          [tuple(c) for c in table.cut_cells])  # type: ignore[misc]



class ParseCache:
    """`get(path, sha256)`: the parsed workbook, from `<cache_dir>/<sha256>.json` or freshly parsed."""

    def __init__(self, cache_dir: Path | None, quarantine: Quarantine | None = None):
        self.cache_dir = cache_dir
        self.quarantine = quarantine
        self.parsed = 0  # workbooks actually parsed in this run
        self.hits = 0

    def _file(self, sha256: str) -> Path | None:
        return self.cache_dir / f"{sha256}.json" if self.cache_dir else None

    def get(self, path: Path, sha256: str) -> ParsedWorkbook:
        """Raises WorkbookError for a file that is not a roster workbook (remembered too, so a bad
        file is not re-read every day)."""
        cached = self._file(sha256)
        data = self._load(cached, sha256)
        if data is not None:
            self.hits += 1
            if "error" in data:
                raise WorkbookError(data["error"])
            return ParsedWorkbook(sha256, data["columns"], data["unknown_headers"],
                                  [(n, texts, links) for n, texts, links in data["rows"]],
                                  [tuple(c) for c in data.get("cut_cells", [])])  # type: ignore[misc]
        held = self.quarantine.holds(sha256, parser_fingerprint()) if self.quarantine else None
        if held is not None:
            raise WorkbookError(f"quarantined: {held.reason}")
        self.parsed += 1
        try:
            parsed = run_limited("parse", parse_workbook, path, sha256)
        except (WorkbookTooLarge, SandboxFailure) as exc:
            if self.quarantine:
                self.quarantine.add(sha256, parser_fingerprint(), "roster workbook", self._relative(path), str(exc),
                                    utc_iso(datetime.now(timezone.utc)))
            raise WorkbookError(str(exc)) from exc
        except WorkbookError as exc:
            self._store(cached, {"version": CACHE_VERSION, "code": parser_fingerprint(), "sha256": sha256,
                                 "error": str(exc)})
            raise
        self._store(cached, {"version": CACHE_VERSION, "code": parser_fingerprint(), "sha256": sha256,
                             "columns": parsed.columns, "unknown_headers": parsed.unknown_headers,
                             "rows": parsed.rows, "cut_cells": parsed.cut_cells})
        return parsed

    def _relative(self, path: Path) -> str:
        if self.quarantine and Path(path).is_relative_to(self.quarantine.data_dir):
            return Path(path).relative_to(self.quarantine.data_dir).as_posix()
        return str(path)

    @staticmethod
    def _load(cached: Path | None, sha256: str) -> dict | None:
        if not cached or not cached.is_file():
            return None
        try:
            data = json.loads(cached.read_text(encoding="utf-8"))
            if (data.get("version"), data.get("code"), data.get("sha256")) == (CACHE_VERSION, parser_fingerprint(), sha256):
                if "error" in data or all(k in data for k in ("columns", "unknown_headers", "rows")):
                    return data
        except (OSError, ValueError) as exc:
            log.warning("ignoring unreadable parse cache %s: %s", cached, exc)
        return None

    def _store(self, cached: Path | None, payload: dict) -> None:
        if cached:
            try:
                write_cache_file(cached, json.dumps(payload, ensure_ascii=False, separators=(",", ":")))
            except OSError as exc:  # a read-only cache only costs speed
                log.warning("cannot write parse cache %s: %s", cached, exc)


def write_cache_file(path: Path, text: str) -> None:
    """Temp file + rename (never a half-written entry), without fsync: the cache is disposable and
    64 fsyncs cost more than parsing the workbooks."""
    tmp = temp_path_beside(path)
    try:
        with open(tmp, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


class ParseAhead:
    """Workbooks parsed a few ahead of their use, on one background thread, so the sandboxed worker
    parses roster N+1 while this process derives roster N (two cores: a full rebuild takes about the
    longer of the two, not their sum). One thread only: the shared worker serves one call at a time.
    Use as a context manager; leaving waits for the parse in flight and drops the rest."""

    def __init__(self, cache: ParseCache, order: list[tuple[Path, str]], window: int = 3):
        from concurrent.futures import ThreadPoolExecutor

        self.cache, self.order, self.window = cache, order, window
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="parse-ahead")
        self.futures: dict[int, Any] = {}
        self.next = 0

    def __enter__(self) -> ParseAhead:
        return self

    def __exit__(self, *exc: object) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)

    def get(self, index: int) -> ParsedWorkbook:
        """The parse of `order[index]` (raises as ParseCache.get does); queues the next few."""
        self.next = max(self.next, index)
        while self.next < len(self.order) and self.next <= index + self.window:
            if self.next not in self.futures:
                self.futures[self.next] = self.pool.submit(self.cache.get, *self.order[self.next])
            self.next += 1
        future = self.futures.pop(index, None) or self.pool.submit(self.cache.get, *self.order[index])
        return future.result()
