"""Bench: the whole daily job at today's scale (~2,400 agreements, a PDF each), end to end.

Builds a scale replica at run time (tests/scale_replica.py: fixture rows made unique, fixture PDFs
with varied bytes) behind the loopback ICE site, plus a small DDP release behind the loopback DDP
site, then runs the real `python scraper.py` (a subprocess) and prints, per run: wall time, peak
memory (largest process of the job, workers included), bytes downloaded and archive growth, the
MOA work done and left, and the commit headline:

  1. the first run, with the MOA budget (`--moa-budget`, as the workflow runs it);
  2. the runs that complete the backlog (metadata of every PDF first, then full-text OCR), at most
     `--max-runs`. The time to every PDF's metadata is measured when a run gets through the
     metadata pass (the reader reports when it ended: the full-text pass after it is not counted);
     otherwise it is projected from the reader's measured rate (labelled PROJECTED). What is left
     is stood in for from rows already read, so that the next runs can be timed;
  3. a no-change run of the whole daily job;
  4. a day with 20 changed agreements (amended with a new PDF, added, removed).

Then the agreement reader (worker pool) beside the same reader run sequentially on the same PDFs:
text-layer PDFs per second end to end, and seconds per scanned PDF for its metadata
(bench/bench_moa.py times both beside the code before the pdfium text layer).

    python bench/bench_scale.py            # short: 40 agreements, quick PDFs only (minutes)
    CI=true python bench/bench_scale.py    # .ci/run: short, budget 0.5 min, one run, no reader figures (~2 min)
    python bench/bench_scale.py --full     # 2,400 agreements, budget 45 min per run (hours)
    python bench/bench_scale.py --full --moa-budget 36 --max-runs 1 --no-reader-bench
                                           # 2,400: the first run measured to every PDF's metadata (~40 min)
    python bench/bench_scale.py --full --moa-budget 3 --max-runs 1 --no-reader-bench
                                           # 2,400: non-MOA steps measured, the reader's backlog projected

Targets (2 cores): first run, everything except full-text OCR, <= 30 min; whole-job no-change
run <= 60 s; 20-change day <= 90 s; text-layer PDFs >= 2/s; scanned PDFs' metadata <= 15 s each.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from ice_tracker.moa.ocr import DEFAULT_DPI, find_tesseract  # noqa: E402
from ice_tracker.moa.handwriting import find_date_reader  # noqa: E402
from ice_tracker.moa.table import STATS, ArchivedPdf, process, run_moa  # noqa: E402
from tests.ddp_files import detentions_workbook, stints_parquet, table_workbook  # noqa: E402
from tests.ddp_site import DdpSite  # noqa: E402
from tests.ice_site import IceSite  # noqa: E402
from tests.scale_replica import Replica  # noqa: E402

FIRST_DAY = dt.date(2026, 8, 1)
TARGETS = {"first": 30 * 60, "no_change": 60, "changes": 90}
# Short mode (CI) varies only text-layer fixtures with typed or form-field dates: it measures the
# job's machinery in minutes; OCR and the handwriting reader are measured by --full and bench_moa.
QUICK = {"ArcadiaPDFL_TFM_MOA_030425.pdf", "KansasBureauOfInv_TFM_MOA_02182025.pdf",
         "hardeeCoSheriffsOffice_WSO_MOA_02.26.2025.pdf", "lakeCountySherrifsOffice_TF_MOA_03122025.pdf",
         "palmBeachCoSheriffsOffice_WSO_MOA_02.26.2025.pdf"}


def default_fixtures() -> Path:
    env = os.environ.get("ICE_TRACKER_FIXTURES")
    for candidate in ([Path(env)] if env else []) + [REPO.parent / "shared" / "fixtures", Path("/work/shared/fixtures")]:
        if (candidate / "ice287g" / "agreements").is_dir():
            return candidate
    return REPO.parent / "shared" / "fixtures"


def folder_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.is_dir() else 0


def run_daily(data_dir: Path, cache_dir: Path, ice: IceSite, ddp: DdpSite, extra: list[str]) -> dict[str, Any]:
    """One `python scraper.py` run: wall time, peak memory of the process tree's largest process, bytes."""
    before = folder_bytes(data_dir)
    command = [sys.executable, "scraper.py", "--data-dir", str(data_dir), "--cache-dir", str(cache_dir),
               "--page-url", ice.url, "--ddp-page", ddp.raw_url, "--ddp-page", ddp.processed_url, *extra]
    started = time.perf_counter()
    process_ = subprocess.Popen(command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    stderr_tail: list[str] = []
    assert process_.stderr is not None
    for line in process_.stderr:
        stderr_tail = (stderr_tail + [line])[-30:]
    _, status, usage = os.wait4(process_.pid, 0)
    wall = time.perf_counter() - started
    code = os.waitstatus_to_exitcode(status)
    last = json.loads((data_dir / "data" / "last_run.json").read_text(encoding="utf-8"))
    derive = last["steps"].get("derive", {})
    moa = derive.get("moa", {})
    scrape = last["steps"].get("287g", {})
    return {
        "exit": code, "wall": wall, "peak_mb": usage.ru_maxrss / 1024,
        "downloaded": scrape.get("http", {}).get("bytes_downloaded", 0), "growth": folder_bytes(data_dir) - before,
        "moa": moa, "message": last.get("commit_message", ""), "log": "".join(stderr_tail),
        "steps": step_costs(last),
    }


STEP_ORDER = ["287g", "releases", "history", "matching", "moa", "publish", "commit"]


def step_costs(last: dict[str, Any]) -> dict[str, dict[str, float]]:
    """Per step of the job: wall seconds and peak memory so far, from last_run.json's timings; the
    derivations apart ('commit': the derive step's remainder, moving the staged outputs into place)."""
    top = last.get("timings", {})
    derive = last["steps"].get("derive", {})
    inner = derive.get("timings", {}) if isinstance(derive, dict) else {}
    costs = {name: top[name] for name in ("287g", "releases") if name in top}
    costs.update({name: inner[name] for name in ("history", "matching", "moa", "publish") if name in inner})
    if "derive" in top:
        costs["commit"] = {"seconds": round(top["derive"]["seconds"] - sum(v["seconds"] for v in inner.values()), 2),
                           "peak_rss_mb": top["derive"]["peak_rss_mb"]}
    for name, fetch in (("287g", last["steps"].get("287g", {})), ("releases", last["steps"].get("releases", {}))):
        if name in costs:
            costs[name]["bytes"] = fetch.get("http", {}).get("bytes_downloaded", 0)
            costs[name]["requests"] = fetch.get("http", {}).get("requests", 0)
    return costs


def non_moa_seconds(result: dict[str, Any]) -> float:
    return sum(v["seconds"] for k, v in result["steps"].items() if k != "moa")


def verdict(value: float, target: float) -> str:
    return "MET" if value <= target else "NOT MET"


def print_steps(result: dict[str, Any]) -> None:
    """One line per step: wall time, peak memory so far, bytes downloaded (and the log's end when a step failed)."""
    if result["exit"] != 0:
        print("    the run's log ends:\n" + "".join(f"      {line}" for line in result["log"].splitlines(True)[-12:]))
    for name in STEP_ORDER:
        cost = result["steps"].get(name)
        if cost:
            fetched = f"  downloaded {cost['bytes'] / 1e6:8.1f} MB in {cost['requests']:,} requests" if "bytes" in cost else ""
            print(f"    {name:<10} {cost['seconds']:8.1f} s   peak so far {cost['peak_rss_mb']:7.0f} MB{fetched}")
    print(f"    {'not moa':<10} {non_moa_seconds(result):8.1f} s   (every step but the agreement reader)")


def describe(name: str, result: dict[str, Any], target: float | None = None) -> str:
    moa = result["moa"]
    backlog = moa.get("backlog", {})
    goal = f"(<= {target:.0f} s {verdict(result['wall'], target)})" if target else ""
    return (f"{name:<22} {result['wall']:8.1f} s {goal:<20} peak {result['peak_mb']:7.0f} MB  "
            f"downloaded {result['downloaded'] / 1e6:8.1f} MB  archive +{result['growth'] / 1e6:8.1f} MB  "
            f"moa read {moa.get('read', '?')}/{moa.get('pdfs', '?')} in {moa.get('seconds', '?')} s, "
            f"left {backlog.get('metadata', '?')} metadata + {backlog.get('full_text', '?')} full text; "
            f"exit {result['exit']}; commit: {result['message']!r}")


def ddp_release(site: DdpSite) -> None:
    site.add_raw("Arrests", table_workbook("arrests"), "2026-ICLI-00005_Arrests_FY26_20260311_Redacted.xlsx")
    site.add_raw("Detentions", detentions_workbook(), "2026-ICLI-00005_Detentions_FY26_20260311_Redacted.xlsx")
    site.add_processed("Detention stints", "detention-stints-latest.parquet", stints_parquet())


def fill_moa_backlog(data_dir: Path, replica: Replica) -> tuple[int, int] | None:
    """Stand in for the agreement reader's unfinished backlog so the daily runs after it can be timed.

    Every archived PDF not yet in data/moa_metadata.csv gets the row and text of a PDF already read
    from the same fixture (replica PDFs differ from their fixture only after its end), and rows
    still waiting for full-text OCR are marked done. Used only when the real backlog cannot finish
    within the bench's runs; the bench says so. Returns (rows filled in, rows whose full text is
    marked done), or None when no PDF was read yet to stand in."""
    from ice_tracker.fileio import read_dict_csv, write_dict_csv
    from ice_tracker.moa.table import COLUMNS, METADATA, TEXT_DIR, scan_archive

    meta = data_dir / METADATA
    rows = {row["sha256"]: row for row in read_dict_csv(meta)}
    donors: dict[int | None, dict[str, str]] = {}
    for row in rows.values():
        if row.get("status") == "ok":
            donors.setdefault(replica.pdfs.get(row["paths"].split(";")[0].rsplit("/", 1)[-1]), row)
    if not donors:
        return None  # nothing read yet to stand in: the runs below continue the real backlog
    fallback = next(iter(donors.values()))
    filled = 0
    for sha, item in scan_archive(data_dir).items():
        if sha in rows:
            continue
        donor = donors.get(replica.pdfs.get(item.paths[0].rsplit("/", 1)[-1]), fallback)
        rows[sha] = {**donor, "sha256": sha}
        (data_dir / TEXT_DIR / f"{sha}.txt").write_bytes((data_dir / TEXT_DIR / f"{donor['sha256']}.txt").read_bytes())
        filled += 1
    marked = 0
    for row in rows.values():
        if row.get("ocr") == "pending":
            row["ocr"] = "used"
            marked += 1
    write_dict_csv(meta, COLUMNS, [rows[sha] for sha in sorted(rows)])
    return filled, marked


def backlog_runs(args: argparse.Namespace, run: Any, first: dict[str, Any]) -> tuple[list[dict[str, Any]], bool]:
    """The budgeted runs after the first, until the backlog is done or `--max-runs` is reached."""
    runs = [first]
    for number in range(2, args.max_runs + 1):
        if not runs[-1]["moa"].get("stopped_by_budget"):
            break
        again = run()
        runs.append(again)
        print(describe(f"backlog run {number}", again))
        if again["moa"].get("read") == runs[-2]["moa"].get("read") and again["moa"].get("backlog") == runs[-2]["moa"].get("backlog"):
            print("no progress: the budget ends before a worker finishes its first PDF on this machine "
                  "(raise --moa-budget)")
            break
    return runs, not runs[-1]["moa"].get("stopped_by_budget")


def metadata_measured(runs: list[dict[str, Any]]) -> tuple[float, int] | None:
    """(seconds, runs) until every PDF's metadata was read, measured: the walls of the runs before,
    plus the run that finished the metadata pass without its full-text pass (the reader reports when
    its metadata pass ended); None when no run finished it."""
    until = 0.0
    for count, result in enumerate(runs, 1):
        moa = result["moa"]
        if moa.get("metadata_seconds") is not None and moa.get("backlog", {}).get("metadata", 1) == 0:
            return until + result["wall"] - (float(moa.get("seconds", 0)) - float(moa["metadata_seconds"])), count
        until += result["wall"]
    return None


def first_run_figures(args: argparse.Namespace, runs: list[dict[str, Any]], complete: bool) -> dict[str, float]:
    """Time to every PDF's metadata (measured, or projected from the measured MOA rate) and the rest."""
    first = runs[0]
    figures = {"first_not_moa": non_moa_seconds(first)}
    metadata_runs = [r for r in runs if r["moa"].get("processed")]
    processed = sum(r["moa"].get("processed", 0) for r in runs)
    moa_seconds = sum(float(r["moa"].get("seconds", 0)) for r in runs)
    total = int(first["moa"].get("pdfs", 0))
    left = runs[-1]["moa"].get("backlog", {})
    print(f"\nfirst run, every step but the agreement reader: {figures['first_not_moa']:.1f} s "
          f"(the 30-min first-run budget holds these plus the reader's metadata pass)")
    metadata_done = metadata_measured(runs)
    if metadata_done is not None:  # the metadata pass ended inside a run: measured, whatever came after it
        until, count = metadata_done
        figures["first"] = until
        at_scale = verdict(until, TARGETS['first']) if total >= 2400 else f"not comparable with {total:,} PDFs; --full"
        print(f"until every PDF's metadata is read: {until:.1f} s ({until / 60:.1f} min) in {count} run(s), measured: "
              f"every step of those runs but the full-text pass that followed the metadata pass "
              f"(target <= {TARGETS['first'] / 60:.0f} min at 2,400: {at_scale})")
        if complete:
            figures["complete"] = sum(r["wall"] for r in runs)
            print(f"until the whole backlog (full text too) is done: {figures['complete']:.1f} s, measured")
        return figures
    rate = processed / moa_seconds if moa_seconds else 0.0
    projected = figures["first_not_moa"] + (total / rate if rate else float("inf"))
    figures["first"] = projected
    figures["first_projected"] = 1
    print(f"agreement reader: {processed:,} PDFs read in {moa_seconds:.0f} s of {len(metadata_runs)} budgeted run(s) "
          f"({rate:.3f} PDFs/s); left {left.get('metadata', '?')} metadata + {left.get('full_text', '?')} full text")
    print(f"until every PDF's metadata is read: PROJECTED {projected / 60:.0f} min at that rate "
          f"(= not-moa steps + {total:,} PDFs / rate; {projected / (args.moa_budget * 60):.1f} runs of the "
          f"{args.moa_budget:g}-min budget); target <= {TARGETS['first'] / 60:.0f} min: "
          f"{verdict(projected, TARGETS['first'])} (projected, not run to the end)")
    return figures


def end_to_end(args: argparse.Namespace, work: Path) -> dict[str, float]:
    replica = Replica.build(args.fixtures, args.agreements, pending=max(10, args.agreements // 20),
                            only=None if args.full else QUICK)
    data_dir, cache_dir = work / "repo", work / "cache"
    csllea = args.fixtures / "csllea" / "ICPSR_38771" / "DS0001" / "38771-0001-Data.rda"
    if csllea.is_file():  # the matching's reference file, as a repository checkout has it (never downloaded here)
        (data_dir / "reference" / "csllea").mkdir(parents=True)
        shutil.copy(csllea, data_dir / "reference" / "csllea")
    budget = ["--moa-budget", f"{args.moa_budget:g}"]
    with IceSite(args.fixtures) as ice, DdpSite() as ddp:
        ddp_release(ddp)
        ice.serve_replica(replica, FIRST_DAY)
        print(f"replica: {len(replica.rows)} participating agreements, {len(replica.pending)} pending, "
              f"{len(replica.pdfs)} distinct PDFs (from {len(replica.fixtures)} fixtures); MOA budget {args.moa_budget:g} min/run")
        print(f"load before the first run: {os.getloadavg()[0]:.2f} (1-min average; the machine is shared)\n")

        def run() -> dict[str, Any]:
            return run_daily(data_dir, cache_dir, ice, ddp, budget)

        first = run()
        print(describe("first run", first))
        print_steps(first)
        runs, complete = backlog_runs(args, run, first)
        figures = first_run_figures(args, runs, complete)
        if not complete:
            stood_in = fill_moa_backlog(data_dir, replica)
            if stood_in is None:
                print("no PDF read yet to stand in for the backlog: the runs below continue it (their reader time is budgeted)")
            else:
                print(f"the bench stood in for the reader's backlog ({stood_in[0]:,} PDFs' metadata from rows already read, "
                      f"{stood_in[1]:,} scans' full text marked done), so the daily runs below can be timed as they "
                      "will run once it is done")
        quiet = run()
        print(f"\n{describe('no-change run', quiet, TARGETS['no_change'])}  load {os.getloadavg()[0]:.2f}")
        print_steps(quiet)
        figures["no_change"] = quiet["wall"]
        replica.change(day=1, changed=args.changes)
        ice.serve_replica(replica, FIRST_DAY + dt.timedelta(days=1))
        day = run()
        print(f"\n{describe(f'{args.changes}-change day', day, TARGETS['changes'])}  load {os.getloadavg()[0]:.2f}")
        print_steps(day)
        figures["changes"] = day["wall"]
        figures["changes_not_moa"] = non_moa_seconds(day)
        figures["changes_moa"] = day["steps"].get("moa", {}).get("seconds", 0.0)
        figures["changes_read"] = day["moa"].get("processed", 0)
    return figures


def reader_figures(args: argparse.Namespace, work: Path) -> None:
    """Ours (worker pool, metadata first) beside the same reader run sequentially in one process, on
    the same PDFs (bench/bench_moa.py times it beside the code before the pdfium text layer)."""
    import csv

    labels = {r["file"]: r["kind"] for r in csv.DictReader(open(REPO / "tests" / "data" / "moa_labels.csv", encoding="utf-8"))}
    pdfs = sorted((args.fixtures / "ice287g" / "agreements").rglob("*.pdf"))
    text = [p for p in pdfs if labels.get(p.name) == "text_layer" and (args.full or p.name in QUICK)]
    scans = [p for p in pdfs if labels.get(p.name) == "scanned"][: args.scans]
    copies = 1 if not args.full else 3
    archive = work / "text_archive"
    for copy in range(copies):
        for path in text:
            target = archive / "agreements" / "run" / "STATE" / f"Agency_{copy}" / path.name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(path.read_bytes() + f"\n% copy {copy}\n".encode())
    count = copies * len(text)
    started = time.perf_counter()
    run_moa(archive, work / "text_out", overrides_dir=work)
    ours = time.perf_counter() - started
    ocr, reader = find_tesseract(None, DEFAULT_DPI), find_date_reader()
    if ocr is not None:  # as the daily job runs it: the full-text pass reuses the metadata pass's pages
        ocr = dataclasses.replace(ocr, cache_dir=work / "ocr_cache")
    stats = dict.fromkeys(STATS, 0.0)
    started = time.perf_counter()
    for path in sorted(archive.rglob("*.pdf")):
        rel = path.relative_to(archive).as_posix()
        process(archive, work / "seq_out", ArchivedPdf("x" * 64, [rel]), ocr, reader, stats)
    sequential = time.perf_counter() - started
    print(f"\nAgreement reader on the same {count} text-layer PDFs (metadata + full text, OCR and handwriting as needed):")
    print(f"  ours (worker pool)         {count / ours:5.2f} PDFs/s ({ours:6.1f} s)   target >= 2/s")
    print(f"  sequential, one process    {count / sequential:5.2f} PDFs/s ({sequential:6.1f} s)   "
          "(today's code beside ours: python bench/bench_moa.py)")
    print(f"\nScanned PDFs, seconds each (one at a time, OCR {DEFAULT_DPI} dpi):")
    print(f"  {'file':<42} {'metadata (ours)':>16} {'full text (ours)':>18}   target metadata <= 15 s")
    for path in scans:
        rel_dir = work / "scan" / "agreements" / "run" / "STATE" / "Agency"
        rel_dir.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, rel_dir / path.name)
        item = ArchivedPdf("y" * 64, [f"agreements/run/STATE/Agency/{path.name}"])
        times = []
        for phase in ("metadata", "full"):
            started = time.perf_counter()
            process(work / "scan", work / "scan_out", item, ocr, reader, stats, phase=phase)
            times.append(time.perf_counter() - started)
        print(f"  {path.name[:42]:<42} {times[0]:14.1f} s {times[1]:16.1f} s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="2,400 agreements and the workflow's 45-minute budget")
    parser.add_argument("--agreements", type=int, default=None, help="participating agreements (short 40, full 2400)")
    parser.add_argument("--moa-budget", type=float, default=None, help="MOA minutes per run (short 1, full 45)")
    parser.add_argument("--changes", type=int, default=20, help="agreements changed on the change day")
    parser.add_argument("--max-runs", type=int, default=None,
                        help="runs spent on the reader's backlog before projecting the rest from its measured rate "
                             "(short 30, full 2)")
    parser.add_argument("--no-reader-bench", action="store_true",
                        help="skip the agreement reader's side-by-side figures (bench_moa covers them)")
    parser.add_argument("--scans", type=int, default=None, help="scanned PDFs timed one at a time (short 0, full 4)")
    parser.add_argument("--fixtures", type=Path, default=default_fixtures(), help="the shared fixtures folder")
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[attr-defined]  # figures appear as they come
    ci = os.environ.get("CI", "").lower() == "true" and not args.full
    args.agreements = args.agreements or (2400 if args.full else 40)
    args.moa_budget = args.moa_budget or (45.0 if args.full else 0.5 if ci else 1.0)
    if ci:  # .ci/run: the job's machinery in ~2 minutes; the reader's speed is bench_moa's
        args.max_runs = args.max_runs or 1
        args.no_reader_bench = True
    if args.max_runs is None:
        args.max_runs = 2 if args.full else 30
    if args.scans is None:
        args.scans = 4 if args.full else 0
    if not (args.fixtures / "ice287g" / "agreements").is_dir():
        print(f"fixtures not found under {args.fixtures} (set ICE_TRACKER_FIXTURES)", file=sys.stderr)
        return 2
    print(f"scale bench ({'full' if args.full else 'short'}): {args.agreements} agreements, {os.cpu_count()} cores\n")
    with tempfile.TemporaryDirectory(prefix="bench_scale_") as tmp:
        figures = end_to_end(args, Path(tmp))
        if not args.no_reader_bench:
            reader_figures(args, Path(tmp))
    first_label = "PROJECTED" if figures.get("first_projected") else "measured"
    print(f"\nSummary beside the targets ({os.cpu_count()} cores, load {os.getloadavg()[0]:.2f} now; the machine is shared):")
    print(f"  first run, every step but the reader  {figures['first_not_moa']:8.1f} s")
    print(f"  first run to every PDF's metadata     {figures['first']:8.1f} s   {first_label:<9} target <= {TARGETS['first']} s "
          "at 2,400: " + (verdict(figures['first'], TARGETS['first']) if args.agreements >= 2400 else
                          f"not comparable ({args.agreements} agreements; the target is for 2,400: --full)"))
    print(f"  whole-job no-change run               {figures['no_change']:8.1f} s   measured  target <= {TARGETS['no_change']} s: "
          f"{verdict(figures['no_change'], TARGETS['no_change'])}")
    print(f"  {args.changes}-change day                        {figures['changes']:8.1f} s   measured  target <= {TARGETS['changes']} s: "
          f"{verdict(figures['changes'], TARGETS['changes'])} (reader {figures['changes_moa']:.1f} s for "
          f"{figures['changes_read']} new PDFs; every other step {figures['changes_not_moa']:.1f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
