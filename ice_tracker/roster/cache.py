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
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from ice_tracker.fileio import temp_path_beside
from ice_tracker.sources.ice287g.workbook import read_roster
from ice_tracker.xlsx import WorkbookError

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
    return code_fingerprint(__name__, "ice_tracker.xlsx", "ice_tracker.sources.ice287g.workbook")
COLUMNS = ("state", "agency", "type", "county", "support_type", "signed", "moa", "addendum")
LINK_COLUMNS = ("moa", "addendum")


@dataclass
class ParsedWorkbook:
    """A workbook's data rows: `rows` are (excel row number, cell texts by COLUMNS, links by LINK_COLUMNS)."""

    sha256: str
    columns: list[str]  # which of COLUMNS the header had
    unknown_headers: list[str]
    rows: list[tuple[int, list[str], list[str]]]


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
    table = read_roster(path)
    rows = []
    for row in table.rows:
        texts = [v if type(v) is str else "" if v is None else cell_text(v) for v in map(row.values.get, COLUMNS)]
        links = [row.links.get(name, "") for name in LINK_COLUMNS]
        rows.append((row.row_number, texts, links))
    return ParsedWorkbook(sha256, [c for c in COLUMNS if c in table.columns], table.unknown_headers, rows)


class ParseCache:
    """`get(path, sha256)`: the parsed workbook, from `<cache_dir>/<sha256>.json` or freshly parsed."""

    def __init__(self, cache_dir: Path | None):
        self.cache_dir = cache_dir
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
                                  [(n, texts, links) for n, texts, links in data["rows"]])
        self.parsed += 1
        try:
            parsed = parse_workbook(path, sha256)
        except WorkbookError as exc:
            self._store(cached, {"version": CACHE_VERSION, "code": parser_fingerprint(), "sha256": sha256,
                                 "error": str(exc)})
            raise
        self._store(cached, {"version": CACHE_VERSION, "code": parser_fingerprint(), "sha256": sha256,
                             "columns": parsed.columns,
                             "unknown_headers": parsed.unknown_headers, "rows": parsed.rows})
        return parsed

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
