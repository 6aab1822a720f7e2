"""`python -m ice_tracker verify`: re-check every archived file's sha256 and format; name the bad ones."""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path

from ice_tracker.config import default_cache_dir, default_data_dir

HELP = ("re-verify the archive: each file's sha256 against its manifest and its format (PDF, workbook, DDP "
        "file); exit 1 naming each tampered, broken or missing file")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", type=Path, default=None,
                        help="archive root holding manifest.csv (default: $ICE_TRACKER_DATA_DIR or the repository root)")
    parser.add_argument("--cache-dir", type=Path, default=None,
                        help="where big DDP files live (default: $ICE_TRACKER_CACHE or ~/.cache/ice_tracker)")
    parser.add_argument("--all", action="store_true", help="list every file, not only the ones with a problem")


def run(args: argparse.Namespace) -> int:
    from ice_tracker.archive_verify import PROBLEMS, verify_archive

    data_dir = args.data_dir or default_data_dir()
    findings = verify_archive(data_dir, args.cache_dir or default_cache_dir())
    for finding in findings:
        if args.all or finding.status != "ok":
            detail = f": {finding.detail}" if finding.detail else ""
            print(f"{finding.status.upper():<12} {finding.path}{detail}")
    counts = Counter(f.status for f in findings)
    print(f"{len(findings)} archived files: " + ", ".join(f"{n} {status}" for status, n in sorted(counts.items())))
    return 1 if any(counts[p] for p in PROBLEMS) else 0
