"""Roster history: full rebuild and one-new-workbook run, beside the naive openpyxl read.

    python bench/bench_history.py [--fixtures DIR] [--repeat N]

Workbooks are parsed in the sandboxed worker (ice_tracker/sandbox.py) behind the size guard; the
timings include starting that worker and its CPU. The next workbooks are parsed there while this
process derives the current one (roster/cache.py ParseAhead), so on two free cores a rebuild takes
about the longer of the two CPU figures printed, not their sum. Targets (from the roster-history
issue): full rebuild over the 64 fixture workbooks ≤ 1 s; incremental run with one new workbook ≤ 0.3 s. Every timing runs `build_history` in a fresh Python process (cold in-memory
memos; interpreter start and imports excluded), best of N, because the machine is shared and
noisy. Figures:
- naive: openpyxl full object model, every cell value and hyperlink (the usual way to get links);
- full rebuild, nothing cached: parse all 64 workbooks and derive everything;
- full rebuild, parse cache warm: derive everything again for all 64 rosters (what a rule-file
  change costs);
- incremental: the newest workbook arrives (a 26-row pending roster), and the newest snapshot
  arrives (participating 832 rows + pending 26 rows);
- re-run with nothing new.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from ice_tracker.roster.archive import copy_workbooks  # noqa: E402
DEFAULT_FIXTURES = Path(os.environ.get("ICE_TRACKER_FIXTURES", REPO.parent / "shared" / "fixtures")) / "ice287g"
NEWEST_SNAPSHOT = "sheets_20250719_151637"

BUILD = """
import json, resource, sys, time
from pathlib import Path
from ice_tracker.roster.history import build_history
from ice_tracker.sandbox import close_all
start, cpu = time.perf_counter(), time.process_time()
summary = build_history(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]))
close_all()  # the sandboxed parse worker's start, work and exit count too
worker = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"seconds": time.perf_counter() - start,
                  "cpu": time.process_time() - cpu + worker.ru_utime + worker.ru_stime,
                  "cpu_parent": time.process_time() - cpu, "cpu_worker": worker.ru_utime + worker.ru_stime,
                  "parsed": summary["parsed"],
                  "processed": summary["rosters_processed"], "rows": summary["rows"]}))
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


def incremental(fixtures: Path, work: Path, held_back, repeat: int) -> tuple[list[float], list[float], dict, list[float]]:
    """Build the archive without `held_back` workbooks, then time the run that finds them."""
    archive, cache = work / "archive", work / "cache"
    copy_workbooks(fixtures, archive, lambda p: not held_back(p))
    timed_build(archive, archive / "data", cache)
    saved_data, saved_cache = work / "saved-data", work / "saved-cache"
    shutil.copytree(archive / "data", saved_data)
    shutil.copytree(cache, saved_cache)
    copy_workbooks(fixtures, archive, held_back)
    runs, unchanged, last, cpu = [], [], {}, []
    for _ in range(repeat):
        for saved, live in ((saved_data, archive / "data"), (saved_cache, cache)):
            shutil.rmtree(live)
            shutil.copytree(saved, live)
        last = timed_build(archive, archive / "data", cache)
        runs.append(last["seconds"])
        cpu.append(last["cpu"])
        unchanged.append(timed_build(archive, archive / "data", cache)["seconds"])
    return runs, unchanged, last, cpu


def line(label: str, runs: list[float], target: str = "", cpu: list[float] | None = None,
         split: tuple[float, float] | None = None) -> str:
    cpu_text = f"  (cpu {min(cpu):.2f} s" + (f": this process {split[0]:.2f}, parse worker {split[1]:.2f}" if split else "") + \
        ")" if cpu else ""
    return f"  {label:<46}: {min(runs):6.2f} s  {target:<16} runs {', '.join(f'{t:.2f}' for t in runs)}{cpu_text}"


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
        naive = [naive_openpyxl(paths) for _ in range(max(1, args.repeat - 1))]
        cold, warm, cold_cpu, warm_cpu = [], [], [], []
        split = (0.0, 0.0)
        for n in range(args.repeat):
            run = timed_build(args.fixtures, work / f"out{n}", work / f"cache{n}")
            cold.append(run["seconds"])
            cold_cpu.append(run["cpu"])
            if run["cpu"] == min(cold_cpu):
                split = (run["cpu_parent"], run["cpu_worker"])
            shutil.rmtree(work / f"cache{n}" / "blocks")
            (work / f"cache{n}" / "state.json").unlink()
            run = timed_build(args.fixtures, work / f"out{n}", work / f"cache{n}")
            assert run["parsed"] == 0 and run["processed"] == 64, run
            warm.append(run["seconds"])
            warm_cpu.append(run["cpu"])
        one, unchanged, last, one_cpu = incremental(
            args.fixtures, work / "one", lambda p: p.name == "pendingAgencies07182025pm.xlsx", args.repeat)
        assert last["parsed"] == 1 and last["processed"] == 1, last
        snap, _, last, snap_cpu = incremental(args.fixtures, work / "snap", lambda p: p.parent.name == NEWEST_SNAPSHOT,
                                    args.repeat)
        assert last["parsed"] == 2 and last["processed"] == 2, last

    print(f"{len(paths)} workbooks, best of {args.repeat}; fresh process per run, imports excluded")
    print(line("naive openpyxl read, values + hyperlinks", naive))
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores (the machine may be shared)")
    print(line("full rebuild, nothing cached", cold, "target <= 1.0 s", cold_cpu, split))
    print(line("full rebuild, parse cache warm (64 derived)", warm, "target <= 1.0 s", warm_cpu))
    print(line("incremental, one new workbook", one, "target <= 0.3 s", one_cpu))
    print(line("incremental, new snapshot (2 workbooks)", snap, "target <= 0.3 s", snap_cpu))
    print(line("re-run, nothing new", unchanged))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
