"""One call for the daily job and the CLI: roster history + CSLLEA → the three match files."""

from __future__ import annotations

import logging
from pathlib import Path

from ice_tracker.config import default_cache_dir, overrides_for
from ice_tracker.matching.aliases import ALIASES_FILE, MATCHES_FILE, load_aliases, load_overrides
from ice_tracker.matching.csllea import load_csllea_cached, resolve_reference
from ice_tracker.matching.matcher import Reference, match_agencies, unused_overrides
from ice_tracker.matching.outputs import MatchRun, distinct_queries, read_roster_history, write_outputs

log = logging.getLogger(__name__)


def run_matching(data_dir: Path, csllea: str | None = None, cache_dir: Path | None = None,
                 overrides_dir: Path | None = None) -> MatchRun:
    """Match every distinct roster agency and write agreements.csv, data/agency_matches.csv, data/match_review.csv.

    Raises `RosterHistoryMissing` when `data_dir/data/roster_history/snapshots.csv` is absent and `CslleaError`
    when the reference cannot be found or verified; nothing is written in either case.
    """
    data_dir = Path(data_dir)
    rows = read_roster_history(data_dir, Path(cache_dir) / "roster" if cache_dir else None)
    cache = Path(cache_dir or default_cache_dir())
    frame = load_csllea_cached(resolve_reference(csllea, data_dir, cache), cache)
    overrides_dir = Path(overrides_dir or overrides_for(data_dir))
    overrides = load_overrides(overrides_dir / MATCHES_FILE)
    aliases = load_aliases(overrides_dir / ALIASES_FILE)
    queries = distinct_queries(rows)
    matches = match_agencies(queries, Reference(frame), overrides, aliases)
    run = MatchRun(queries, matches, unused_overrides(overrides, queries))
    for stale in run.unused_overrides:
        log.warning("override line %d (%s / %s) matches no roster name any more", stale.line, stale.state, stale.agency)
    run.files_changed = write_outputs(data_dir, rows, matches, frame)
    log.info("matched %d of %d distinct agencies; %d need review; %d roster rows",
             run.matched, len(queries), run.needs_review, len(rows))
    return run
