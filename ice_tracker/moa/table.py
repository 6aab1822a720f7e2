"""The archive's agreement PDFs → `data/moa_text/<sha256>.txt` + `data/moa_metadata.csv`.

Identity is the content hash: one row per distinct PDF, listing every archived path of those
bytes. The metadata CSV and the text files are the cache: a PDF already processed (same sha256,
same extractor version) is not read again, except that PDFs left unread for want of Tesseract are
retried once it is available. A bad file becomes a row with its error, never a stopped run.
"""

from __future__ import annotations

import datetime as dt
import logging
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import Any

from ice_tracker.config import overrides_for
from ice_tracker.fileio import atomic_write_text, read_dict_csv, sha256_file, write_dict_csv
from ice_tracker.moa.fields import extract_fields, signature_layout, signature_strip
from ice_tracker.moa.handwriting import DateReader, find_date_reader, handwriting_installed, handwriting_version
from ice_tracker.moa.handwriting import read_party_dates, rules
from ice_tracker.moa.journal import Journal, read_journal
from ice_tracker.moa.ocr import DEFAULT_DPI, Ocr, find_tesseract
from ice_tracker.moa.metadata_ocr import ocr_for_metadata
from ice_tracker.moa.ocr_cache import load_readings, save_readings
from ice_tracker.moa.overrides import FIELDS as OVERRIDABLE
from ice_tracker.moa.overrides import FILE_NAME as OVERRIDES_FILE
from ice_tracker.moa.overrides import apply_field_overrides, load_field_overrides, overridden_fields
from ice_tracker.moa.limits_check import PdfTooLarge, check_pdf_size
from ice_tracker.moa.pdftext import PdfContent, PdfReadError, read_pdf, render_page, reread_strip
from ice_tracker.moa.pool import Job, Settings, available_cores, limit_row, moa_limits, ocr_threads_per_worker, run_jobs
from ice_tracker.moa.progress import Progress
from ice_tracker.moa.roster_dates import roster_signed_dates, signed_for

log = logging.getLogger(__name__)

# Bump when extraction changes so that cached rows are recomputed on the next run.
EXTRACTOR_VERSION = "4"  # 4: text layers read with pdfium (pdfium_text.py)
METADATA = PurePosixPath("data/moa_metadata.csv")
REVIEW = PurePosixPath("data/moa_review.csv")
REVIEW_COLUMNS = ["sha256", "file", "source_url", "field", "reason"]
TEXT_DIR = PurePosixPath("data/moa_text")
JOURNAL = PurePosixPath("data/moa_metadata.journal.jsonl")
COLUMNS = [
    "sha256", "paths", "states", "agencies", "source_urls", "status", "error",
    "pages", "text_layer", "ocr", "ocr_pages", "handwriting", "chars",
    "model", "model_source", "lea_name", "lea_name_source", "lea_city_state",
    "lea_signed", "ice_signed", "lea_signed_source", "ice_signed_source", "lea_signed_margin", "ice_signed_margin",
    "roster_signed",
    "lea_signatory", "ice_signatory",
    "revision_date", "extractor",
]  # fmt: skip
Reader = DateReader | Callable[[], DateReader | None] | None  # a reader, or how to load one when needed
RETRY_OCR = {"unavailable", "failed"}
RETRY_HANDWRITING = {"unavailable", "failed"}
STRIP_MARGIN = 24.0  # points above the anchor (and below a next-page block) re-read with the signature block


@dataclass
class ArchivedPdf:
    sha256: str
    paths: list[str] = field(default_factory=list)  # relative to the data dir, POSIX
    states: set[str] = field(default_factory=set)
    agencies: set[str] = field(default_factory=set)
    source_urls: set[str] = field(default_factory=set)
    first_archived: str = ""  # earliest fetched_at of these bytes in the manifest (UTC ISO 8601)


def join(values: Iterable[str]) -> str:
    return ";".join(sorted({v for v in values if v}))


