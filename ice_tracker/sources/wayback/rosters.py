"""Roster history from Wayback Machine captures: the 287(g) page and every roster URL it used.

URL forms looked up (DOMAIN.md §1): the page itself; everything under the doclib folder the
workbooks lived in (Feb 2025 – Mar 2026, whatever the name's drift); and every workbook link the
captured pages show, above all the `/file-download/download/public/<id>` links (from Apr 2026),
however the href was written. Each distinct capture (by digest) is downloaded once in its `id_`
form, verified as any roster is (`scrape.verify_workbook`: a captured error page is never kept),
and archived only when its sha256 is new, in `sheets/sheets_<capture stamp>/`, so it enters the
history at its capture time. A page holding the roster as an HTML table (before Feb 2025) gives
that table (see `ice287g.html_table`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from tqdm import tqdm

from ice_tracker.archive import Archive, ManifestEntry, utc_iso
from ice_tracker.fileio import sha256_bytes, temp_path_beside
from ice_tracker.http import FetchError
from ice_tracker.sources.ice287g import PAGE_URL
from ice_tracker.sources.ice287g.html_table import TABLE_FILE_SUFFIX, roster_tables
from ice_tracker.sources.ice287g.page import XLSX, Candidate, find_candidates
from ice_tracker.sources.ice287g.scrape import WORKBOOK_KINDS, verify_workbook, workbook_file_name, workbook_list
from ice_tracker.sources.wayback.client import Capture, WaybackClient, capture_time, distinct_captures, folder_stamp
from ice_tracker.sources.wayback.state import BackfillState
from ice_tracker.sandbox import SandboxFailure
from ice_tracker.xlsx import WorkbookError

log = logging.getLogger(__name__)
SOURCE = "wayback"
DOCLIB_FOLDER = "/doclib/about/offices/ero/287g/"


@dataclass
class RosterBackfillSummary:
    page_captures: int = 0
    workbook_captures: int = 0
    already_done: int = 0  # captures a previous backfill finished (state file)
    already_held: int = 0
    new_workbooks: list[str] = field(default_factory=list)
    new_tables: list[str] = field(default_factory=list)
    rejected: list[dict[str, str]] = field(default_factory=list)  # captures that are not rosters
    failed: list[dict[str, str]] = field(default_factory=list)  # captures that could not be read (retried)


def page_base(original: str) -> str:
    """A capture's original URL as a base for its hrefs, without the default port older CDX rows
    carry (`http://www.ice.gov:80/…`), so the links it yields read as ICE's own."""
    parts = urlsplit(original)
    if parts.port in (80, 443) and parts.hostname:
        return urlunsplit((parts.scheme, parts.hostname, parts.path, parts.query, ""))
    return original


def _url_without_scheme(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.hostname or ''}{parts.path}"


def _under_doclib(url: str) -> bool:
    return urlsplit(url).path.startswith(DOCLIB_FOLDER)


