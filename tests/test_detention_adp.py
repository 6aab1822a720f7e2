"""ADP on DDP's published facility-day file reproduces the published national figures."""

from __future__ import annotations

import pandas as pd
import pytest

from ice_tracker.detention.summaries import average_daily_population, fiscal_year
from tests.conftest import shared_fixture_path


def test_fiscal_year_runs_october_to_september() -> None:
    days = pd.Series(pd.to_datetime(["2024-09-30", "2024-10-01", "2025-09-30", "2025-10-01"]))
    assert fiscal_year(days).tolist() == [2024, 2025, 2025, 2026]


def test_adp_is_the_mean_over_the_days_of_the_period() -> None:
    daily = pd.DataFrame({"date": pd.date_range("2025-01-30", "2025-02-02"), "n": [10, 20, 30, 50],
                          "provisional": [False, False, False, True]})
    out = average_daily_population(daily, "n", "month", provisional="provisional")
    assert out.to_dict("records") == [
        {"period": "2025-01", "n_days": 2, "adp": 15.0, "n_provisional_days": 0},
        {"period": "2025-02", "n_days": 2, "adp": 40.0, "n_provisional_days": 1},
    ]


def test_ddp_facility_day_file_national_adp() -> None:
    path = shared_fixture_path("ddp", "facilities-daily-population-mar2026.parquet")
    facility_days = pd.read_parquet(path, columns=["detention_facility_code", "date", "n_detained_at_midnight"])
    assert facility_days["detention_facility_code"].nunique() == 707
    national = facility_days.groupby("date", as_index=False)["n_detained_at_midnight"].sum()
    adp = average_daily_population(national, "n_detained_at_midnight", "fiscal_year").set_index("period")
    assert adp.loc["FY2025", "n_days"] == 365
    assert adp.loc["FY2025", "adp"] == pytest.approx(47_700, abs=1)
    assert adp.loc["FY2024", "n_days"] == 366
    assert adp.loc["FY2024", "adp"] == pytest.approx(37_148, abs=1)
    by_day = national.set_index(pd.to_datetime(national["date"]))["n_detained_at_midnight"]
    assert by_day["2023-06-01"] == 29_540 and by_day["2025-06-01"] == 51_403
