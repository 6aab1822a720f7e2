"""Import an existing archive laid out as the original tracker's: history from before day one.

`sheets/sheets_<stamp>/*.xlsx` and `agreements/agreements_<stamp>/<STATE>/<Agency>/*.pdf` are
verified exactly as downloaded files are (`scrape.verify_workbook`, `scrape.verify_pdf`), copied
into the same folders (the original stamps are the fetch times), and recorded with
`source = import` and the origin given. Bytes already held are skipped (roster identity is the
sha256; an agreement's is sha256 × agency), so importing twice changes nothing. The agreements the
imported rosters link to but the archive lacks are then listed in failures.csv for the next run.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import quote, unquote

from ice_tracker.archive import Archive, ManifestEntry, utc_iso
from ice_tracker.failures import FailureLog
from ice_tracker.fileio import sha256_file
from ice_tracker.http import FetchResult
from ice_tracker.roster.filenames import snapshot_time
from ice_tracker.safepath import safe_component
from ice_tracker.sources.ice287g.backlog import RosterLinks, note_backlog, roster_links
from ice_tracker.sources.ice287g.page import list_from_name
from ice_tracker.sources.ice287g.scrape import PDF_KINDS, WORKBOOK_KINDS, PdfLink, verify_pdf, verify_workbook
from ice_tracker.sandbox import SandboxFailure
from ice_tracker.xlsx import WorkbookError

log = logging.getLogger(__name__)
SOURCE = "import"
GITHUB_ORIGIN = re.compile(r"^([\w.-]+/[\w.-]+)@([0-9a-f]{7,40})$")
CONTENT_TYPES = {".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ".pdf": "application/pdf"}


class ImportFailed(Exception):
    """Nothing importable at the path (no original-tracker layout there)."""


@dataclass
class ImportSummary:
    origin: str
    workbooks_seen: int = 0
    pdfs_seen: int = 0
    new_workbooks: list[str] = field(default_factory=list)
    new_pdfs: list[str] = field(default_factory=list)
    already_held: int = 0
    rejected: list[dict[str, str]] = field(default_factory=list)
    backlog_added: int = 0
    backlog_outstanding: int = 0


def local_result(path: Path) -> FetchResult:
    """A file on disk in the shape of a download, so it is verified by the very code downloads are."""
    with open(path, "rb") as handle:
        head = handle.read(2048)
    return FetchResult(url=path.as_uri(), final_url=path.as_uri(), status=200, temp_path=path,
                       size=path.stat().st_size, content_type=CONTENT_TYPES.get(path.suffix.lower(), ""),
                       filename=path.name, head=head)


def origin_url(origin: str, relative: str) -> str:
    """Where a file can be read in its origin: the raw GitHub URL for `owner/repo@commit`, else ''."""
    match = GITHUB_ORIGIN.match(origin.strip())
    if not match:
        return ""
    return f"https://raw.githubusercontent.com/{match.group(1)}/{match.group(2)}/{quote(relative)}"


def stamp_of(folder: str, area: str) -> str | None:
    """`sheets_20250519_024922` → `20250519_024922` (None when the folder is not a stamped one)."""
    if not folder.startswith(f"{area}_") or snapshot_time(folder) is None:
        return None
    return folder[len(area) + 1:]


def _link_index(links: RosterLinks) -> dict[tuple[str, str, str], PdfLink]:
    """(state folder, agency folder, file name) → the roster link that names that file."""
    index: dict[tuple[str, str, str], PdfLink] = {}
    for link in links.links.values():
        state = safe_component(link.state or "UNKNOWN_STATE", underscores=True)
        agency = safe_component(link.agency or "Unknown agency", underscores=True)
        raw = link.url.rstrip("/").rsplit("/", 1)[-1]
        for name in {raw, unquote(raw), safe_component(raw), safe_component(unquote(raw))}:
            index.setdefault((state, agency, name), link)
    return index


class ArchiveImport:
    def __init__(self, source: Path, archive: Archive, failures: FailureLog, origin: str):
        self.source = Path(source).resolve()  # file URIs need an absolute path
        self.archive = archive
        self.failures = failures
        self.origin = origin
        self.summary = ImportSummary(origin=origin)

    def run(self) -> ImportSummary:
        sheets = sorted(self.source.glob("sheets/sheets_*/*.xlsx"))
        pdfs = sorted(self.source.glob("agreements/agreements_*/*/*/*.pdf"))
        if not sheets and not pdfs:
            raise ImportFailed(f"{self.source}: no sheets/sheets_<stamp>/*.xlsx or "
                               "agreements/agreements_<stamp>/<STATE>/<Agency>/*.pdf to import")
        for path in sheets:
            self._workbook(path)
        links = roster_links(self.archive)
        by_file = _link_index(links)
        for path in pdfs:
            self._pdf(path, by_file)
        now = utc_iso(datetime.now(timezone.utc))
        self.summary.backlog_added = note_backlog(self.archive, self.failures, now, links)
        self.summary.backlog_outstanding = len(self.failures.pending(PDF_KINDS))
        return self.summary

    def _entry(self, path: Path, kind: str, stamp: str, sha: str, **extra: str) -> ManifestEntry:
        relative = path.relative_to(self.source).as_posix()
        moment = snapshot_time(stamp)
        return ManifestEntry(path="", kind=kind, source_url=extra.pop("source_url", "") or origin_url(self.origin, relative),
                             sha256=sha, bytes=path.stat().st_size, fetched_at=utc_iso(moment) if moment else "",
                             content_type=CONTENT_TYPES.get(path.suffix.lower(), ""), source=SOURCE,
                             origin=self.origin, **extra)

    def _reject(self, path: Path, reason: str) -> None:
        relative = path.relative_to(self.source).as_posix()
        log.warning("not imported: %s: %s", relative, reason)
        self.summary.rejected.append({"path": relative, "error": reason})

    def _workbook(self, path: Path) -> None:
        self.summary.workbooks_seen += 1
        stamp = stamp_of(path.parent.name, "sheets")
        if stamp is None:
            return self._reject(path, "folder is not sheets_YYYYMMDD_HHMMSS")
        try:
            table = verify_workbook(local_result(path))
        except (OSError, WorkbookError, SandboxFailure) as exc:
            return self._reject(path, str(exc))
        sha = sha256_file(path)
        if self.archive.has_sha(sha, WORKBOOK_KINDS):
            self.summary.already_held += 1
            return None
        kind = list_from_name(path.name) or ("participating" if "moa" in table.columns else "pending")
        entry = self.archive.add_copy(path, "sheets", Path(safe_component(path.name)),
                                      self._entry(path, kind, stamp, sha), stamp)
        self.summary.new_workbooks.append(entry.path)
        return None

    def _pdf(self, path: Path, links: dict[tuple[str, str, str], PdfLink]) -> None:
        self.summary.pdfs_seen += 1
        agency_dir, state_dir = path.parent, path.parent.parent
        stamp = stamp_of(state_dir.parent.name, "agreements")
        if stamp is None:
            return self._reject(path, "folder is not agreements_YYYYMMDD_HHMMSS")
        try:
            verify_pdf(local_result(path))
        except (OSError, ValueError) as exc:
            return self._reject(path, str(exc))
        link = links.get((state_dir.name, agency_dir.name, path.name))
        if link is None:
            kind = "addendum" if "addendum" in path.name.lower() else "moa"
            link = PdfLink("", kind, state_dir.name, agency_dir.name.replace("_", " "))
        sha = sha256_file(path)
        if self.archive.holds(sha, link.state, link.agency, PDF_KINDS):
            self.summary.already_held += 1
            return None
        entry = self._entry(path, link.kind, stamp, sha, source_url=link.url, state=link.state, agency=link.agency)
        relative = Path(safe_component(state_dir.name, underscores=True),
                        safe_component(agency_dir.name, underscores=True), safe_component(path.name))
        entry = self.archive.add_copy(path, "agreements", relative, entry, stamp)
        self.summary.new_pdfs.append(entry.path)
        return None


def import_archive(source: Path, data_dir: Path, origin: str) -> ImportSummary:
    """Import `source` into `data_dir` (see the module docstring); raises ImportFailed when empty."""
    archive = Archive(data_dir, datetime.now(timezone.utc))
    archive.prepare()
    failures = FailureLog(Path(data_dir) / "failures.csv")
    try:
        summary = ArchiveImport(source, archive, failures, origin).run()
    finally:
        archive.finish()
    if archive.added:
        archive.save()
    log.info("import from %s: %d workbook(s) and %d agreement(s) imported, %d already held, %d rejected, "
             "%d agreement(s) added to the backlog", origin, len(summary.new_workbooks), len(summary.new_pdfs),
             summary.already_held, len(summary.rejected), summary.backlog_added)
    return summary