def known_sha(row: dict[str, str], path: Path) -> str:
    """The manifest's sha256 for `path`, trusted only while the file still has the recorded size."""
    sha, size = row.get("sha256", ""), row.get("bytes", "")
    if len(sha) == 64 and size.isdigit() and int(size) == path.stat().st_size:
        return sha
    return ""


def scan_archive(data_dir: Path) -> dict[str, ArchivedPdf]:
    """Every PDF under `agreements/`, grouped by sha256; the manifest (if any) adds provenance."""
    manifest = {row.get("path", ""): row for row in read_dict_csv(data_dir / "manifest.csv")}
    found: dict[str, ArchivedPdf] = {}
    root = data_dir / "agreements"
    files = sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() == ".pdf") if root.is_dir() else []
    for path in files:
        rel = path.relative_to(data_dir).as_posix()
        row = manifest.get(rel, {})
        sha = known_sha(row, path) or sha256_file(path)
        item = found.setdefault(sha, ArchivedPdf(sha))
        item.paths.append(rel)
        parts = PurePosixPath(rel).parts  # agreements/<run>/<STATE>/<Agency>/<file>
        item.states.add(row.get("state") or (parts[2] if len(parts) >= 5 else ""))
        item.agencies.add(row.get("agency") or (parts[3].replace("_", " ") if len(parts) >= 5 else ""))
        item.source_urls.add(row.get("source_url", ""))
        fetched = row.get("fetched_at", "")
        if fetched and (not item.first_archived or fetched < item.first_archived):
            item.first_archived = fetched
    return found


def process(
    data_dir: Path,
    out_dir: Path,
    item: ArchivedPdf,
    ocr: Ocr | None,
    reader: Reader,
    stats: dict[str, float],
    roster_ice: str = "",
    phase: str = "full",
) -> dict[str, Any]:
    """Read one distinct PDF, write its text file, return its metadata row (`stats` += timings).

    `roster_ice`: the roster's date for ICE's signature on this PDF, if any (bounds the LEA's).
    `phase`: "full" reads every page; "metadata" OCRs scanned pages only up to the signature
    block (the rest is left `ocr = pending` for a later "full" pass).
    """
    row: dict[str, Any] = {"sha256": item.sha256, "status": "ok", "error": "", "extractor": EXTRACTOR_VERSION}
    try:
        content = read_pdf(data_dir / item.paths[0], ocr, defer_ocr=phase == "metadata", sha256=item.sha256)
    except PdfReadError as exc:
        log.warning("MOA %s (%s) unreadable: %s", item.paths[0], item.sha256[:12], exc)
        row.update(status=f"failed_{exc.kind}", error=exc.detail, ocr="")
        return row
    if ocr is not None and phase == "metadata":
        ocr_for_metadata(data_dir / item.paths[0], content, ocr)
    names = [PurePosixPath(p).name for p in item.paths]
    fields = extract_fields(content, names)
    if ocr is not None and not (fields["lea_signed"] and fields["ice_signed"]):
        content = fill_dates_by_ocr(data_dir / item.paths[0], content, fields, names, ocr)
    started = time.perf_counter()
    handwriting = fill_dates_by_handwriting(
        data_dir / item.paths[0], content, fields, reader, item.first_archived, roster_ice, ocr.cache_dir if ocr else None
    )
    stats["handwriting_seconds"] += time.perf_counter() - started
    stats["handwriting_pdfs"] += handwriting not in ("not_needed", "unavailable")
    stats["text_pages"] += len(content.pages)  # every page goes through the text-layer pass
    stats["ocr_pages"] += sum(1 for p in content.pages if p.source == "ocr")
    stats["text_seconds"] += content.seconds["text"]
    stats["ocr_seconds"] += content.seconds["ocr"]
    stats["tesseract_pages"] += content.seconds.get("tesseract_pages", 0.0)
    stats["tesseract_coarse_pages"] += content.seconds.get("tesseract_coarse_pages", 0.0)
    stats["tesseract_strip_pages"] += content.seconds.get("tesseract_strip_pages", 0.0)
    text = content.text
    atomic_write_text(out_dir / TEXT_DIR / f"{item.sha256}.txt", text)
    row.update(
        pages=len(content.pages),
        text_layer=str(content.text_layer).lower(),
        ocr=content.ocr_status,
        ocr_pages=sum(1 for p in content.pages if p.source == "ocr"),
        handwriting=handwriting,
        chars=len(text),
    )
    row.update(fields)
    return row


