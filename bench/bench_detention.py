"""Benchmark the detention derivations against naive baselines, in the same run.

    python bench/bench_detention.py              # all parts (10M stints, 200k vs naive, workbook)
    python bench/bench_detention.py --parts naive --naive-n 200000

Parts:
  big       N (default 10M) synthetic stints → facility and national daily population; wall time
            and peak RSS of that step (VmHWM reset after generating the stints).
  naive     200k stints: fast code vs the per-day naive reference (tests/detention_reference.py);
            outputs compared row by row.
  workbook  a generated 200k-row raw workbook in the real layout (title block, header on row 7,
            two sheets): our calamine reader vs openpyxl read-only values (the baseline).
"""

from __future__ import annotations

import argparse
import gc
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ice_tracker.detention.grid import facility_table, national_table, population_from_stints  # noqa: E402
from ice_tracker.detention.synth import synthetic_stints, with_effective_book_out  # noqa: E402
from ice_tracker.detention.workbook_synth import write_raw_workbook  # noqa: E402

START, EXTRACT = date(2022, 4, 1), date(2026, 3, 11)


def reset_peak_rss() -> None:
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass


def peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def current_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def fast(stints: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    pop = population_from_stints(stints, START, EXTRACT)
    return facility_table(pop), national_table(pop, None, EXTRACT)


def part_big(n: int, string_ids: bool) -> None:
    t = time.perf_counter()
    stints = with_effective_book_out(synthetic_stints(n, string_ids=string_ids, seed=1), EXTRACT)
    print(f"[big] generated {len(stints):,} stints ({'string' if string_ids else 'integer'} ids) in {time.perf_counter() - t:.1f} s; "
          f"open {stints['book_out_date_time'].isna().mean():.1%}; table RSS {current_rss_mb():,.0f} MB")
    gc.collect()
    reset_peak_rss()
    before = current_rss_mb()
    t = time.perf_counter()
    facility, national = fast(stints)
    elapsed = time.perf_counter() - t
    print(f"[big] facility + national daily population: {elapsed:.2f} s, peak RSS {peak_rss_mb():,.0f} MB "
          f"(RSS before {before:,.0f} MB); {len(facility):,} facility-day rows, {len(national):,} days, "
          f"max national midnight {national['n_detained_at_midnight'].max():,}")
    print(f"[big] target < 30 s and < 6 GB: {'MET' if elapsed < 30 and peak_rss_mb() < 6144 else 'NOT MET'}")


def part_naive(n: int) -> None:
    sys.path.insert(0, str(ROOT / "tests"))
    from detention_reference import naive_population

    stints = with_effective_book_out(synthetic_stints(n, seed=2), EXTRACT)
    t = time.perf_counter()
    facility, national = fast(stints)
    fast_s = time.perf_counter() - t
    t = time.perf_counter()
    naive_facility, naive_national = naive_population(stints, START, EXTRACT)
    naive_s = time.perf_counter() - t
    same_national = (national[["n_detained_at_midnight", "n_detained"]].to_numpy()
                     == naive_national[["n_detained_at_midnight", "n_detained"]].to_numpy()).all()
    ours = facility[facility["n_detained"] > 0].reset_index(drop=True)
    theirs = naive_facility.sort_values(["detention_facility_code", "date"]).reset_index(drop=True)
    cols = ["n_detained_at_midnight", "n_detained", "n_detained_male", "n_detained_female"]
    same_facility = (len(ours) == len(theirs)
                     and (ours["detention_facility_code"].to_numpy() == theirs["detention_facility_code"].to_numpy()).all()
                     and (ours["date"].to_numpy().astype("datetime64[D]") == theirs["date"].to_numpy().astype("datetime64[D]")).all()
                     and (ours[cols].to_numpy() == theirs[cols].to_numpy()).all())
    print(f"[naive] {len(stints):,} stints: fast {fast_s:.3f} s, naive per-day reference {naive_s:.1f} s, "
          f"speed-up {naive_s / fast_s:,.0f}x; identical national {bool(same_national)}, facility {bool(same_facility)} "
          f"({len(ours):,} non-zero facility-days)")
    print(f"[naive] target >= 100x and same output: {'MET' if naive_s / fast_s >= 100 and same_national and same_facility else 'NOT MET'}")


def part_workbook(rows: int) -> None:
    from openpyxl import load_workbook

    from ice_tracker.detention.readers import read_rows, read_workbook_stints

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "2026-ICLI-00005_Detentions_FY25_20260311_Redacted.xlsx"
        t = time.perf_counter()
        write_raw_workbook(path, synthetic_stints(rows, seed=3), sheets=2)
        print(f"[workbook] wrote {rows:,} rows over 2 sheets ({path.stat().st_size / 1e6:.1f} MB) in {time.perf_counter() - t:.1f} s")
        t = time.perf_counter()
        frame, reads = read_workbook_stints(path)
        ours = time.perf_counter() - t
        # baseline: openpyxl read-only cells, then the very same header search and typing
        t = time.perf_counter()
        workbook = load_workbook(path, read_only=True, data_only=True)
        sheets = [(ws.title, list(ws.iter_rows(values_only=True))) for ws in workbook.worksheets]
        workbook.close()
        cells = time.perf_counter() - t
        frames = [read_rows(values, path.name, title)[0] for title, values in sheets]
        baseline = time.perf_counter() - t
        theirs = pd.concat(frames, ignore_index=True)
        same = frame.drop(columns="source_row").equals(theirs.drop(columns="source_row"))
        print(f"[workbook] calamine reader → typed frame of {len(frame):,} rows: {ours:.2f} s")
        print(f"[workbook] openpyxl read-only → same typed frame: {baseline:.2f} s (cell reading alone {cells:.2f} s); "
              f"identical frames {same}")
        print(f"[workbook] speed-up {baseline / ours:.1f}x (vs openpyxl cell reading alone, no typing: {cells / ours:.1f}x)")
        print(f"[workbook] target >= 5x: {'MET' if baseline / ours >= 5 else 'NOT MET'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--parts", nargs="+", default=["big", "naive", "workbook"], choices=["big", "naive", "workbook"])
    parser.add_argument("--n", type=int, default=10_000_000)
    parser.add_argument("--naive-n", type=int, default=200_000)
    parser.add_argument("--workbook-rows", type=int, default=200_000)
    parser.add_argument("--string-ids", action="store_true", help="40-character-like string identifiers in the big run")
    args = parser.parse_args()
    print(f"numpy {np.__version__}, pandas {pd.__version__}")
    if "big" in args.parts:
        part_big(args.n, args.string_ids)
    if "naive" in args.parts:
        part_naive(args.naive_n)
    if "workbook" in args.parts:
        part_workbook(args.workbook_rows)


if __name__ == "__main__":
    main()
