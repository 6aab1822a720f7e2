"""Re-verify the archive: every file's bytes against its manifest sha256, and its format again.

What `python -m ice_tracker verify` runs. Reads manifest.csv (workbooks and agreement PDFs) and every
DDP release manifest; a file whose bytes changed is `tampered`, one that no longer opens as its
format is `broken`, one that is gone is `missing`. Files in data/quarantine.csv are listed as
`quarantined` (already known and recorded). Big DDP files that live only in the cache are checked
when the cache holds them, else reported as `not in cache` (not an error: the cache is disposable).
Nothing is changed. Format checks parse strangers' files, so they run in the sandboxed worker.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from ice_tracker.fileio import read_dict_csv, sha256_file
from ice_tracker.formats import FormatError, check_pdf, check_release_file
from ice_tracker.quarantine import QUARANTINE_FILE
from ice_tracker.sandbox import SandboxFailure, run_limited
from ice_tracker.sources.ice287g.html_table import read_archived_roster
from ice_tracker.xlsx import WorkbookError

log = logging.getLogger(__name__)

PROBLEMS = ("tampered", "broken", "missing")
WORKBOOK_KINDS = ("participating", "pending")
PDF_KINDS = ("moa", "addendum")


@dataclass
class Finding:
    path: str
    status: str  # ok / tampered / broken / missing / quarantined / not in cache
    detail: str = ""


def _format_problem(path: Path, kind: str, table: str = "") -> str:
    """'' when the file opens as its kind, else why not."""
    try:
        if kind in WORKBOOK_KINDS:
            run_limited("parse", read_archived_roster, path)  # a workbook, or a captured page's table
        elif kind in PDF_KINDS:
            run_limited("parse", check_pdf, path)
        elif kind == "ddp":
            fmt = PurePosixPath(path.name).suffix.lower().lstrip(".")
            run_limited("ddp_parse", check_release_file, path, fmt, table)
    except (WorkbookError, FormatError, SandboxFailure, OSError) as exc:
        return str(exc)
    return ""


def _check(path: Path, relative: str, sha256: str, kind: str, table: str, quarantined: set[str]) -> Finding:
    if not path.is_file():
        return Finding(relative, "missing")
    actual = sha256_file(path)
    if actual != sha256:
        return Finding(relative, "tampered", f"sha256 {actual[:16]}… but the manifest says {sha256[:16]}…")
    if sha256 in quarantined:
        return Finding(relative, "quarantined", f"listed in {QUARANTINE_FILE}")
    problem = _format_problem(path, kind, table)
    return Finding(relative, "broken", problem) if problem else Finding(relative, "ok")


def verify_archive(data_dir: Path, cache_dir: Path | None = None) -> list[Finding]:
    """One finding per archived file (manifest order, then DDP releases in name order)."""
    data_dir = Path(data_dir)
    quarantined = {row["sha256"] for row in read_dict_csv(data_dir / QUARANTINE_FILE)}
    findings = []
    for row in read_dict_csv(data_dir / "manifest.csv"):
        relative = row.get("path", "")
        findings.append(_check(data_dir / relative, relative, row.get("sha256", ""), row.get("kind", ""), "",
                               quarantined))
    for manifest in sorted((data_dir / "releases" / "ddp").glob("*/manifest.csv")):
        for row in read_dict_csv(manifest):
            relative = row.get("path", "")
            if row.get("stored") == "cache":
                if cache_dir is None or not (Path(cache_dir) / relative).is_file():
                    findings.append(Finding(relative, "not in cache"))
                    continue
                path = Path(cache_dir) / relative
            else:
                path = data_dir / relative
            findings.append(_check(path, relative, row.get("sha256", ""), "ddp", row.get("table", ""), quarantined))
    return findings
