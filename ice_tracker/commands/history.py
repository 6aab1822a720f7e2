"""`python -m ice_tracker history`: rebuild the roster history outputs from the archived workbooks."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ice_tracker.config import DATA_DIR_DEFAULT, default_data_dir

HELP = ("rebuild data/roster_history/ (snapshots, versions, positions: validity intervals), roster checks, "
        "changes, editorial changes and quality from sheets/")
READS_OVERRIDES = True  # <data-dir>/overrides/ is seeded from the package's defaults


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", type=Path, default=None,
                        help=f"archive root holding sheets/ and manifest.csv (default: {DATA_DIR_DEFAULT})")
    parser.add_argument("--out-dir", type=Path, default=None, help="where the CSVs go (default: <data-dir>/data)")
    parser.add_argument("--cache-dir", type=Path, default=None,
                        help="parse and derivation cache, safe to delete (default: $ICE_TRACKER_CACHE or "
                             "~/.cache/ice_tracker, then /roster)")


def run(args: argparse.Namespace) -> int:
    from ice_tracker.roster.history import build_history

    data_dir = args.data_dir or default_data_dir()
    summary = build_history(data_dir, args.out_dir, args.cache_dir)
    print(json.dumps(summary, indent=2, sort_keys=True))
    return 0 if summary["workbooks"] or not (Path(data_dir) / "sheets").is_dir() else 1
