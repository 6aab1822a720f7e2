"""Read what the other steps wrote into one `Inputs` bundle; an absent file reads as None.

Paths are relative to the data dir, as the daily workflow commits them. Every column is read as text
(as written) and converted where a table is derived, so nothing is silently re-typed.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from ice_tracker.fileio import restore_cell
from ice_tracker.roster.history_files import history_present, read_counts, read_current
from ice_tracker.roster.intervals import HistoryCorrupt

log = logging.getLogger(__name__)

CHANGES = "data/changes.csv"
AGREEMENTS = "agreements.csv"
MATCHES = "data/agency_matches.csv"
MANIFEST = "manifest.csv"
MOA_METADATA = "data/moa_metadata.csv"
DETENTION_DIR = "data/detention"
NATIONAL_DAILY = f"{DETENTION_DIR}/national_daily_population.csv"
ADP_FY = f"{DETENTION_DIR}/adp_fiscal_year.csv"
ADP_MONTHLY = f"{DETENTION_DIR}/adp_monthly.csv"
FACILITIES = f"{DETENTION_DIR}/facilities.csv"
DETENTION_REPORT = f"{DETENTION_DIR}/report.json"


class InputError(ValueError):
    """An input file exists but cannot be used (missing columns, unreadable)."""


def read_table(data_dir: Path, rel: str, required: tuple[str, ...] = ()) -> pd.DataFrame | None:
    """A CSV as text columns (empty cells → ""), or None when absent; InputError if columns are missing."""
    path = Path(data_dir) / rel
    if not path.is_file():
        return None
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise InputError(f"{rel}: unreadable CSV: {exc}") from exc
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise InputError(f"{rel}: missing column(s) {', '.join(missing)}")
    for column in frame.columns:  # cells our CSV writer quoted against formula injection
        quoted = frame[column].str.startswith("'")
        if quoted.any():
            frame.loc[quoted, column] = frame.loc[quoted, column].map(restore_cell)
    return frame


def read_json(data_dir: Path, rel: str) -> dict[str, Any] | None:
    path = Path(data_dir) / rel
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"{rel}: unreadable JSON: {exc}") from exc


@dataclass
class Inputs:
    data_dir: Path
    roster_counts: pd.DataFrame | None = None
    roster_current: pd.DataFrame | None = None
    changes: pd.DataFrame | None = None
    agreements: pd.DataFrame | None = None
    matches: pd.DataFrame | None = None
    manifest: pd.DataFrame | None = None
    moa_metadata: pd.DataFrame | None = None
    national_daily: pd.DataFrame | None = None
    adp_fiscal_year: pd.DataFrame | None = None
    adp_monthly: pd.DataFrame | None = None
    facilities: pd.DataFrame | None = None
    detention_report: dict[str, Any] | None = None


SPECS: dict[str, tuple[str, tuple[str, ...]]] = {
    "changes": (CHANGES, ("list", "roster_date", "change", "agreement_id", "state", "agency", "support_type",
                          "field", "old", "new")),
    "agreements": (AGREEMENTS, ("agreement_id", "moa_url", "snapshot", "state", "agency", "agency_id", "ori",
                                "population_policed", "operating_budget", "zip", "agency_type")),
    "matches": (MATCHES, ("state", "agency", "agency_id", "csllea_name", "match_method", "needs_review")),
    "manifest": (MANIFEST, ("path", "kind", "source_url", "fetched_at", "state", "agency")),
    "moa_metadata": (MOA_METADATA, ("sha256", "paths")),
    "national_daily": (NATIONAL_DAILY, ("date", "n_detained_at_midnight", "provisional")),
    "adp_fiscal_year": (ADP_FY, ("scope", "detention_facility_code", "fiscal_year", "adp_at_midnight")),
    "adp_monthly": (ADP_MONTHLY, ("scope", "detention_facility_code", "month", "adp_at_midnight")),
    "facilities": (FACILITIES, ("detention_facility_code", "detention_facility")),
}


def load_inputs(data_dir: Path, roster_cache: Path | None = None) -> tuple[Inputs, list[str]]:
    """Every input that exists; unusable ones are logged, returned as errors and treated as absent."""
    inputs = Inputs(Path(data_dir))
    errors: list[str] = []
    _load_roster(inputs, errors, roster_cache)
    for name, (rel, required) in SPECS.items():
        try:
            setattr(inputs, name, read_table(data_dir, rel, required))
        except InputError as exc:
            log.error("%s", exc)
            errors.append(str(exc))
    inputs.manifest = with_ddp_release_files(Path(data_dir), inputs.manifest)
    try:
        inputs.detention_report = read_json(data_dir, DETENTION_REPORT)
    except InputError as exc:
        log.error("%s", exc)
        errors.append(str(exc))
    return inputs, errors


def _load_roster(inputs: Inputs, errors: list[str], cache_dir: Path | None) -> None:
    """The newest rosters and the per-roster counts, rebuilt from the roster history (history_files)."""
    out_dir = inputs.data_dir / "data"
    if not history_present(out_dir):
        return
    try:
        inputs.roster_current = read_current(out_dir, cache_dir)
        inputs.roster_counts = read_counts(out_dir, cache_dir)
    except (HistoryCorrupt, ValueError, OSError, KeyError) as exc:
        message = f"data/roster_history: unusable: {exc}"
        log.error("%s", message)
        errors.append(message)


def with_ddp_release_files(data_dir: Path, manifest: pd.DataFrame | None) -> pd.DataFrame | None:
    """The archive manifest plus every DDP release file (the DDP watcher keeps those in per-release manifests),
    as kind `ddp` rows at `releases/ddp/<release_id>/<file name>`, so the feed can announce releases."""
    rows = []
    for release_manifest in sorted((data_dir / "releases" / "ddp").glob("*/manifest.csv")):
        release_id = release_manifest.parent.name
        for row in pd.read_csv(release_manifest, dtype=str, keep_default_na=False).to_dict("records"):
            rows.append({"path": f"releases/ddp/{release_id}/{row.get('file_name', '')}", "kind": "ddp",
                         "source_url": row.get("url", ""), "fetched_at": row.get("fetched_at", ""),
                         "sha256": row.get("sha256", ""), "state": "", "agency": ""})
    if not rows:
        return manifest
    extra = pd.DataFrame(rows)
    return extra if manifest is None else pd.concat([manifest, extra], ignore_index=True).fillna("")