class RosterBackfill:
    def __init__(self, *, wayback: WaybackClient, archive: Archive, state: BackfillState,
                 since: date | None = None, until: date | None = None, page_url: str = PAGE_URL):
        self.wayback = wayback
        self.archive = archive
        self.state = state
        self.since = since
        self.until = until
        self.page_url = page_url
        self.summary = RosterBackfillSummary()
        self.link_texts: dict[str, str] = {}  # workbook URL → the link text a page gave it

    def run(self) -> RosterBackfillSummary:
        """Raises CdxError when the page's captures cannot be listed (nothing done)."""
        pages = self.wayback.cdx(_url_without_scheme(self.page_url), since=self.since, until=self.until)
        self.summary.page_captures = len(pages)
        for capture in tqdm(pages, desc="287(g) page captures", unit="capture", disable=None, leave=False):
            self._page(capture)
        host = urlsplit(self.page_url).hostname or "www.ice.gov"
        workbooks = [c for c in self.wayback.cdx(host + DOCLIB_FOLDER, prefix=True, since=self.since, until=self.until)
                     if XLSX.search(c.original)]
        for url in sorted(u for u in self.link_texts if not _under_doclib(u)):
            workbooks += self.wayback.cdx(_url_without_scheme(url), since=self.since, until=self.until)
        workbooks = distinct_captures(workbooks)
        self.summary.workbook_captures = len(workbooks)
        for capture in tqdm(workbooks, desc="roster captures", unit="capture", disable=None, leave=False):
            self._workbook(capture)
        return self.summary

    # ----- pages ----------------------------------------------------------------------------
    def _page(self, capture: Capture) -> None:
        if self.state.done(capture.key, self._held):
            self.summary.already_done += 1
            self.link_texts.update({url: text for url, text in self.state.page_links.get(capture.key, [])})
            return
        try:
            html, timestamp = self.wayback.fetch_text(capture)
        except FetchError as exc:
            return self._failed(capture, str(exc))
        links = [[c.url, c.text] for c in find_candidates(html, page_base(capture.original)) if c.strong]
        self.state.page_links[capture.key] = links
        self.link_texts.update({url: text for url, text in links})
        shas = [self._table(capture, timestamp, kind, table) for kind, table in roster_tables(html)]
        self.state.mark(capture.key, f"held: {' '.join(shas)}" if shas else "none")
        return None

    def _held(self, sha256: str) -> bool:
        return self.archive.has_sha(sha256, WORKBOOK_KINDS)

    def _table(self, capture: Capture, timestamp: str, kind: str, table: bytes) -> str:
        """Archive a page's roster table unless held; returns its sha256."""
        sha = sha256_bytes(table)
        if self.archive.has_sha(sha, WORKBOOK_KINDS):
            self.summary.already_held += 1
            return sha
        self.archive.temp_dir.mkdir(parents=True, exist_ok=True)
        temp = temp_path_beside(self.archive.temp_dir / "table.html")
        temp.write_bytes(table)
        entry = self.archive.add_file(temp, "sheets", Path(kind + TABLE_FILE_SUFFIX),
                                      self._entry(capture, timestamp, kind, sha, len(table), "text/html"),
                                      folder_stamp(timestamp))
        self.summary.new_tables.append(entry.path)
        return sha

    # ----- workbooks ------------------------------------------------------------------------
    def _workbook(self, capture: Capture) -> None:
        if self.state.done(capture.key, self._held):
            self.summary.already_done += 1
            return None
        try:
            result, timestamp = self.wayback.fetch(capture)
        except FetchError as exc:
            return self._failed(capture, str(exc))
        try:
            table = verify_workbook(result)
        except (WorkbookError, SandboxFailure) as exc:
            result.discard()
            log.info("not a roster (never archived): %s: %s", self.wayback.capture_url(timestamp, capture.original), exc)
            self.summary.rejected.append({"capture": self.wayback.capture_url(timestamp, capture.original),
                                          "error": str(exc)})
            self.state.mark(capture.key, f"rejected: {exc}")
            return None
        if self.archive.has_sha(result.sha256, WORKBOOK_KINDS):
            result.discard()
            self.summary.already_held += 1
            self.state.mark(capture.key, f"held: {result.sha256}")
            return None
        candidate = Candidate(url=capture.original, text=self.link_texts.get(capture.original, ""), strong=True)
        published = result.filename if result.filename.lower().endswith((".xlsx", ".xls")) else ""
        result.filename = published
        kind = workbook_list(result, candidate, table)
        assert result.temp_path is not None
        entry = self.archive.add_file(
            result.temp_path, "sheets", Path(workbook_file_name(published, kind)),
            self._entry(capture, timestamp, kind, result.sha256, result.size, result.content_type),
            folder_stamp(timestamp))
        result.temp_path = None
        self.summary.new_workbooks.append(entry.path)
        self.state.mark(capture.key, f"archived: {result.sha256}")
        return None

    # ----- shared ---------------------------------------------------------------------------
    def _entry(self, capture: Capture, timestamp: str, kind: str, sha: str, size: int,
               content_type: str) -> ManifestEntry:
        return ManifestEntry(path="", kind=kind, source_url=capture.original, sha256=sha, bytes=size,
                             fetched_at=utc_iso(capture_time(timestamp)), content_type=content_type, source=SOURCE,
                             capture_timestamp=timestamp,
                             capture_url=self.wayback.capture_url(timestamp, capture.original))

    def _failed(self, capture: Capture, error: str) -> None:
        log.warning("capture not read (tried again next time): %s: %s", capture.key, error)
        self.summary.failed.append({"capture": self.wayback.capture_url(capture.timestamp, capture.original),
                                    "error": error})
        self.state.mark(capture.key, f"failed: {error}")
