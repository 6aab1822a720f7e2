"""Hand a release's detentions files to the detention derivations (step 4).

Raw ICE detentions workbooks are preferred; DDP's processed stints parquet is used when a release
has no raw workbook. Step 4 writes into a cache folder per release; its small outputs (CSV, JSON)
are then copied into `<data>/data/detention/` to be committed, its parquet intermediates stay.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from ice_tracker.fileio import atomic_write_bytes
from ice_tracker.sources.ddp.store import ReleaseFile, ReleaseStore

log = logging.getLogger(__name__)

SMALL_OUTPUTS = (".csv", ".json")
UNAVAILABLE = "detention step unavailable"


def detention_inputs(rows: list[ReleaseFile], store: ReleaseStore) -> list[Path]:
    """Raw detentions workbooks of a release, else its processed stints parquet files."""
    raw = [store.location(r) for r in rows if r.table == "detentions" and r.file_name.lower().endswith(".xlsx")]
    stints = [store.location(r) for r in rows if r.table == "stints" and r.file_name.lower().endswith(".parquet")]
    return sorted(p for p in (raw or stints) if p.is_file())


def hand_off(release_id: str, store: ReleaseStore, data_dir: Path, cache_dir: Path) -> dict[str, Any]:
    """Run step 4 on the release's detentions files; returns what happened (never raises on bad data)."""
    inputs = detention_inputs(store.rows(release_id), store)
    if not inputs:
        return {"status": "no detentions file"}
    try:
        from ice_tracker.detention import run_detention
        from ice_tracker.detention.readers import DetentionInputError
    except ImportError:
        log.warning("%s: new detentions files in release %s not derived", UNAVAILABLE, release_id)
        return {"status": UNAVAILABLE, "inputs": [p.name for p in inputs]}
    work = cache_dir / "ddp" / "detention" / release_id
    try:
        summary = run_detention(inputs, work)
    except (DetentionInputError, OSError, ValueError) as exc:
        log.error("detention derivations failed for release %s: %s", release_id, exc)
        return {"status": "failed", "error": str(exc), "inputs": [p.name for p in inputs]}
    out = data_dir / "data" / "detention"
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for path in sorted(work.iterdir()):
        if path.suffix in SMALL_OUTPUTS and path.is_file():
            atomic_write_bytes(out / path.name, path.read_bytes())
            written.append((out / path.name).relative_to(data_dir).as_posix())
    log.info("detention outputs for release %s: %s", release_id, ", ".join(written))
    return {"status": "ok", "inputs": [p.name for p in inputs], "outputs": written,
            "rows_read": summary.get("rows_read"), "extract_date": summary.get("extract_date")}