def roster_ice_date(roster_dates: list[str]) -> str:
    """The roster's date for ICE's signature, when the roster gives exactly one."""
    return roster_dates[0] if len(roster_dates) == 1 else ""


def fill_from_roster(row: dict[str, Any], roster_dates: list[str]) -> None:
    """Publish the roster's SIGNED date(s) and use them for ICE's date when the PDF gave none.

    Re-applied on every run (also to cached rows), so a roster correction reaches the table.
    """
    row["roster_signed"] = ";".join(roster_dates)
    if row.get("status", "ok") != "ok" or row.get("ice_signed_source") not in ("", None, "roster"):
        return
    date = roster_ice_date(roster_dates)
    row["ice_signed"], row["ice_signed_source"] = (date, "roster") if date else ("", "")


def fill_dates_by_ocr(path: Path, content: PdfContent, fields: dict[str, str], names: list[str], ocr: Ocr) -> PdfContent:
    """Scans with an OCR text layer often garble the dates: re-read the signature block ourselves.

    Only the strip of the signature page that holds the block (from the anchor line down, as the
    text layer places it) is read: ~40% of the whole page's Tesseract time on the fixtures. Only dates still
    missing are taken from the re-read (a date read from the text layer wins), and only when the
    signature page is a scanned image. Returns the content as finally read.
    """
    page, strip = signature_strip(content, STRIP_MARGIN)
    if page is None or page.source != "text" or not page.is_scan:
        return content
    reread = reread_strip(path, content, page.number, ocr, strip)
    if reread is None:
        return content
    again = extract_fields(reread, names)
    for party in ("lea", "ice"):
        if not fields[f"{party}_signed"] and again[f"{party}_signed"]:
            fields[f"{party}_signed"] = again[f"{party}_signed"]
            fields[f"{party}_signed_source"] = f"ocr_{again[f'{party}_signed_source']}"
    return reread


