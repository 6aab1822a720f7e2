"""`python -m ice_tracker match`: match roster agencies to CSLLEA 2018 and write agreements.csv."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from ice_tracker.config import DATA_DIR_DEFAULT, default_cache_dir, default_data_dir

HELP = "match roster agencies to CSLLEA 2018; write agreements.csv, data/agency_matches.csv, data/match_review.csv"
READS_OVERRIDES = True  # <data-dir>/overrides/ is seeded from the package's defaults
log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", type=Path, default=None,
                        help=f"data root (default: {DATA_DIR_DEFAULT})")
    parser.add_argument("--csllea", default=None, help="CSLLEA file (.rda/.tsv/.dta) path or URL (default: "
                        "reference/csllea/38771-0001-Data.rda, else the published copy, downloaded once and verified)")
    parser.add_argument("--cache-dir", type=Path, default=None, help="download cache (default: $ICE_TRACKER_CACHE)")
    parser.add_argument("--overrides-dir", type=Path, default=None,
                        help="folder with agency_matches.csv and agency_aliases.csv (default: <data-dir>/overrides/)")


def run(args: argparse.Namespace) -> int:
    from ice_tracker.matching.csllea import CslleaError
    from ice_tracker.matching.outputs import RosterHistoryMissing
    from ice_tracker.matching.pipeline import run_matching

    try:
        result = run_matching(args.data_dir or default_data_dir(), args.csllea,
                              args.cache_dir or default_cache_dir(), args.overrides_dir)
    except (RosterHistoryMissing, CslleaError) as error:
        log.error("%s", error)
        return 2
    for stale in result.unused_overrides:
        log.warning("unused override: %s / %s", stale.state, stale.agency)
    log.info("%d/%d agencies matched, %d need review; changed: %s", result.matched, len(result.queries),
             result.needs_review, ", ".join(result.files_changed) or "nothing")
    return 0
