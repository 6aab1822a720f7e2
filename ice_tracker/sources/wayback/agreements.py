"""Dead agreement links recovered from the Wayback Machine; what exists nowhere listed as such.

A link is dead when ICE answers 404/410 for it (failures.csv says so) or when it was never
fetched and the newest roster no longer links it (an imported or backfilled roster's link). Its
captures are tried newest first; the first that is a real PDF (`scrape.verify_pdf`) is archived
for every agency linking it, `source = wayback`, in `agreements/agreements_<capture stamp>/`.
A link no capture can supply goes to `data/unrecoverable.csv` with what was tried.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlsplit

from tqdm import tqdm

from ice_tracker.archive import Archive, ManifestEntry, utc_iso
from ice_tracker.failures import FailureLog
from ice_tracker.fileio import read_dict_csv, write_dict_csv
from ice_tracker.http import FetchError, FetchResult
from ice_tracker.sources.ice287g.backlog import missing_links, roster_links
from ice_tracker.sources.ice287g.scrape import PDF_KINDS, PdfLink, pdf_relative_path, verify_pdf
from ice_tracker.sources.wayback.client import Capture, CdxError, WaybackClient, capture_time, folder_stamp
from ice_tracker.sources.wayback.rosters import SOURCE
from ice_tracker.sources.wayback.state import BackfillState

log = logging.getLogger(__name__)
GONE = re.compile(r"\bHTTP (404|410)\b")
UNRECOVERABLE_COLUMNS = ["url", "kind", "state", "agency", "live", "wayback", "first_checked_at"]


@dataclass
class RecoverySummary:
    dead_links: int = 0
    recovered: list[str] = field(default_factory=list)
    unrecoverable: int = 0
    lookup_failed: list[dict[str, str]] = field(default_factory=list)  # CDX or network trouble: tried again


def dead_links(archive: Archive, failures: FailureLog) -> dict[str, tuple[list[PdfLink], str]]:
    """url → (the agencies' links to it, why it is considered dead)."""
    dead: dict[str, tuple[list[PdfLink], str]] = {}
    for failure in failures.pending(PDF_KINDS):
        if GONE.search(failure.error):
            link = PdfLink(failure.url, failure.kind, failure.state, failure.agency)
            if archive.holds_url(link.url, link.state, link.agency, PDF_KINDS) is None:
                links, _ = dead.setdefault(link.url, ([], f"live: {failure.error} since {failure.first_failed_at}"))
                links.append(link)
    known = roster_links(archive)
    for link in missing_links(archive, known):
        if link.key not in known.newest:
            links, _ = dead.setdefault(link.url, ([], "live: never fetched, no longer on the newest roster"))
            if link not in links:
                links.append(link)
    return dead


class DeadLinkRecovery:
    def __init__(self, *, wayback: WaybackClient, archive: Archive, failures: FailureLog, unrecoverable: Path,
                 state: BackfillState):
        self.wayback = wayback
        self.state = state
        self.archive = archive
        self.failures = failures
        self.unrecoverable_path = unrecoverable
        self.summary = RecoverySummary()

    def run(self) -> RecoverySummary:
        dead = dead_links(self.archive, self.failures)
        self.summary.dead_links = len(dead)
        previous = {(r["url"], r["kind"], r["state"], r["agency"]): r for r in read_dict_csv(self.unrecoverable_path)}
        now = utc_iso(datetime.now(timezone.utc))
        nowhere: list[dict[str, str]] = []
        for url in tqdm(sorted(dead), desc="dead agreement links", unit="link", disable=None, leave=False):
            links, live = dead[url]
            tried = self._recover(url, links)
            if tried is None:
                continue
            for link in sorted(links, key=lambda l: l.key):
                key = link.key
                nowhere.append({"url": url, "kind": link.kind, "state": link.state, "agency": link.agency,
                                "live": live, "wayback": tried,
                                "first_checked_at": previous.get(key, {}).get("first_checked_at") or now})
        self.summary.unrecoverable = len(nowhere)
        still_unchecked = [row for key, row in previous.items()
                           if key[0] in {f["url"] for f in self.summary.lookup_failed}]
        rows = sorted(nowhere + still_unchecked, key=lambda r: (r["kind"], r["state"], r["agency"], r["url"]))
        if rows or self.unrecoverable_path.exists():
            self.unrecoverable_path.parent.mkdir(parents=True, exist_ok=True)
            write_dict_csv(self.unrecoverable_path, UNRECOVERABLE_COLUMNS, rows)
        self.failures.save()
        return self.summary

    def _recover(self, url: str, links: list[PdfLink]) -> str | None:
        """Archive the newest capture of `url` that is a PDF: None when done (or when the look-up
        itself failed, to be tried again); else what was tried, for unrecoverable.csv."""
        if urlsplit(url).scheme not in ("http", "https"):
            return "not a web address"
        try:
            captures = self.wayback.cdx(url)
        except CdxError as exc:
            self.summary.lookup_failed.append({"url": url, "error": str(exc)})
            return None
        if not captures:
            return "no capture in the Wayback Machine"
        problems, unreachable = [], 0
        for capture in sorted(captures, key=lambda c: c.timestamp, reverse=True):
            known = self.state.outcomes.get(capture.key, "")
            if known.startswith("rejected: "):  # a capture already found not to be a PDF is not fetched again
                problems.append(f"{capture.timestamp}: {known.removeprefix('rejected: ')}")
                continue
            try:
                result, timestamp = self.wayback.fetch(capture)
            except FetchError as exc:
                problems.append(f"{capture.timestamp}: {exc}")
                unreachable += 1
                continue
            try:
                verify_pdf(result)
            except ValueError as exc:
                result.discard()
                problems.append(f"{capture.timestamp}: {exc}")
                self.state.mark(capture.key, f"rejected: {exc}")
                continue
            self._archive(url, links, result, capture, timestamp)
            return None
        if unreachable == len(captures):  # no capture could be read: the network, not the archive
            self.summary.lookup_failed.append({"url": url, "error": "; ".join(problems)})
            return None
        return f"{len(captures)} capture(s), none a PDF: " + "; ".join(problems)

    def _archive(self, url: str, links: list[PdfLink], result: FetchResult, capture: Capture, timestamp: str) -> None:
        stamp = folder_stamp(timestamp)
        archived = None
        try:
            for link in sorted(links, key=lambda l: l.key):
                self.failures.resolve(*link.key)
                if self.archive.holds(result.sha256, link.state, link.agency, PDF_KINDS):
                    continue
                entry = ManifestEntry(path="", kind=link.kind, source_url=url, sha256=result.sha256, bytes=result.size,
                                      fetched_at=utc_iso(capture_time(timestamp)), content_type=result.content_type,
                                      state=link.state, agency=link.agency, source=SOURCE,
                                      capture_timestamp=timestamp,
                                      capture_url=self.wayback.capture_url(timestamp, capture.original))
                relative = pdf_relative_path(link, result, url)
                if archived is None and result.temp_path is not None:
                    archived = self.archive.add_file(result.temp_path, "agreements", relative, entry, stamp)
                    result.temp_path = None
                else:
                    source = self.archive.data_dir / archived.path if archived else result.temp_path
                    assert source is not None
                    self.archive.add_copy(source, "agreements", relative, entry, stamp)
                self.summary.recovered.append(entry.path)
        finally:
            result.discard()
