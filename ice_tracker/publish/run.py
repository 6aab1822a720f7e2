"""`run_publish(data_dir)`: every publish output from what the data dir holds, for the daily job and the CLI.

Outputs (paths relative to the data dir): `data/state_summary.csv`, `plots/*.png`,
`plots/detention_facility/<code>.png`, `data/changes.atom`,
`data/feeds/<ST>.atom` (one per state), `datapackage.json` and `site/`. Each appears when its inputs
exist; nothing archived is ever deleted (a state feed with no change left is derived and removed). An
unusable input is recorded in the summary's `errors` and the rest is still published.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from ice_tracker.fileio import atomic_write_bytes, write_dict_csv, write_json
from ice_tracker.publish import series as S
from ice_tracker.publish.atom import build_feed
from ice_tracker.publish.datapackage import build_datapackage
from ice_tracker.publish.inputs import load_inputs
from ice_tracker.publish.plots import (
    FACILITY_PLOT_DIR,
    FACILITY_PLOT_STAMP,
    facility_plot_stamp,
    render_facility_plots,
    render_plots,
    write_plots,
)
from ice_tracker.publish.site import build_site, write_site
from ice_tracker.states import load_state_table
from ice_tracker.publish.state_feeds import build_state_feeds, write_state_feeds

log = logging.getLogger(__name__)

STATE_SUMMARY = "data/state_summary.csv"
STATE_SUMMARY_COLUMNS = [
    "state", "postal", "population_2020", "participating_agreements", "participating_agencies",
    "agencies_change_since_first", "pending_agreements", "agreements_per_100k", "first_roster_date", "roster_date",
    "pending_roster_date",
]
FEED = "data/changes.atom"
DATAPACKAGE = "datapackage.json"


def run_publish(data_dir: Path, roster_cache: Path | None = None) -> dict[str, Any]:
    """Publish everything; returns {files_changed, plots, site_files, problems, errors, headline}.
    `roster_cache`: where the roster history's per-snapshot table is cached (history_files)."""
    data_dir = Path(data_dir)
    inputs, errors = load_inputs(data_dir, roster_cache)
    changed: list[str] = []
    roster = S.roster_series(inputs.roster_counts)
    summary = S.state_summary(roster)
    if not roster.empty:
        rows = summary[(summary["participating_agreements"] > 0) | (summary["pending_agreements"] > 0)
                       | (summary["agencies_change_since_first"] != 0) | (summary["population_2020"] != "")]
        if write_dict_csv(data_dir / STATE_SUMMARY, STATE_SUMMARY_COLUMNS, rows.to_dict("records")):
            changed.append(STATE_SUMMARY)

    plots = render_plots(roster, summary, inputs)
    changed += [f"plots/{name}" for name in write_plots(plots, data_dir / "plots")]
    # ~700 charts: drawn again only when their inputs (or the drawing) changed
    facility_dir = data_dir / "plots" / FACILITY_PLOT_DIR
    stamp = facility_plot_stamp(data_dir)
    stamp_path = facility_dir / FACILITY_PLOT_STAMP
    if not stamp_path.is_file() or stamp_path.read_text(encoding="utf-8") != stamp:
        facility_plots = render_facility_plots(inputs)
        changed += [f"plots/{FACILITY_PLOT_DIR}/{name}" for name in write_plots(facility_plots, facility_dir)]
        if facility_plots:
            atomic_write_bytes(stamp_path, stamp.encode("utf-8"))

    feed = build_feed(inputs.changes, inputs.manifest)
    if feed is not None and atomic_write_bytes(data_dir / FEED, feed):
        changed.append(FEED)
    state_feeds = build_state_feeds(inputs.changes, inputs.agreements, inputs.manifest)
    changed += write_state_feeds(state_feeds, data_dir)

    package, problems = build_datapackage(data_dir)
    for problem in problems:
        log.warning("data dictionary: %s", problem)
    if write_json(data_dir / DATAPACKAGE, package):
        changed.append(DATAPACKAGE)

    downloads = [{"path": r["path"], "bytes": r["bytes"], "description": r["title"] + ". " + r["description"]}
                 for r in package["resources"]]
    for rel, text in ((DATAPACKAGE, "Data dictionary: every CSV's columns, types, keys and descriptions "
                                    "(Frictionless Data Package)."),
                      (FEED, "Change feed (Atom): one entry per day on which something changed.")):
        if (data_dir / rel).is_file():
            downloads.append({"path": rel, "bytes": (data_dir / rel).stat().st_size, "description": text})
    names = {code: name for name, code in load_state_table().codes.items()}
    site_files = build_site(inputs, roster, summary, downloads, {code: names.get(code, code) for code in state_feeds})
    changed += [f"site/{rel}" for rel in write_site(site_files, data_dir / "site")]

    headline = f"publish: {len(changed)} file(s) updated" if changed else ""
    log.info("publish: %d plot(s), %d site file(s); changed: %s", len(plots), len(site_files),
             ", ".join(changed) or "nothing")
    return {"files_changed": changed, "plots": sorted(plots), "site_files": sorted(site_files),
            "problems": problems, "errors": errors, "headline": headline}