def fill_dates_by_handwriting(
    path: Path,
    content: PdfContent,
    fields: dict[str, str],
    reader: Reader,
    first_archived: str,
    roster_ice: str = "",
    memo: Path | None = None,
) -> str:
    """Read the dates still missing off the rendered signature page; returns the `handwriting` status.

    The LEA signs before ICE, so its date is sought no later than ICE's (from the PDF, else the
    roster's `roster_ice`). `memo`: where readings are kept (the OCR cache), so the same question
    about the same page is answered once.

    not_needed: both dates already known; used: at least one date read; unread: tried, nothing
    clear enough; unavailable: no reader installed; failed: the page could not be rendered.
    """
    missing = [party for party in ("lea", "ice") if not fields[f"{party}_signed"]]
    page, words, lea_left = signature_layout(content)
    if not missing or page is None:
        return "not_needed"
    if reader is not None and not isinstance(reader, DateReader):
        reader = reader()  # loaded on first need: most PDFs print both dates
    if reader is None:
        return "unavailable"
    settings = rules()
    try:
        image, modified = render_page(path, page.number, settings["dpi"])
    except Exception as exc:  # pdfium raises its own errors on damaged pages
        log.warning("cannot render the signature page of %s: %s", path, exc)
        return "failed"
    bounds = [dt.date.fromisoformat(d) for d in (modified, first_archived[:10]) if d]
    if not bounds:
        return "unread"
    last = min(bounds)
    window = (last - dt.timedelta(days=settings["window_days"]), last)
    ice_date = fields["ice_signed"] or roster_ice
    lea_until = dt.date.fromisoformat(ice_date) if ice_date and settings["lea_signs_first"] else None
    key = [page.number, settings, lea_left, [str(d) for d in (*window, lea_until)], missing, getattr(reader, "version", ""),
           [(w.text, w.x0, w.x1, w.top, w.bottom) for w in words]]
    readings = load_readings(memo, content.sha256, key)
    if readings is None:  # the full-text pass asks again what the metadata pass asked: read once
        readings = read_party_dates(reader, image, settings["dpi"] / 72.0, words, lea_left, window, lea_until, tuple(missing))
        save_readings(memo, content.sha256, key, readings)
    used = False
    for party in missing:
        reading = readings.get(party)
        if reading is None:
            continue
        log.info("%s %s date by handwriting: %s (%r, score %.1f, margin %.1f, %s)", path.name, party, reading.date,
                 reading.spelling, reading.score, reading.margin, "kept" if reading.accepted else "too unsure")  # fmt: skip
        if reading.accepted:
            fields[f"{party}_signed"] = reading.date
            fields[f"{party}_signed_source"] = "handwriting"
            fields[f"{party}_signed_margin"] = f"{reading.margin:.2f}"
            used = True
    return "used" if used else "unread"


def missing_reason(row: dict[str, Any], field: str) -> str:
    """Why a field of a readable PDF is blank (or only the roster's), for the review queue."""
    if row.get("ice_signed_source") == "roster" and field == "ice_signed":
        return "ICE's date not read on the PDF; the value is the roster's SIGNED date: check it"
    if row.get(field):
        return ""
    if field.endswith("_signed"):
        if row.get("ocr") == "unavailable":
            return "scanned pages not read (OCR unavailable)"
        return {
            "unread": "date line blank, or hand-written too unclearly to read automatically",
            "unavailable": "hand-written dates not read (reader not installed)",
            "failed": "signature page could not be rendered",
        }.get(row.get("handwriting", ""), "no date found on the signature page")
    return f"{field} not found in the text"


def review_rows(rows: list[dict[str, Any]]) -> list[dict[str, str]]:
    """One line per blank (or roster-only) field of a readable PDF, and per unreadable PDF:
    what a person should look at, and why the extractor could not do it."""
    out = []
    for row in rows:
        file, url = (row.get("paths") or "").split(";")[0], (row.get("source_urls") or "").split(";")[0]
        base = {"sha256": row["sha256"], "file": file, "source_url": url}
        if row.get("status") != "ok":
            out.append({**base, "field": "", "reason": f"{row.get('status')}: {row.get('error', '')}".strip()})
            continue
        for field in OVERRIDABLE:
            reason = missing_reason(row, field)
            if reason:
                out.append({**base, "field": field, "reason": reason})
    return sorted(out, key=lambda r: (r["file"], r["field"]))


def dates_from(rows: list[dict[str, Any]], source: str) -> int:
    """How many signing dates (agency and ICE) in the table came from `source`."""
    return sum((r.get("lea_signed_source") == source) + (r.get("ice_signed_source") == source) for r in rows)


def is_cached(row: dict[str, Any] | None, out_dir: Path, ocr: Ocr | None, reader: object = None) -> bool:
    """Whether `row` can stand as is (`reader`: truthy when hand-written dates can be read now)."""
    if row is None or row.get("extractor") != EXTRACTOR_VERSION:
        return False
    if row.get("status") != "ok":
        return True
    if ocr is not None and row.get("ocr") in RETRY_OCR:
        return False
    if reader and row.get("handwriting") in RETRY_HANDWRITING:
        return False
    return (out_dir / TEXT_DIR / f"{row['sha256']}.txt").is_file()


