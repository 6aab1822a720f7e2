"""Keep files over the size limit (50 MB) out of the daily commit, and say so.

GitHub warns above 50 MB and refuses pushes with files above 100 MB, after which no daily commit
would land at all. The daily workflow runs this between `git add -A` and `git commit`: oversized
staged files are unstaged (left on disk, untouched), named in a GitHub error annotation, and the
exit status is 1 so the run is marked failed while everything else is still committed.

    python -m ice_tracker.size_guard [--limit-mb 50]
"""

from __future__ import annotations

import argparse
import logging
import subprocess
import sys
from pathlib import Path

log = logging.getLogger(__name__)
DEFAULT_LIMIT_MB = 50


def staged_files(repo: Path) -> list[str]:
    """Paths added or modified in the index (NUL-separated, so any file name survives)."""
    out = subprocess.run(
        ["git", "diff", "--cached", "--name-only", "--diff-filter=AM", "-z"],
        cwd=repo, check=True, capture_output=True,
    ).stdout  # fmt: skip
    return [name for name in out.decode("utf-8", "surrogateescape").split("\0") if name]


def unstage_oversized(repo: Path, limit_bytes: int) -> list[tuple[str, int]]:
    """Unstage every staged file larger than `limit_bytes`; returns (path, size) of each."""
    too_big = []
    for name in staged_files(repo):
        path = repo / name
        if path.is_file() and path.stat().st_size > limit_bytes:
            too_big.append((name, path.stat().st_size))
    for name, _ in too_big:
        subprocess.run(["git", "reset", "-q", "--", name], cwd=repo, check=True)
    return too_big


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit-mb", type=float, default=DEFAULT_LIMIT_MB)
    parser.add_argument("--repo", type=Path, default=Path("."))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    too_big = unstage_oversized(args.repo, int(args.limit_mb * 1024 * 1024))
    for name, size in too_big:
        # GitHub Actions shows "::error::" lines as annotations on the run.
        sys.stdout.write(f"::error::not committed: {name} is {size / 1024 / 1024:.1f} MB (limit {args.limit_mb:g} MB)\n")
    if too_big:
        log.error("%d file(s) over %g MB left out of the commit", len(too_big), args.limit_mb)
    return 1 if too_big else 0


if __name__ == "__main__":
    raise SystemExit(main())
