"""DDP's own facility-day counts (March 2026 release) reproduced by the `detention` command.

A stint table is rebuilt from DDP's published file (ice_tracker.detention.reconstruct), written the way
a release names it (`…_20260311_…`, one day after the data ends) and run through the command. Every
facility-day cell, the extract day included, and every FY and month ADP must equal DDP's.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ice_tracker.cli import main
from ice_tracker.detention.reconstruct import reconstruct_stints
from ice_tracker.detention.summaries import period_label
from tests.conftest import shared_fixture_path

N_SAMPLE = 24
EXTRACT_DAY = pd.Timestamp("2026-03-10").date()


@pytest.fixture(scope="module")
def ddp_sample() -> pd.DataFrame:
    """The 4 biggest facilities and 20 others at random (seeded), every day of the release."""
    daily = pd.read_parquet(shared_fixture_path("ddp", "facilities-daily-population-mar2026.parquet"),
                            columns=["detention_facility_code", "date", "n_detained", "n_detained_at_midnight"])
    size = daily.groupby("detention_facility_code")["n_detained"].sum().sort_values(ascending=False)
    rest = size.index[4:].to_numpy()
    picked = list(size.index[:4]) + list(np.random.default_rng(17).choice(rest, N_SAMPLE - 4, replace=False))
    return daily[daily["detention_facility_code"].isin(picked)].reset_index(drop=True)


@pytest.fixture(scope="module")
def derived(ddp_sample: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("ddp")
    source = tmp / "2026-ICLI-00005_Detentions_FY26_20260311_Redacted.parquet"
    reconstruct_stints(ddp_sample).to_parquet(source)
    out = tmp / "out"
    assert main(["detention", "--input", str(source), "--out", str(out)]) == 0
    return out


def test_every_facility_day_equals_ddp_including_the_extract_day(ddp_sample: pd.DataFrame, derived: Path) -> None:
    ours = pd.read_parquet(derived / "facility_daily_population.parquet")
    merged = ddp_sample.merge(ours, on=["detention_facility_code", "date"], how="outer", suffixes=("_ddp", ""), indicator=True)
    assert (merged["_merge"] == "both").all(), merged["_merge"].value_counts()
    for column in ("n_detained", "n_detained_at_midnight"):
        wrong = merged[merged[column] != merged[f"{column}_ddp"]]
        assert wrong.empty, wrong.head()
    last = merged[merged["date"] == EXTRACT_DAY]
    assert last["n_detained_at_midnight"].sum() > 0  # the extract day is counted, not 0
    report = json.loads((derived / "report.json").read_text())
    assert report["extract_date"] == "2026-03-10" and report["last_day_in_data"] == "2026-03-10"
    assert report["extract_date_source"] == "data" and "2026-03-11" in report["extract_date_reason"]


@pytest.mark.parametrize("period, file", [("fiscal_year", "adp_fiscal_year.csv"), ("month", "adp_monthly.csv")])
def test_fy_and_month_adp_equal_ddp(ddp_sample: pd.DataFrame, derived: Path, period: str, file: str) -> None:
    daily = ddp_sample.assign(period=period_label(pd.to_datetime(ddp_sample["date"]), period))
    expected = daily.groupby(["detention_facility_code", "period"])
    expected = expected.agg(adp=("n_detained_at_midnight", "mean"), anyone=("n_detained", "sum"), n=("date", "size"))
    expected = expected[expected["anyone"] > 0]
    table = pd.read_csv(derived / file, keep_default_na=False, dtype={"adp_at_midnight": str, "adp_facility_sum": str})
    facility = table[table["scope"] == "facility"].set_index(["detention_facility_code", period])
    assert len(facility) == len(expected)
    want = [f"{v:.2f}" for v in expected["adp"]]
    got = facility.loc[expected.index, "adp_at_midnight"].tolist()
    assert got == want
    assert facility.loc[expected.index, "n_days"].tolist() == expected["n"].tolist()
    summed = daily.groupby(["period", "date"])["n_detained_at_midnight"].sum().groupby("period").mean()
    national = table[table["scope"] == "national"].set_index(period)["adp_facility_sum"]
    assert national.loc[summed.index].tolist() == [f"{v:.2f}" for v in summed]