def restore_journal(path: Path, out_dir: Path) -> dict[str, dict[str, Any]]:
    """Rows an unfinished run journalled, their text files put back (a staging copy may have lost them)."""
    rows = read_journal(path)
    for sha, row in rows.items():
        text = row.pop("text", None)
        target = out_dir / TEXT_DIR / f"{sha}.txt"
        if isinstance(text, str) and not target.is_file():
            atomic_write_text(target, text)
    return rows


def worker_tools(settings: Settings) -> tuple[Ocr | None, Reader]:
    """Tesseract (located once per worker) and the handwriting reader (loaded on first use)."""
    ocr = find_tesseract(settings.tesseract, settings.dpi or DEFAULT_DPI)
    if ocr is not None:
        ocr = replace(ocr, cache_dir=settings.ocr_cache, threads=settings.ocr_threads or ocr.threads)
    return ocr, (find_date_reader if settings.handwriting else None)


def read_one(settings: Settings, job: Job, tools: tuple[Ocr | None, Reader]) -> tuple[dict[str, Any], dict[str, float]]:
    """One PDF read in a worker: its metadata row and timing stats."""
    stats = dict.fromkeys(STATS, 0.0)
    try:
        check_pdf_size(settings.data_dir / job.item.paths[0], settings.limits)
    except PdfTooLarge as exc:
        log.warning("MOA %s (%s) not read: %s", job.item.paths[0], job.sha256[:12], exc)
        return limit_row(job, str(exc)), stats
    ocr, reader = tools
    row = process(settings.data_dir, settings.out_dir, job.item, ocr, reader, stats, job.roster_ice, job.phase)
    return row, stats


STATS = ["text_pages", "text_seconds", "ocr_pages", "ocr_seconds", "tesseract_pages", "tesseract_coarse_pages", "tesseract_strip_pages",
         "handwriting_pdfs", "handwriting_seconds"]


def newest_first(item: ArchivedPdf, roster_dates: list[str]) -> tuple[str, str]:
    """Sort key (descending): the roster's newest signing date, else when the PDF was archived."""
    return (max(roster_dates, default=""), item.first_archived)


def moa_headline(read: int, total: int, backlog: dict[str, int]) -> str:
    """'moa: 1,200 of 2,400 read, continuing' while work is left; '' when there is none."""
    if backlog["metadata"]:
        return f"moa: {read:,} of {total:,} read, continuing"
    if backlog["full_text"]:
        return f"moa: {read:,} of {total:,} read, full text of {backlog['full_text']:,} scans continuing"
    return ""


def run_moa(
    data_dir: Path,
    out_dir: Path | None = None,
    tesseract: str | None = None,
    dpi: int | None = None,
    handwriting: bool = True,
    overrides_dir: Path | None = None,
    roster_cache: Path | None = None,
    budget_minutes: float | None = None,
    workers: int | None = None,
    journal: Path | None = None,
    ocr_cache: Path | None = None,
) -> dict[str, Any]:
    """Bring the MOA text and metadata up to date with the archive; returns a run summary.

    `out_dir` (default: `data_dir`) receives `data/moa_metadata.csv`, `data/moa_review.csv` (what
    is still missing) and `data/moa_text/`. Values read by a person come from
    `<overrides_dir>/moa_fields.csv` (default: `<data_dir>/overrides/`). `roster_cache`: where the
    roster history's per-snapshot table is cached (default: the cache dir's `roster/`).
    `tesseract` names the binary (default: $ICE_TRACKER_TESSERACT, then PATH); `handwriting=False`
    skips reading hand-written dates (rows then say `handwriting = unavailable` and are retried).

    Work order: the metadata of every unread PDF (newest agreements first; scanned pages OCRed
    only through the signature block), then the full text of scans. `workers` processes (default:
    the available cores) read the PDFs; each result is journalled at once. After `budget_minutes`
    the run stops, saves what it has and reports the rest as `backlog` (the next run continues).
    `journal`: where finished rows are kept meanwhile (default `data/moa_metadata.journal.jsonl`
    in `out_dir`, removed at the end); a caller-given journal is left for the caller to remove.
    `ocr_cache`: where Tesseract's words are kept per page (the daily job: the cache dir's
    `moa_ocr/`), so no page is OCRed twice across passes and runs; default: a temporary folder
    (shared by this run's passes only).
    """
    with tempfile.TemporaryDirectory(prefix="moa_ocr_") as scratch:
        return run_moa_with_cache(data_dir, out_dir, tesseract, dpi, handwriting, overrides_dir, roster_cache,
                                  budget_minutes, workers, journal, ocr_cache or Path(scratch))


