"""`python -m ice_tracker publish`: plots, data dictionary, change feed and dashboard from the derived data."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from ice_tracker.config import DATA_DIR_DEFAULT, default_data_dir

HELP = "publish plots/, datapackage.json, data/changes.atom, data/state_summary.csv and the site/ dashboard"
READS_OVERRIDES = True  # <data-dir>/overrides/ is seeded from the package's defaults
log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", type=Path, default=None,
                        help=f"data root holding agreements.csv, data/, manifest.csv (default: {DATA_DIR_DEFAULT})")
    parser.add_argument("--strict", action="store_true",
                        help="exit 1 when a published CSV has a column without a description in the data dictionary")


def run(args: argparse.Namespace) -> int:
    from ice_tracker.publish.run import run_publish

    summary = run_publish(args.data_dir or default_data_dir())
    if summary["errors"]:
        return 1
    return 1 if args.strict and summary["problems"] else 0
