"""The parallel paths of the `detention` command give exactly what the one-thread paths give:
the parquet prefetch (decoded while pandas is imported), text cleaning in two halves, and the
national counts on their own thread."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from ice_tracker.cli import main
from ice_tracker.detention import clean, parquet_prefetch
from ice_tracker.detention.clean import _clean_strings, clean_text
from ice_tracker.detention.population import daily_population
from ice_tracker.detention.readers import read_ddp_stints
from ice_tracker.detention.synth import synthetic_stints
from ice_tracker.detention.workbook_synth import REDACTED

OUTPUTS = ["stints.parquet", "stays.parquet", "facility_daily_population.parquet", "national_daily_population.csv",
           "adp_monthly.csv", "adp_fiscal_year.csv", "alos_fiscal_year.csv", "facilities.csv", "report.json"]


def _ddp_parquet(path: Path, n: int = 3_000) -> Path:
    stints = synthetic_stints(n, seed=7, string_ids=True)
    stints["unique_identifier"] = stints["unique_identifier"].str.pad(40, fillchar="0")  # DDP's 40-character ids
    stints["detention_facility_code"] = stints["detention_facility_code"].astype(str)
    stints["gender"] = stints["gender"].astype(str)
    stints.to_parquet(path)
    return path


def test_prefetched_table_reads_like_pandas_read_parquet(tmp_path: Path) -> None:
    source = _ddp_parquet(tmp_path / "detention-stints-latest.parquet")
    few = parquet_prefetch.few_valued_columns(source)
    assert "gender" in few and "unique_identifier" not in few
    pd.testing.assert_frame_equal(parquet_prefetch.read_table(source).to_pandas(),
                                  pd.read_parquet(source, read_dictionary=few), check_exact=True)
    parquet_prefetch.start([tmp_path, source])  # a folder is skipped; the file is decoded in the background
    prefetched, _ = read_ddp_stints(source)  # takes the prefetched table
    assert parquet_prefetch.take(source) is None  # taken once, not kept
    again, _ = read_ddp_stints(source)  # read by the reader itself
    pd.testing.assert_frame_equal(prefetched, again, check_exact=True)


def test_command_outputs_identical_with_and_without_prefetch(tmp_path: Path) -> None:
    source = _ddp_parquet(tmp_path / "2026-ICLI-00005_Detentions_FY26_20260311_Redacted.parquet")
    assert main(["detention", "--input", str(source), "--out", str(tmp_path / "a")]) == 0  # prefetched
    from ice_tracker.detention.run import run_detention

    run_detention([source], tmp_path / "b")  # the daily job's path: no prefetch
    assert parquet_prefetch._pending == {}
    for name in OUTPUTS:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


def test_a_broken_parquet_fails_the_same_way_when_prefetched(tmp_path: Path) -> None:
    bad = tmp_path / "detention-stints-latest.parquet"
    bad.write_bytes(b"PAR1 not really")
    assert main(["detention", "--input", str(bad), "--out", str(tmp_path / "out")]) == 2
    assert parquet_prefetch._pending == {}
    assert not (tmp_path / "out" / "report.json").exists()


def test_long_text_column_cleaned_in_halves_equals_one_pass(monkeypatch) -> None:
    rng = np.random.default_rng(3)
    values = [f"  id{k} " if k % 7 else REDACTED if k % 2 else "" for k in rng.integers(0, 10**9, 5_001)]
    series = pd.Series(values, dtype=object)
    monkeypatch.setattr(clean, "SPLIT_ROWS", 1_000)
    halves = clean_text(series)
    one_pass = _clean_strings(pa.array(values, pa.string())).to_pylist()
    assert [None if v is pd.NA else v for v in halves.tolist()] == one_pass
    assert halves.isna().sum() == sum(1 for v in values if not v.strip() or v == REDACTED)


def test_threaded_national_counts_equal_a_direct_count() -> None:
    rng = np.random.default_rng(5)
    n, n_days = 20_000, 60
    person = rng.integers(0, 4_000, n)
    bi = rng.integers(0, n_days, n)
    bo = bi + rng.integers(0, 10, n)
    pop = daily_population(person=person, facility=rng.integers(-1, 30, n), facility_codes=np.arange(30).astype(str),
                           book_in_day=bi, book_out_day=bo, gender=rng.integers(0, 3, n),
                           start=np.datetime64(date(2025, 1, 1), "D"), n_days=n_days)
    for day in (0, 17, n_days - 1):
        assert pop.national_midnight[day] == len(set(person[(bi <= day) & (bo >= day + 1)]))
        assert pop.national_anytime[day] == len(set(person[(bi <= day) & (bo >= day)]))