def run_moa_with_cache(
    data_dir: Path,
    out_dir: Path | None,
    tesseract: str | None,
    dpi: int | None,
    handwriting: bool,
    overrides_dir: Path | None,
    roster_cache: Path | None,
    budget_minutes: float | None,
    workers: int | None,
    journal: Path | None,
    ocr_cache: Path,
) -> dict[str, Any]:
    """`run_moa` with its OCR cache folder decided."""
    started = time.monotonic()
    out_dir = out_dir or data_dir
    ocr = find_tesseract(tesseract, dpi or DEFAULT_DPI)
    archive = scan_archive(data_dir)
    roster = roster_signed_dates(out_dir / "data", roster_cache)
    previous = {row["sha256"]: row for row in read_dict_csv(out_dir / METADATA) if row.get("sha256")}
    journal_path = journal or out_dir / JOURNAL
    previous.update(restore_journal(journal_path, out_dir))
    overrides, override_problems = load_field_overrides((overrides_dir or overrides_for(data_dir)) / OVERRIDES_FILE)
    reader_wanted = handwriting and handwriting_installed()
    stats = dict.fromkeys(STATS, 0.0)
    roster_dates = {sha: signed_for(item.paths, roster) for sha, item in archive.items()}
    first: list[Job] = []
    later: list[Job] = []
    for sha in sorted(archive, key=lambda s: newest_first(archive[s], roster_dates[s]), reverse=True):
        cached = previous.get(sha)
        ice = roster_ice_date(roster_dates[sha])
        # a withdrawn override needs the extracted value back: read the PDF again
        if is_cached(cached, out_dir, ocr, reader_wanted) and overridden_fields(cached or {}) <= set(overrides.get(sha, {})):
            if ocr is not None and (cached or {}).get("ocr") == "pending":
                later.append(Job(sha, archive[sha], ice, "full"))
            continue
        first.append(Job(sha, archive[sha], ice, "metadata" if ocr is not None else "full"))
    fresh: dict[str, dict[str, Any]] = {}
    tesseract_by_phase: dict[str, float] = {}
    journal_file = Journal(journal_path)

    def finished(job: Job, result: tuple[dict[str, Any], dict[str, float]]) -> None:
        row, timing = result
        fresh[job.sha256] = row
        text = out_dir / TEXT_DIR / f"{job.sha256}.txt"
        journal_file.add({**row, "text": text.read_text(encoding="utf-8") if text.is_file() else None})
        for key, value in timing.items():
            stats[key] += value
        tesseract_by_phase[job.phase] = tesseract_by_phase.get(job.phase, 0) + timing.get("tesseract_pages", 0)
        if job.phase == "metadata" and row.get("ocr") == "pending":
            later.append(Job(job.sha256, job.item, job.roster_ice, "full"))
        bar.step()

    workers = workers or available_cores()
    settings = Settings(data_dir, out_dir, tesseract, dpi, reader_wanted, moa_limits(), ocr_cache,
                        ocr_threads_per_worker(workers))
    stop_at = started + budget_minutes * 60 if budget_minutes else None
    with Progress(len(first), "moa metadata") as bar:
        left = run_jobs(first, settings, finished, workers, stop_at)
    # when every PDF's metadata was read (the full-text pass follows): the first run's figure that counts
    metadata_seconds = None if left else round(time.monotonic() - started, 1)
    if not left and later:
        later.sort(key=lambda j: newest_first(j.item, roster_dates[j.sha256]), reverse=True)
        with Progress(len(later), "moa full text") as bar:
            left = run_jobs(list(later), settings, finished, workers, stop_at)
    else:
        left += later
    rows: list[dict[str, Any]] = []
    for sha in sorted(archive):
        item = archive[sha]
        found = fresh.get(sha) or previous.get(sha)
        if found is None or (sha not in fresh and not is_cached(found, out_dir, ocr, reader_wanted)):
            continue  # not read yet: in the backlog
        row = dict(found)
        fill_from_roster(row, roster_dates[sha])
        apply_field_overrides(row, overrides.get(sha, {}))
        row.update(
            paths=join(item.paths), states=join(item.states), agencies=join(item.agencies), source_urls=join(item.source_urls)
        )
        rows.append(row)
    changed = write_dict_csv(out_dir / METADATA, COLUMNS, rows)
    journal_file.close(keep=journal is not None)
    review = review_rows(rows)
    write_dict_csv(out_dir / REVIEW, REVIEW_COLUMNS, review)
    backlog = {
        "metadata": sum(1 for j in left if j.phase == "metadata" or j.sha256 not in fresh and j.sha256 not in previous),
        "full_text": sum(1 for r in rows if r.get("ocr") == "pending"),
    }
    processed = [r for r in fresh.values()]
    summary = {
        "pdfs": len(archive),
        "read": len(rows),
        "processed": len(processed),
        "failed": sum(1 for r in processed if r.get("status") != "ok"),
        "failed_total": sum(1 for r in rows if r.get("status") != "ok"),
        "backlog": backlog,
        "budget_minutes": budget_minutes or 0,
        "stopped_by_budget": bool(left),
        "ocr": f"tesseract {ocr.version}" if ocr else "unavailable",
        "ocr_pages_total": sum(int(r.get("ocr_pages") or 0) for r in rows),
        "read_text_pages": int(stats["text_pages"]),
        "read_text_seconds": round(stats["text_seconds"], 2),
        "read_ocr_pages": int(stats["ocr_pages"]),
        "read_ocr_seconds": round(stats["ocr_seconds"], 2),
        "read_tesseract_pages": int(stats["tesseract_pages"]),  # pages Tesseract read (the rest came from the cache)
        "read_tesseract_coarse_pages": int(stats["tesseract_coarse_pages"]),
        "read_tesseract_strip_pages": int(stats["tesseract_strip_pages"]),  # parts of pages (signature blocks)
        "read_tesseract_by_phase": {phase: int(n) for phase, n in sorted(tesseract_by_phase.items())},  # coarse readings locating signatures
        "ocr_unavailable": sum(1 for r in rows if r.get("ocr") == "unavailable"),
        "handwriting": handwriting_version() if reader_wanted else "unavailable",
        "read_handwriting_pdfs": int(stats["handwriting_pdfs"]),
        "read_handwriting_seconds": round(stats["handwriting_seconds"], 2),
        "dates_from_handwriting": dates_from(rows, "handwriting"),
        "dates_from_roster": dates_from(rows, "roster"),
        "dates_from_overrides": dates_from(rows, "override"),
        "override_problems": override_problems,
        "unused_overrides": sorted(sha[:12] for sha in set(overrides) - set(archive)),
        "to_review": len(review),
        "metadata_changed": changed,
        "headline": moa_headline(len(rows), len(archive), backlog),
        "seconds": round(time.monotonic() - started, 1),
        "metadata_seconds": metadata_seconds,  # None: the budget ended before the metadata pass did
    }
    log.info("moa: %s", summary)
    return summary
