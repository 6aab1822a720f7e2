"""Every resource limit the daily job applies to files and servers strangers control, with its reason.

One table, so an operator sees all of them in one place and can tune any without reading code:
each limit can be overridden by the environment variable `ICE_TRACKER_LIMIT_<NAME>` (upper case).
Add a limit here (name, value, unit, reason) rather than as a constant in the module that uses it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class Limit:
    value: float
    unit: str
    reason: str


GIB = 1024**3
MIB = 1024**2

LIMITS: dict[str, Limit] = {
    # Entries are added by the modules that enforce them; keep them sorted by name.
    "body_attempts": Limit(
        3, "attempts",
        "a body cut short (reset, read timeout, fewer bytes than declared) is fetched again within the run, "
        "resuming with Range; a few tries ride out a flaky connection, more would only delay the run"),
    "cell_chars": Limit(
        32_767, "characters",
        "Excel's own maximum for one cell; a longer value is cut at read time (quality.csv says so), because one "
        "131,072-character agency name made matching and agreement text fail on every run"),
    "ddp_parse_cpu_seconds": Limit(
        3_600, "CPU seconds",
        "the detention derivations on a whole raw release take minutes; an hour of CPU means a hostile file"),
    "ddp_parse_memory": Limit(
        12 * GIB, "bytes of address space",
        "the detention derivations' worker: real releases (10 million stints) need a few GB; a GitHub runner has "
        "16 GB, so a blow-up stops there instead of killing the job"),
    "ddp_parse_wall_seconds": Limit(
        5_400, "seconds", "the detention worker's wall deadline; the workflow itself stops at 6 hours"),
    "ddp_workbook_cells": Limit(
        200_000_000, "cells",
        "declared cells (rows × columns) of one detentions sheet; the reader holds every cell (~32 bytes each), "
        "and a real sheet is at most 1,048,576 rows × ~40 columns"),
    "ddp_workbook_columns": Limit(
        80, "columns", "detentions tables have ~40 columns; a cell in column CV (100) or XFD (16,384) only inflates the grid"),
    "ddp_workbook_unzipped": Limit(
        24 * GIB, "bytes",
        "uncompressed size of a detentions workbook (the 280 MB raw release unzips to a few GB)"),
    "download_seconds": Limit(
        600, "seconds",
        "total wall time for one page, workbook or agreement PDF, all attempts included (the largest is a "
        "few MB): a server trickling a byte at a time cannot hold the run, whatever the read timeout"),
    "large_download_seconds": Limit(
        3600, "seconds",
        "total wall time for one DDP release file or release asset (up to 4 GB, so at least ~1.1 MB/s), "
        "below the daily job's 80-minute run deadline so one slow file cannot use up the whole run"),
    "moa_page_points": Limit(
        5000, "points per page side",
        "an agreement page is letter or legal size (612 x 1008 pt at most; scans declaring 300-dpi pixels "
        "as points reach ~3,300); a larger page renders to gigabytes before OCR or the handwriting reader",
    ),
    "moa_pdf_memory_mb": Limit(
        4096, "MB of address space per MOA worker process",
        "reading one agreement (text layer, a 200-dpi page, Tesseract's image, the handwriting models) "
        "stays under ~1.5 GB; a PDF that needs more is hostile or broken, and must not take the "
        "runner down with it",
    ),
    "moa_pdf_pages": Limit(
        500, "pages per agreement PDF",
        "real agreements have 10-60 pages (MOA plus addenda); 10,000 pages would hold a run ~76 min of OCR",
    ),
    "moa_pdf_seconds": Limit(
        900, "seconds of wall time per agreement PDF",
        "the slowest real agreement (a 30-page scan, OCR plus handwriting) takes ~3 min on a loaded runner; "
        "anything past 15 min is stuck, and the daily run's budget is shared by ~2,400 PDFs",
    ),
    "parse_cpu_seconds": Limit(
        60, "CPU seconds per file",
        "a roster workbook or a PDF's structure parses in well under a second of CPU; a minute means a hostile file"),
    "parse_memory": Limit(
        2 * GIB, "bytes of address space",
        "the worker that parses roster workbooks and checks downloaded files: a roster needs ~100 MB, and the daily "
        "job must stay under 2 GB whatever a file holds"),
    "parse_wall_seconds": Limit(
        120, "seconds per file", "a parse that hangs (a PDF cycle, a stalled decompressor) costs that file only"),
    "roster_workbook_cells": Limit(
        2_000_000, "cells",
        "declared cells (rows × columns) of one roster sheet: rosters have ~2,000 rows × 12 columns; the reader "
        "allocates every cell, so one cell at XFD1048576 would need ~550 GB"),
    "roster_workbook_columns": Limit(
        200, "columns", "rosters have about 12 columns; a cell in column CV or XFD only inflates the grid"),
    "roster_workbook_rows": Limit(
        100_000, "rows", "rosters have about 2,000 rows (every 287(g) agreement ever signed is ~3,000)"),
    "roster_workbook_unzipped": Limit(
        200 * MIB, "bytes", "a roster workbook unzips to ~1 MB; 200 MB allows growth, not bombs"),
    "unzip_ratio": Limit(
        200, "uncompressed / compressed bytes per member",
        "real workbook XML compresses 5–20×; a member over 1 MB inflating 200× or more is a decompression bomb"),
    "wayback_cdx_pages": Limit(500, "pages", "CDX answers followed per query through resume keys: a server that "
                               "keeps sending new keys cannot hold a backfill forever"),
    "wayback_page_bytes": Limit(10 * 1024 * 1024, "bytes", "a captured 287(g) page or one CDX answer page is read "
                                "into memory whole; real ones are well under 1 MB"),
    "xlsx_scan_min_bytes": Limit(16 * MIB, "bytes", "an .xlsx detentions workbook with less sheet XML than this is "
                                 "read through fastexcel: loading the compiled scan (ice_tracker/detention/"
                                 "xlsx_scan.py) costs ~0.5 s, which its faster parse repays from ~30,000 rows"),
    "xlsx_window_rows": Limit(50_000, "rows", "an .xlsx detentions sheet is read this many rows at a time "
                              "(ice_tracker/detention/xlsx_windows.py), two windows at once: a window of a real "
                              "release (53 columns) is ~170 MB of sheet XML held while it is scanned (~35 bytes a "
                              "cell of scan results; a window read by fastexcel instead is a temp file plus "
                              "calamine's dense grid, ~32 bytes a cell), so reading stays under ~1 GB whatever "
                              "the sheet size"),
}


class BadLimit(ValueError):
    """An ICE_TRACKER_LIMIT_* value that is not a positive number."""


def limit(name: str) -> float:
    """The limit called `name`: its environment override when set, else the table's value."""
    entry = LIMITS[name]
    raw = os.environ.get(f"ICE_TRACKER_LIMIT_{name.upper()}")
    if raw is None or raw == "":
        return entry.value
    try:
        value = float(raw)
    except ValueError:
        raise BadLimit(f"ICE_TRACKER_LIMIT_{name.upper()}={raw!r} is not a number ({entry.unit})") from None
    if value <= 0:
        raise BadLimit(f"ICE_TRACKER_LIMIT_{name.upper()}={raw!r} must be positive ({entry.unit})")
    return value
