"""The detention job: read releases → stints → stays → daily population → summaries → report.

`run_detention` is what the daily job calls on a new DDP detentions release; the CLI wraps it.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ice_tracker.detention.grid import facility_table, grid_bounds, national_table, population_from_stints
from ice_tracker.detention.population import DailyPopulation
from ice_tracker.detention.outputs import write_frame_csv, write_parquet
from ice_tracker.detention.readers import (
    DetentionInputError,
    date_from_file_names,
    is_input_file,
    is_lock_file,
    read_stints,
    stack,
)
from ice_tracker.detention.stays import build_stays
from ice_tracker.detention.stints import CORE_DATETIMES, build_stints, countable
from ice_tracker.detention.summaries import (
    alos_by_fiscal_year,
    facility_list,
    period_label,
    read_facility_reference,
)
from ice_tracker.fileio import write_json

log = logging.getLogger(__name__)


def expand_inputs(inputs: list[Path]) -> list[Path]:
    """Files as given; folders → the detention tables in them (sorted, Excel lock files skipped)."""
    files: list[Path] = []
    for path in inputs:
        path = Path(path)
        if path.is_dir():
            files.extend(sorted(p for p in path.iterdir() if p.is_file() and is_input_file(p)))
        else:
            files.append(path)
    return [p for p in files if not is_lock_file(p)]


def last_day_in_data(frame: pd.DataFrame) -> date | None:
    """The latest calendar day any book-in or book-out in the data falls on."""
    latest = max((frame[c].max() for c in CORE_DATETIMES if c in frame and frame[c].notna().any()), default=None)
    return None if latest is None else latest.date()


def resolve_extract_date(given: date | None, files: list[Path], frame: pd.DataFrame) -> tuple[date, str, str]:
    """The last day of the series, where it came from ('argument', 'file name', 'data') and why.

    --extract-date is used as given. Otherwise the series ends at the last day the data covers: a
    file-name date is only a ceiling (releases are named the day after their last day of data,
    `…_20260311_…` for data through 2026-03-10; a day without data must not be averaged in).
    """
    data_day = last_day_in_data(frame)
    if given is not None:
        later = "" if data_day is None or data_day <= given else f"; the data runs on to {data_day} (later book-ins are ignored)"
        return given, "argument", f"--extract-date {given}{later}"
    from_names = date_from_file_names(files)
    if data_day is None:
        if from_names is None:
            raise DetentionInputError("no extract date: none given, none in the file names, no dates in the data")
        return from_names, "file name", f"date in the file names ({from_names}); no dates in the data"
    if from_names is None:
        return data_day, "data", f"last day in the data ({data_day}); no date in the file names"
    if from_names > data_day:
        return data_day, "data", (f"last day in the data ({data_day}): the file names say {from_names}, after the data "
                                  "ends, and a day without data must not be counted")
    return from_names, "file name", f"date in the file names ({from_names}); the data runs to {data_day}"


def _adp_tables(pop: DailyPopulation, national_daily: pd.DataFrame, period: str) -> pd.DataFrame:
    """ADP per period, nationally and per facility, straight from the [facility, day] count matrices:
    days are consecutive, so each period is one run of columns and one `np.add.reduceat` sums it."""
    dates = pd.Series(pop.dates())
    labels = period_label(dates, period).to_numpy()
    starts = np.flatnonzero(np.r_[True, labels[1:] != labels[:-1]])
    periods = labels[starts]
    n_days = np.diff(np.r_[starts, len(labels)])
    provisional = np.add.reduceat(national_daily["provisional"].to_numpy().astype(np.int64), starts)
    national = pd.DataFrame({
        "scope": "national", "detention_facility_code": "", period: periods, "n_days": n_days,
        "n_provisional_days": provisional,
        "adp_at_midnight": np.add.reduceat(pop.national_midnight.astype(np.int64), starts) / n_days,
        "adp_facility_sum": np.add.reduceat(pop.midnight.sum(axis=0, dtype=np.int64), starts) / n_days,
    })
    n_fac = len(pop.facilities)
    midnight = np.add.reduceat(pop.midnight.astype(np.int64), starts, axis=1) if n_fac else np.zeros((0, len(starts)))
    anyone = np.add.reduceat(pop.anytime.astype(np.int64), starts, axis=1) if n_fac else np.zeros((0, len(starts)))
    held = (anyone > 0).ravel()  # periods in which the facility held nobody are left out
    facility = pd.DataFrame({
        "scope": "facility",
        "detention_facility_code": np.repeat(pop.facilities.astype(str), len(starts))[held],
        period: np.tile(periods, n_fac)[held],
        "n_days": np.tile(n_days, n_fac)[held],
        "n_provisional_days": np.tile(provisional, n_fac)[held],
        "adp_at_midnight": (midnight / n_days).ravel()[held],
        "adp_facility_sum": np.nan,
    })
    return pd.concat([national, facility], ignore_index=True)


def _write_stay_and_facility_lists(out_dir: Path, stays: pd.DataFrame, usable: pd.DataFrame,
                                   reference: pd.DataFrame | None, last: date) -> None:
    """The summaries that need no daily counts (ALOS, the facility list), for a writer thread."""
    write_frame_csv(out_dir / "alos_fiscal_year.csv", alos_by_fiscal_year(stays))
    write_frame_csv(out_dir / "facilities.csv", facility_list(usable, reference, last))


def run_detention(inputs: list[Path], out_dir: Path, extract_date: date | None = None,
                  facilities: Path | None = None, cache_dir: Path | None = None) -> dict[str, Any]:
    """Derive every detention output into `out_dir`; returns a small summary (also in report.json).

    With `cache_dir`, each raw workbook is read once and kept there as parquet keyed by its sha256
    (ice_tracker/detention/workbook_cache.py): a re-derivation never opens the .xlsx again.

    Unreadable files or sheets are recorded and skipped; the run fails only when nothing is readable.
    """
    out_dir = Path(out_dir)
    files = expand_inputs(inputs)
    frames, reads, errors = [], [], []
    for path in files:
        try:
            frame, sheet_reads = read_stints(path, cache_dir)
        except (DetentionInputError, OSError, ValueError) as exc:
            log.error("%s", exc)
            errors.append({"file": path.name, "error": str(exc)})
            continue
        reads.extend(sheet_reads)
        if frame is not None:
            frames.append(frame)
    if not frames:
        why = [e["error"] for e in errors] + [f"{r.file} / {r.sheet}: {r.error}" for r in reads if r.error]
        raise DetentionInputError(f"no readable detention table in {len(files)} input file(s): " + "; ".join(why or ["no input files"]))
    raw = stack(frames)
    del frames
    extract, extract_source, extract_reason = resolve_extract_date(extract_date, files, raw)
    data_last_day = last_day_in_data(raw)
    log.info("extract date %s: %s", extract, extract_reason)

    stints, stint_counts = build_stints(raw, extract)
    del raw
    # the big parquet files are encoded on their own threads (Arrow releases the GIL) while counting goes on;
    # a third thread writes the summaries that need no counts
    with ThreadPoolExecutor(max_workers=3, thread_name_prefix="detention-writer") as writer:
        pending = [writer.submit(write_parquet, out_dir / "stints.parquet", stints,
                                 distinct_columns=("unique_identifier", "source_row"))]
        usable = countable(stints)
        stays, stay_counts = build_stays(usable, extract)
        pending.append(writer.submit(write_parquet, out_dir / "stays.parquet", stays, distinct_columns=("unique_identifier",)))

        closed = usable["book_out_date_time"].dropna()
        cutoff = closed.min().date() if len(closed) else None
        first, last = grid_bounds(usable["book_in_date_time"], cutoff, extract)
        reference, reference_report = None, None
        if facilities is not None:
            try:
                reference, reference_report = read_facility_reference(Path(facilities))
            except (OSError, ValueError) as exc:
                log.error("facility reference unusable: %s", exc)
                errors.append({"file": Path(facilities).name, "error": str(exc)})
        # the summaries that need no daily counts are written beside the counting
        pending.append(writer.submit(_write_stay_and_facility_lists, out_dir, stays, usable, reference, last))
        pop = population_from_stints(usable, first, last)
        facility_daily = facility_table(pop)
        national_daily = national_table(pop, cutoff, extract)
        write_parquet(out_dir / "facility_daily_population.parquet", facility_daily, date_columns=("date",))
        write_frame_csv(out_dir / "national_daily_population.csv", national_daily)

        write_frame_csv(out_dir / "adp_monthly.csv", _adp_tables(pop, national_daily, "month"))
        write_frame_csv(out_dir / "adp_fiscal_year.csv", _adp_tables(pop, national_daily, "fiscal_year"))
        for job in pending:
            job.result()  # a failed write fails the run before report.json says it worked

    complete = national_daily[~national_daily["provisional"]]
    report = {
        "extract_date": extract.isoformat(),
        "extract_date_source": extract_source,
        "extract_date_reason": extract_reason,
        "last_day_in_data": data_last_day.isoformat() if data_last_day else None,
        "open_stints_rule": "a stint with no book-out (and no stay book-out) counts at midnight on every day through the extract date",
        "book_out_cutoff": cutoff.isoformat() if cutoff else None,
        "book_out_cutoff_source": "earliest book-out in the data (days before it are under-counts)",
        "first_day": first.isoformat(),
        "last_day": last.isoformat(),
        "last_complete_day": complete["date"].max().strftime("%Y-%m-%d") if len(complete) else None,
        "inputs": [read.__dict__ for read in reads],
        "errors": errors,
        "facility_reference": reference_report,
        "rows_read": int(sum(read.rows for read in reads)),
        "stints": stint_counts.as_dict(),
        "stints_counted": int(len(usable)),
        "stays": stay_counts,
        "facilities": int(len(pop.facilities)),
        "days": pop.n_days,
    }
    write_json(out_dir / "report.json", report)
    log.info("detention outputs written to %s", out_dir)
    return {k: report[k] for k in ("extract_date", "extract_date_source", "rows_read", "stints_counted", "facilities", "days", "errors")} | {
        "duplicates": stint_counts.duplicates_bond_only + stint_counts.duplicates_same_day,
        "open_stints": stint_counts.open_stints,
    }
