"""Hand a release's detentions files to the detention derivations (`python -m ice_tracker detention`).

The derivations run in the sandboxed worker (ice_tracker/sandbox.py, `ddp_parse` limits) after the
size guard, so a detentions file that would abort or exhaust the reader is quarantined (kept,
listed in data/quarantine.csv and failures.csv, skipped by later runs) instead of killing the job.
Raw ICE detentions workbooks are preferred; DDP's processed stints parquet is used when a release
has no raw workbook. The derivations write into a cache folder per release; its small outputs (CSV, JSON)
are then copied into `<data>/data/detention/` to be committed, with the facility-day parquet (small, and
the source of the per-facility charts); the other parquet intermediates stay in the cache. Each raw
workbook's typed table is kept in `<cache>/ddp/detention/workbooks/` keyed by its sha256, so a
re-derivation (new rules, a rerun) never parses the 280 MB workbooks again.
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ice_tracker.archive import utc_iso
from ice_tracker.failures import FailureLog
from ice_tracker.fileio import atomic_write_bytes
from ice_tracker.quarantine import Quarantine, rules_version
from ice_tracker.roster.cache import code_fingerprint
from ice_tracker.sandbox import SandboxFailure, run_limited
from ice_tracker.sources.ddp.store import ReleaseFile, ReleaseStore
from ice_tracker.xlsx import WorkbookError
from ice_tracker.xlsx_guard import WorkbookLimits, check_workbook

log = logging.getLogger(__name__)

SMALL_OUTPUTS = (".csv", ".json")
# The facility-day table is small (~1.3 MB for a whole release) and publish draws one chart per facility from it.
COMMITTED_PARQUET = ("facility_daily_population.parquet",)
UNAVAILABLE = "detention step unavailable"
QUARANTINE_KIND = "DDP detentions file"


def detention_rows(rows: list[ReleaseFile], store: ReleaseStore) -> list[ReleaseFile]:
    """Raw detentions workbooks of a release, else its processed stints parquet files (held ones)."""
    raw = [r for r in rows if r.table == "detentions" and r.file_name.lower().endswith(".xlsx")]
    stints = [r for r in rows if r.table == "stints" and r.file_name.lower().endswith(".parquet")]
    return sorted((r for r in (raw or stints) if store.location(r).is_file()), key=lambda r: store.location(r))


def detention_rules() -> str:
    """The version of the code and limits that judge a detentions file (see quarantine.py)."""
    return rules_version(code_fingerprint("ice_tracker.xlsx_guard", "ice_tracker.detention.readers",
                                          "ice_tracker.detention.run"))


def guard_input(path: Path) -> None:
    """The size guard for one input (run in the sandboxed worker; parquet needs none)."""
    if path.suffix.lower() == ".xlsx":
        check_workbook(path, WorkbookLimits.named("ddp"))


def _usable(release_id: str, store: ReleaseStore, data_dir: Path, failures: FailureLog | None) -> list[ReleaseFile]:
    """The release's detentions files that are not quarantined and pass the size guard; the others
    are quarantined now (kept in the archive, skipped from now on)."""
    quarantine, rules = Quarantine(data_dir), detention_rules()
    usable = []
    for row in detention_rows(store.rows(release_id), store):
        held = quarantine.holds(row.sha256, rules)
        if held is not None:
            log.warning("skipping quarantined detentions file %s: %s", row.path, held.reason)
            continue
        try:
            run_limited("ddp_parse", guard_input, store.location(row))
        except (WorkbookError, SandboxFailure) as exc:
            quarantine.add(row.sha256, rules, QUARANTINE_KIND, row.path, str(exc), _now(), failures)
            continue
        usable.append(row)
    return usable


def _now() -> str:
    return utc_iso(datetime.now(timezone.utc))


def hand_off(release_id: str, store: ReleaseStore, data_dir: Path, cache_dir: Path,
             failures: FailureLog | None = None) -> dict[str, Any]:
    """Run the detention derivations on the release's detentions files in the sandboxed worker; returns what happened
    (never raises on bad data: a file that kills or starves the derivations is quarantined)."""
    rows = _usable(release_id, store, data_dir, failures)
    inputs = [store.location(r) for r in rows]
    if not inputs:
        return {"status": "no usable detentions file"}
    try:
        from ice_tracker.detention import run_detention
        from ice_tracker.detention.readers import DetentionInputError
    except ImportError:
        log.warning("%s: new detentions files in release %s not derived", UNAVAILABLE, release_id)
        return {"status": UNAVAILABLE, "inputs": [p.name for p in inputs]}
    work = cache_dir / "ddp" / "detention" / release_id
    try:
        summary = run_limited("ddp_parse", run_detention, inputs, work, None, None, cache_dir / "ddp" / "detention" / "workbooks")
    except SandboxFailure as exc:  # which of several inputs did it cannot be told: all wait for new rules
        quarantine = Quarantine(data_dir)
        for row in rows:
            quarantine.add(row.sha256, detention_rules(), QUARANTINE_KIND, row.path, str(exc), _now(), failures)
        return {"status": "quarantined", "error": str(exc), "inputs": [p.name for p in inputs]}
    except (DetentionInputError, OSError, ValueError) as exc:
        log.error("detention derivations failed for release %s: %s", release_id, exc)
        return {"status": "failed", "error": str(exc), "inputs": [p.name for p in inputs]}
    out = data_dir / "data" / "detention"
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for path in sorted(work.iterdir()):
        if (path.suffix in SMALL_OUTPUTS or path.name in COMMITTED_PARQUET) and path.is_file():
            atomic_write_bytes(out / path.name, path.read_bytes())
            written.append((out / path.name).relative_to(data_dir).as_posix())
    log.info("detention outputs for release %s: %s", release_id, ", ".join(written))
    return {"status": "ok", "inputs": [p.name for p in inputs], "outputs": written,
            "rows_read": summary.get("rows_read"), "extract_date": summary.get("extract_date")}
