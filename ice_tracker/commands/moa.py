"""`moa`: text and metadata of every archived agreement PDF (OCR for scans)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ice_tracker.config import DATA_DIR_DEFAULT, default_data_dir

HELP = "extract text and metadata (model, agency, signing dates) from archived MOA PDFs, OCR for scans"
READS_OVERRIDES = True  # <data-dir>/overrides/ is seeded from the package's defaults


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", type=Path, default=None, help=f"archive root holding agreements/ and manifest.csv (default: {DATA_DIR_DEFAULT})")
    parser.add_argument("--out-dir", type=Path, default=None, help="where data/moa_metadata.csv and data/moa_text/ go (default: the data dir)")
    parser.add_argument("--tesseract", default=None, help="Tesseract binary (default: $ICE_TRACKER_TESSERACT, then PATH)")
    parser.add_argument("--dpi", type=int, default=None, help="render resolution for OCR (default 200)")
    add_budget_arguments(parser)
    parser.add_argument("--no-handwriting", action="store_true", help="do not read hand-written signing dates (rows say handwriting = unavailable and are retried later)")


def add_budget_arguments(parser: argparse.ArgumentParser) -> None:
    """--moa-budget and --moa-workers (shared by this command and the daily job)."""
    parser.add_argument("--moa-budget", type=float, default=None, metavar="MINUTES",
                        help="stop reading agreement PDFs after this many minutes, save what was read and leave the "
                             "rest (the backlog, in data/last_run.json) to the next run (default: no limit)")
    parser.add_argument("--moa-workers", type=int, default=None, metavar="N",
                        help="worker processes reading agreement PDFs (default: the available cores)")


def run(args: argparse.Namespace) -> int:
    from ice_tracker.config import default_cache_dir
    from ice_tracker.moa import run_moa

    data_dir = args.data_dir or default_data_dir()
    summary = run_moa(data_dir, args.out_dir, tesseract=args.tesseract, dpi=args.dpi, handwriting=not args.no_handwriting,
                      budget_minutes=args.moa_budget, workers=args.moa_workers, ocr_cache=default_cache_dir() / "moa_ocr")
    print(json.dumps(summary, sort_keys=True))
    return 0
