"""The 287(g) scrape: page → verified roster workbooks → agreement PDFs, storing only what is new.

Entry point: `scrape_287g(...)`. Nothing is written until at least one roster workbook has been
verified (a real workbook with a roster header, or a 304 for one we hold); if none can be, the run
raises `ScrapeFailed` and leaves the archive exactly as it was.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path, PurePosixPath

from ice_tracker.archive import Archive, ManifestEntry, utc_iso
from ice_tracker.config import overrides_for
from ice_tracker.failures import FailureLog
from ice_tracker.http import FetchError, FetchResult, HttpClient
from ice_tracker.roster.normalise import normalise_state
from ice_tracker.roster.vocab import load_vocabulary
from ice_tracker.safepath import safe_component
from ice_tracker.sources.ice287g.html_table import read_archived_roster
from ice_tracker.sources.ice287g.page import Candidate, find_candidates, list_from_name
from ice_tracker.formats import check_pdf
from ice_tracker.quarantine import Quarantine
from ice_tracker.roster.cache import parser_fingerprint
from ice_tracker.sandbox import SandboxFailure, run_limited
from ice_tracker.sources.ice287g.workbook import RosterTable, read_roster_checked
from ice_tracker.urls import unwrap_safelink
from ice_tracker.xlsx import WorkbookError, looks_like_xlsx
from ice_tracker.xlsx_guard import WorkbookTooLarge

log = logging.getLogger(__name__)

WORKBOOK_KINDS = ("participating", "pending")
PDF_KINDS = ("moa", "addendum")
PDF_MAGIC = b"%PDF-"


# A held agreement URL that a new roster still lists is asked about again (conditional GET) once in
# this many days, on a day fixed by its URL: ICE has replaced PDFs behind unchanged links, but
# asking about all ~2,400 links whenever a roster is republished (up to twice a day) costs
# thousands of requests to ice.gov for nothing. New and changed links are always fetched.
RECHECK_EVERY_DAYS = 14


def recheck_due(url: str, day: str) -> bool:
    """Whether a held link is revalidated on `day` (YYYY-MM-DD): one day in RECHECK_EVERY_DAYS per URL."""
    slot = int(hashlib.sha256(url.encode("utf-8")).hexdigest()[:8], 16) % RECHECK_EVERY_DAYS
    return date.fromisoformat(day).toordinal() % RECHECK_EVERY_DAYS == slot


class ScrapeFailed(Exception):
    """The run achieved nothing it should have (no page, or no verifiable roster workbook)."""


@dataclass
class PdfLink:
    url: str
    kind: str  # moa / addendum
    state: str
    agency: str

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.url, self.kind, self.state, self.agency)


@dataclass
class ScrapeSummary:
    page_url: str
    candidates: int = 0
    workbooks_verified: int = 0
    workbooks_unchanged: int = 0
    new_workbooks: list[str] = field(default_factory=list)
    pdf_links_checked: int = 0
    pdf_links_due_recheck: int = 0  # URLs of held links a new roster still lists, revalidated today
    pdfs_unchanged: int = 0
    new_pdfs: list[str] = field(default_factory=list)
    failures: list[dict[str, str]] = field(default_factory=list)
    failures_resolved: int = 0


def verify_workbook(result: FetchResult) -> RosterTable:
    """Prove a downloaded body is a roster workbook: ZIP magic, within the size limits, opens, has a
    roster header. Parsed in the sandboxed worker: a workbook that kills or starves the reader
    raises SandboxFailure and costs only itself."""
    if not looks_like_xlsx(result.head):
        start = result.head[:40].decode("latin-1", errors="replace").strip()
        raise WorkbookError(
            f"not a workbook: {result.content_type or 'no content type'}, {result.size} bytes, starts {start!r}"
        )
    assert result.temp_path is not None
    return run_limited("parse", read_roster_checked, result.temp_path)


def verify_pdf(result: FetchResult) -> None:
    """Prove a downloaded body is a whole PDF: header, `%%EOF`, a page tree (ice_tracker/formats.py)."""
    if result.size == 0:
        raise ValueError("not a PDF: empty body")
    if PDF_MAGIC not in result.head[:1024]:
        start = result.head[:40].decode("latin-1", errors="replace").strip()
        raise ValueError(f"not a PDF: {result.content_type or 'no content type'}, {result.size} bytes, starts {start!r}")
    assert result.temp_path is not None
    try:
        run_limited("parse", check_pdf, result.temp_path)
    except SandboxFailure as exc:
        raise ValueError(f"not a usable PDF: {exc}") from exc


def workbook_list(result: FetchResult, candidate: Candidate, table: RosterTable) -> str:
    """participating / pending: from the published file name, then the link, then the columns."""
    return (
        list_from_name(result.filename)
        or candidate.list_hint
        or ("participating" if "moa" in table.columns or "signed" in table.columns else "pending")
    )


def workbook_file_name(filename: str, kind: str) -> str:
    """The archived name of a roster workbook: as published (made path-safe), else `<kind>Agencies.xlsx`."""
    name = safe_component(filename or f"{kind}Agencies.xlsx")
    return name if name.lower().endswith((".xlsx", ".xls")) else name + ".xlsx"


def canonical_state(raw: object, overrides_dir: Path | None = None) -> str:
    """The state's full upper-case name (`UTAHJ` → UTAH), else the raw text upper-cased.
    `overrides_dir`: the hand corrections to apply (`<data-dir>/overrides`; default: the package's)."""
    text = " ".join(str(raw or "").split()).upper()
    fixed, _ = normalise_state(text, load_vocabulary(overrides_dir) if overrides_dir else load_vocabulary())
    return fixed or text


def pdf_links(table: RosterTable, overrides_dir: Path | None = None) -> list[PdfLink]:
    """MOA and ADDENDUM links of a roster, unwrapped; 'link pending' and empty cells skipped.
    `overrides_dir`: whose state corrections name the agreements' folders (see `canonical_state`)."""
    links = []
    for row in table.rows:
        state = canonical_state(row.values.get("state"), overrides_dir)
        agency = " ".join(str(row.values.get("agency") or "").split())
        for kind in PDF_KINDS:
            url = row.links.get(kind, "")
            text = str(row.values.get(kind) or "").strip()
            if not url and text.lower().startswith(("http://", "https://")):
                url = text
            if url:
                links.append(PdfLink(unwrap_safelink(url), kind, state, agency))
    return links


class _PdfFetches:
    """One download per URL per run, shared by every agency that links it."""

    def __init__(self, client: HttpClient, archive: Archive):
        self.client = client
        self.archive = archive
        self.outcomes: dict[str, tuple[str, str, FetchResult | None]] = {}  # url → (sha or '', error, result)

    def get(self, url: str) -> tuple[str, str, FetchResult | None]:
        if url not in self.outcomes:
            self.outcomes[url] = self._fetch(url)
        return self.outcomes[url]

    def _fetch(self, url: str) -> tuple[str, str, FetchResult | None]:
        previous = self.archive.latest_for_url(url)
        try:
            if previous:
                result = self.client.fetch(url, etag=previous.etag, last_modified=previous.last_modified)
            else:
                result = self.client.fetch(url)
        except FetchError as exc:
            return "", str(exc), None
        if result.not_modified:
            if previous is None:
                return "", "HTTP 304 for a URL never archived", None
            return previous.sha256, "", result
        try:
            verify_pdf(result)
        except ValueError as exc:
            result.discard()
            return "", str(exc), None
        return result.sha256, "", result

    def discard_all(self) -> None:
        for _, _, result in self.outcomes.values():
            if result is not None:
                result.discard()


def pdf_relative_path(link: PdfLink, result: FetchResult | None, url: str) -> Path:
    """`<STATE>/<Agency>/<file>.pdf` inside an agreements folder (the original tracker's layout)."""
    name = (result.filename if result and result.filename else "") or PurePosixPath(url).name or "agreement.pdf"
    name = safe_component(name)
    if not name.lower().endswith(".pdf"):
        name += ".pdf"
    return Path(safe_component(link.state or "UNKNOWN_STATE", underscores=True),
                safe_component(link.agency or "Unknown agency", underscores=True), name)


class Scrape287g:
    """One run of the 287(g) scrape over one data dir (see `scrape_287g`)."""

    def __init__(self, *, page_url: str, client: HttpClient, archive: Archive, failures: FailureLog,
                 include_pdfs: bool = True):
        self.page_url = page_url
        self.client = client
        self.archive = archive
        self.failures = failures
        self.include_pdfs = include_pdfs
        self.summary = ScrapeSummary(page_url=page_url)
        self.pending_failures: list[tuple[str, str, str]] = []  # (url, kind, error) for workbooks
        self.pending_quarantine: list[tuple[str, str, str]] = []  # (sha256, url, reason)
        self.quarantine = Quarantine(archive.data_dir)

    def now(self) -> str:
        return utc_iso(datetime.now(timezone.utc))

    def run(self) -> ScrapeSummary:
        try:
            final_url, html = self.client.get_text(self.page_url)
        except FetchError as exc:
            raise ScrapeFailed(f"could not fetch the 287(g) page {self.page_url}: {exc}") from exc
        candidates = find_candidates(html, final_url)
        self.summary.candidates = len(candidates)
        if not candidates:
            raise ScrapeFailed(f"no roster workbook link found on {self.page_url}")
        verified = self._fetch_workbooks(candidates)
        if self.summary.workbooks_verified == 0:
            for result, _, _ in verified:
                result.discard()
            reasons = "; ".join(f"{url}: {error}" for url, _, error in self.pending_failures) or "no candidate verified"
            raise ScrapeFailed(f"no roster workbook could be found and verified ({reasons})")
        # From here on the run has achieved something: record and store.
        for url, kind, error in self.pending_failures:
            self._record_failure(url, kind, error)
        for sha256, url, reason in self.pending_quarantine:
            self.quarantine.add(sha256, parser_fingerprint(), "roster workbook", url, reason, self.now(), record=False)
        self._resolve_stale_workbook_failures(candidates)
        tables = self._store_workbooks(verified)
        if self.include_pdfs:
            self._fetch_pdfs(tables)
        self.failures.save()
        self.summary.failures_resolved = len(self.failures.resolved_this_run)
        return self.summary

    # ----- workbooks ------------------------------------------------------------------------
    def _fetch_workbooks(self, candidates: list[Candidate]) -> list[tuple[FetchResult, Candidate, RosterTable]]:
        verified = []
        for candidate in candidates:
            previous = self.archive.latest_for_url(candidate.url)
            if previous is not None and previous.kind not in WORKBOOK_KINDS:
                previous = None
            try:
                result = self.client.fetch(
                    candidate.url,
                    etag=previous.etag if previous else "",
                    last_modified=previous.last_modified if previous else "",
                )
            except FetchError as exc:
                self._candidate_failed(candidate, str(exc))
                continue
            if result.not_modified:
                if previous is not None:
                    log.info("unchanged (304): %s", candidate.url)
                    self.summary.workbooks_verified += 1
                    self.summary.workbooks_unchanged += 1
                continue
            held = self.quarantine.holds(result.sha256, parser_fingerprint())
            try:
                if held is not None:
                    raise WorkbookError(f"quarantined since {held.quarantined_at}: {held.reason}")
                table = verify_workbook(result)
            except (WorkbookError, SandboxFailure) as exc:
                if isinstance(exc, (WorkbookTooLarge, SandboxFailure)):
                    self.pending_quarantine.append((result.sha256, candidate.url, str(exc)))
                result.discard()
                self._candidate_failed(candidate, str(exc))
                continue
            self.summary.workbooks_verified += 1
            if self.archive.has_sha(result.sha256, WORKBOOK_KINDS) or any(
                v[0].sha256 == result.sha256 for v in verified
            ):
                log.info("already archived (same sha256): %s", candidate.url)
                self.summary.workbooks_unchanged += 1
                result.discard()
                continue
            verified.append((result, candidate, table))
        return verified

    def _candidate_failed(self, candidate: Candidate, error: str) -> None:
        if candidate.strong:
            log.warning("roster link failed: %s: %s", candidate.url, error)
            self.pending_failures.append((candidate.url, candidate.list_hint or "workbook", error))
        else:
            log.debug("not a roster workbook: %s: %s", candidate.url, error)

    def _resolve_stale_workbook_failures(self, candidates: list[Candidate]) -> None:
        """A workbook failure whose link is no longer on the page is closed (it cannot be retried)."""
        current = {c.url for c in candidates}
        failed_now = {url for url, _, _ in self.pending_failures}
        for failure in self.failures.pending((*WORKBOOK_KINDS, "workbook")):
            if failure.url not in failed_now:
                if failure.url not in current:
                    log.info("closing failure for a link no longer on the page: %s", failure.url)
                self.failures.resolve(*failure.key)

    def _store_workbooks(self, verified: list[tuple[FetchResult, Candidate, RosterTable]]) -> list[RosterTable]:
        tables = []
        for result, candidate, table in verified:
            kind = workbook_list(result, candidate, table)
            name = workbook_file_name(result.filename, kind)
            assert result.temp_path is not None
            entry = self.archive.add_file(result.temp_path, "sheets", Path(name), ManifestEntry(
                path="", kind=kind, source_url=candidate.url, sha256=result.sha256, bytes=result.size,
                fetched_at=self.now(), etag=result.etag, last_modified=result.last_modified,
                content_type=result.content_type))
            result.temp_path = None
            self.summary.new_workbooks.append(entry.path)
            tables.append(table)
        return tables

    # ----- agreement PDFs -------------------------------------------------------------------
    def _fetch_pdfs(self, new_tables: list[RosterTable]) -> None:
        """Links new to this roster (absent from the previous one) and past failures are fetched
        or revalidated (conditional GET); a link both rosters carry is revalidated only on its day
        of the recheck cycle (`recheck_due`), so a day's requests follow the day's changes, not the
        roster's size, and every held URL is still asked about every `RECHECK_EVERY_DAYS`. Links of
        the newest archived roster are completed (fetched only if this agency does not hold that
        URL yet: this finishes a run that was interrupted or ran with --no-pdfs)."""
        targets: dict[tuple[str, str, str, str], tuple[PdfLink, bool]] = {}
        overrides = overrides_for(self.archive.data_dir)
        previous = [link for table in self._latest_archived_tables() for link in pdf_links(table, overrides)]
        previous_keys = {link.key for link in previous}
        today = self.now()[:10]
        for table in new_tables:
            for link in pdf_links(table, overrides):
                revalidate = link.key not in previous_keys or recheck_due(link.url, today)
                targets.setdefault(link.key, (link, revalidate))
        for failure in self.failures.pending(PDF_KINDS):
            link = PdfLink(failure.url, failure.kind, failure.state, failure.agency)
            targets[link.key] = (link, True)
        for link in previous:
            targets.setdefault(link.key, (link, False))
        self.summary.pdf_links_due_recheck = len({key[0] for key, (_, again) in targets.items()
                                                  if again and key in previous_keys})  # URLs, as requested
        fetches = _PdfFetches(self.client, self.archive)
        try:
            for key in sorted(targets):
                link, revalidate = targets[key]
                self._archive_pdf(link, fetches, revalidate)
        finally:
            fetches.discard_all()

    def _latest_archived_tables(self) -> list[RosterTable]:
        tables = []
        for kind in WORKBOOK_KINDS:
            entries = [e for e in self.archive.entries if e.kind == kind and e.path not in self.summary.new_workbooks]
            if not entries:
                continue
            newest = max(entries, key=lambda e: (e.fetched_at, e.path))
            try:
                tables.append(run_limited("parse", read_archived_roster, self.archive.data_dir / newest.path))
            except (OSError, WorkbookError, SandboxFailure) as exc:
                log.warning("cannot re-read archived workbook %s: %s", newest.path, exc)
        return tables

    def _archive_pdf(self, link: PdfLink, fetches: _PdfFetches, revalidate: bool) -> None:
        self.summary.pdf_links_checked += 1
        held = self.archive.holds_url(link.url, link.state, link.agency, PDF_KINDS)
        if held is not None and (not revalidate or not (held.etag or held.last_modified)):
            # Known URL already archived for this agency: nothing to ask (or nothing to ask with).
            self.summary.pdfs_unchanged += 1
            self.failures.resolve(*link.key)
            return
        sha, error, result = fetches.get(link.url)
        if error:
            self._record_failure(link.url, link.kind, error, link.state, link.agency)
            return
        self.failures.resolve(*link.key)
        if self.archive.holds(sha, link.state, link.agency, PDF_KINDS):
            self.summary.pdfs_unchanged += 1
            return
        entry = ManifestEntry(
            path="", kind=link.kind, source_url=link.url, sha256=sha, bytes=0, fetched_at=self.now(),
            etag=result.etag if result else "", last_modified=result.last_modified if result else "",
            content_type=result.content_type if result else "", state=link.state, agency=link.agency)
        relative = pdf_relative_path(link, result, link.url)
        if result is not None and result.temp_path is not None:
            entry.bytes = result.size
            self.archive.add_file(result.temp_path, "agreements", relative, entry)
            result.temp_path = None
        else:
            source = self.archive.entry_with_sha(sha)
            if source is None:
                self._record_failure(link.url, link.kind, "bytes not modified but no archived copy found",
                                     link.state, link.agency)
                return
            entry.bytes = source.bytes
            if not entry.content_type:
                entry.content_type = source.content_type
            self.archive.add_copy(self.archive.data_dir / source.path, "agreements", relative, entry)
        self.summary.new_pdfs.append(entry.path)

    def _record_failure(self, url: str, kind: str, error: str, state: str = "", agency: str = "") -> None:
        log.warning("failed: %s %s %s: %s", kind, agency or "", url, error)
        self.failures.record(url, kind, error, self.now(), state, agency)
        self.summary.failures.append({"url": url, "kind": kind, "state": state, "agency": agency, "error": error})


def scrape_287g(*, page_url: str, client: HttpClient, archive: Archive, failures: FailureLog,
                include_pdfs: bool = True) -> ScrapeSummary:
    """Run the 287(g) scrape; raises ScrapeFailed (having written nothing) when nothing verified."""
    return Scrape287g(page_url=page_url, client=client, archive=archive, failures=failures,
                      include_pdfs=include_pdfs).run()
