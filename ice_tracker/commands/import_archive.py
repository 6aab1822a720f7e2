"""`python -m ice_tracker import-archive PATH --origin TEXT`: bring in an archive kept in the original tracker's layout."""

from __future__ import annotations

import argparse
import json
import logging
from dataclasses import asdict
from pathlib import Path

from ice_tracker.config import default_data_dir

HELP = ("import sheets/sheets_<stamp>/*.xlsx and agreements/agreements_<stamp>/<STATE>/<Agency>/*.pdf from an "
        "existing archive (verified, only bytes not already held, source = import)")
log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", type=Path, help="the archive's root (holding sheets/ and agreements/)")
    parser.add_argument("--origin", required=True,
                        help='where the archive comes from, recorded on every imported file, e.g. '
                             '"appelson/Tracking_287g@1946c799ae59af836cbc5b0b5c063237546f9a86"')
    parser.add_argument("--data-dir", type=Path, default=None,
                        help="archive root to import into (default: $ICE_TRACKER_DATA_DIR or the repository root)")


def _run_locked(args: argparse.Namespace) -> int:
    """0: imported, or everything already held; 1: some files were rejected; 2: nothing to import."""
    from ice_tracker.importer import ImportFailed, import_archive

    try:
        summary = import_archive(args.path, (args.data_dir or default_data_dir()).resolve(), args.origin)
    except ImportFailed as exc:
        log.error("%s", exc)
        return 2
    print(json.dumps(asdict(summary), indent=2, sort_keys=True))
    if summary.rejected and not (summary.new_workbooks or summary.new_pdfs or summary.already_held):
        return 2
    return 1 if summary.rejected else 0


def run(args: argparse.Namespace) -> int:
    """Under the data dir's lock, as the daily job (3: another run holds it; nothing changed)."""
    from ice_tracker.runlock import run_locked

    args.data_dir = (args.data_dir or default_data_dir()).resolve()
    return run_locked(args.data_dir, lambda: _run_locked(args))
