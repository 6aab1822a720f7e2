"""The agreements the archived rosters link to and the archive does not hold: the backlog.

An imported archive or a Wayback backfill brings rosters whose MOA/ADDENDUM links were never
fetched. Listed in failures.csv (without counting an attempt), the daily job fetches them on its
next run; those the web no longer has are what `backfill --wayback` looks for in captures.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from ice_tracker.archive import Archive
from ice_tracker.config import overrides_for
from ice_tracker.failures import FailureLog
from ice_tracker.sandbox import SandboxFailure, run_limited
from ice_tracker.sources.ice287g.html_table import read_archived_roster
from ice_tracker.sources.ice287g.scrape import PDF_KINDS, WORKBOOK_KINDS, PdfLink, pdf_links
from ice_tracker.xlsx import WorkbookError

log = logging.getLogger(__name__)
NEVER_FETCHED = "never fetched: linked by an archived roster, not in the archive"


@dataclass
class RosterLinks:
    links: dict[tuple[str, str, str, str], PdfLink] = field(default_factory=dict)  # every roster's
    newest: set[tuple[str, str, str, str]] = field(default_factory=set)  # the newest roster of each list's


def roster_links(archive: Archive) -> RosterLinks:
    """Agreement links of every archived roster (each distinct file read once)."""
    found = RosterLinks()
    seen: set[str] = set()
    newest = {}
    for entry in sorted(archive.entries, key=lambda e: (e.fetched_at, e.path)):
        if entry.kind in WORKBOOK_KINDS:
            newest[entry.kind] = entry
    newest_paths = {e.path for e in newest.values()}
    overrides = overrides_for(archive.data_dir)
    for entry in archive.entries:
        if entry.kind not in WORKBOOK_KINDS or (entry.sha256 in seen and entry.path not in newest_paths):
            continue
        seen.add(entry.sha256)
        try:
            table = run_limited("parse", read_archived_roster, archive.data_dir / entry.path)
        except (OSError, WorkbookError, SandboxFailure) as exc:
            log.warning("cannot read archived roster %s: %s", entry.path, exc)
            continue
        for link in pdf_links(table, overrides):
            found.links.setdefault(link.key, link)
            if entry.path in newest_paths:
                found.newest.add(link.key)
    return found


def missing_links(archive: Archive, links: RosterLinks | None = None) -> list[PdfLink]:
    """Links of archived rosters whose agreement this agency does not hold, sorted."""
    links = links or roster_links(archive)
    return [link for key, link in sorted(links.links.items())
            if archive.holds_url(link.url, link.state, link.agency, PDF_KINDS) is None]


def note_backlog(archive: Archive, failures: FailureLog, when: str, links: RosterLinks | None = None) -> int:
    """List every missing agreement in failures.csv once; returns how many rows were added."""
    added = sum(failures.note_missing(link.url, link.kind, NEVER_FETCHED, when, link.state, link.agency)
                for link in missing_links(archive, links))
    failures.save()
    return added
