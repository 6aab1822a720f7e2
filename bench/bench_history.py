"""Roster history: full rebuild and one-new-workbook run, beside the naive openpyxl read.

    python bench/bench_history.py [--fixtures DIR] [--repeat N]

Targets (issue step 2): full rebuild of the 64 fixture workbooks ≤ 1 s; incremental run with one
new workbook ≤ 0.3 s. Each timing runs in a fresh Python process (no warm in-memory memo caches;
imports excluded), best of N, because the machine is shared and noisy.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_FIXTURES = REPO.parent / "shared" / "fixtures" / "ice287g"

BUILD = """
import json, sys, time
from pathlib import Path
from ice_tracker.roster.history import build_history
start = time.perf_counter()
summary = build_history(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]))
print(json.dumps({"seconds": time.perf_counter() - start, "parsed": summary["parsed"], "rows": summary["rows"]}))
"""


def timed_build(data_dir: Path, out_dir: Path, cache_dir: Path) -> dict:
    result = subprocess.run([sys.executable, "-c", BUILD, str(data_dir), str(out_dir), str(cache_dir)],
                            cwd=REPO, check=True, capture_output=True, text=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def naive_openpyxl(paths: list[Path]) -> float:
    """Full openpyxl object model (what reading hyperlinks the usual way costs)."""
    import openpyxl

    start = time.perf_counter()
    for path in paths:
        sheet = openpyxl.load_workbook(path).worksheets[0]
        for row in sheet.iter_rows():
            for cell in row:
                _ = (cell.value, cell.hyperlink.target if cell.hyperlink else None)
    return time.perf_counter() - start


def copy_archive(source: Path, target: Path, skip: str = "") -> None:
    for path in source.glob("sheets/*/*.xlsx"):
        if skip and path.name == skip and path.parent.name.endswith("151637"):
            continue
        destination = target / path.relative_to(source)
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, destination)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fixtures", type=Path, default=DEFAULT_FIXTURES)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    paths = sorted(args.fixtures.glob("sheets/*/*.xlsx"))
    if not paths:
        print(f"no workbooks under {args.fixtures}/sheets", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        naive = min(naive_openpyxl(paths) for _ in range(max(1, args.repeat - 1)))

        full = []
        for n in range(args.repeat):
            full.append(timed_build(args.fixtures, work / f"full{n}", work / f"cache{n}")["seconds"])

        # incremental: the archive without the newest participating workbook, built and cached;
        # then that workbook arrives (its parse-cache entry removed before every repetition)
        newest = "participatingAgencies07182025pm.xlsx"
        archive = work / "archive"
        copy_archive(args.fixtures, archive, skip=newest)
        cache = work / "inc-cache"
        timed_build(archive, archive / "data", cache)
        saved_data, saved_cache = work / "saved-data", work / "saved-cache"
        shutil.copytree(archive / "data", saved_data)
        shutil.copytree(cache, saved_cache)
        copy_archive(args.fixtures, archive)
        incremental, unchanged = [], []
        for _ in range(args.repeat):
            for saved, live in ((saved_data, archive / "data"), (saved_cache, cache)):
                shutil.rmtree(live)
                shutil.copytree(saved, live)
            run = timed_build(archive, archive / "data", cache)
            assert run["parsed"] == 1, run
            incremental.append(run["seconds"])
            unchanged.append(timed_build(archive, archive / "data", cache)["seconds"])

    print(f"{len(paths)} workbooks, best of {args.repeat} (fresh process each, imports excluded)")
    print(f"  naive openpyxl full read with hyperlinks : {naive:6.2f} s")
    print(f"  full rebuild (empty parse cache)         : {min(full):6.2f} s   target <= 1.0 s  runs {', '.join(f'{t:.2f}' for t in full)}")
    print(f"  incremental, one new workbook            : {min(incremental):6.2f} s   target <= 0.3 s  runs {', '.join(f'{t:.2f}' for t in incremental)}")
    print(f"  re-run, nothing new                      : {min(unchanged):6.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
