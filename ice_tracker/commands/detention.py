"""`detention`: stints, stays, daily population, ADP and length of stay from ICE detention files."""

from __future__ import annotations

import argparse
import logging
from datetime import date
from pathlib import Path

HELP = "derive stints, stays, daily population per facility, ADP and ALOS from detention releases"

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--input", nargs="+", type=Path, required=True, metavar="PATH",
                        help="raw ICE detentions workbooks (.xlsx), DDP detention-stints parquet, or folders of them")
    parser.add_argument("--extract-date", type=date.fromisoformat, default=None, metavar="YYYY-MM-DD",
                        help="release extract date (default: from file names, else the latest date-time in the data)")
    parser.add_argument("--facilities", type=Path, default=None, metavar="PATH",
                        help="facility list (TSV/CSV/parquet with code, city, state) for facilities.csv")
    parser.add_argument("--out", type=Path, required=True, metavar="DIR", help="output folder")
    parser.add_argument("--cache", type=Path, default=None, metavar="DIR",
                        help="keep each raw workbook's typed table here as parquet, keyed by its sha256, so a "
                             "re-derivation never re-reads the workbook (the daily job uses <cache>/ddp/detention/workbooks)")


def run(args: argparse.Namespace) -> int:
    from ice_tracker.detention import parquet_prefetch

    parquet_prefetch.start(args.input)  # decodes while pandas is imported below
    try:
        from ice_tracker.detention.readers import DetentionInputError
        from ice_tracker.detention.run import run_detention

        try:
            summary = run_detention(args.input, args.out, extract_date=args.extract_date, facilities=args.facilities,
                                    cache_dir=args.cache)
        except DetentionInputError as exc:
            log.error("%s", exc)
            return 2
    finally:
        parquet_prefetch.discard()
    log.info("summary: %s", summary)
    return 0 if not summary["errors"] else 1
