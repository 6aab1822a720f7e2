"""Hand-worked cases from the UWCHR dataset notes (seed 001), run through the whole job.

Input is a DDP-style stints parquet (snake_case names), so the DDP reader is exercised too.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from ice_tracker.detention.run import run_detention

COLUMNS = ["unique_identifier", "stay_book_in_date_time", "book_in_date_time", "book_out_date_time",
           "stay_book_out_date_time", "detention_facility", "detention_facility_code", "gender"]

FIVE_PLACEMENTS = [  # one completed stay with transfers, Los Angeles, March–April 2012
    ("p5", "2012-03-23 03:55", "2012-03-23 03:55", "2012-03-23 14:30", "2012-04-10 15:56", "LOS CUST CASE", "LOSCUST", "Male"),
    ("p5", "2012-03-23 03:55", "2012-03-23 14:46", "2012-03-26 14:15", "2012-04-10 15:56", "THEO LACY FACILITY", "THEOLAC", "Male"),
    ("p5", "2012-03-23 03:55", "2012-03-26 14:16", "2012-04-02 18:06", "2012-04-10 15:56", "WESTERN MEDICAL CENTER", "WESTMED", "Male"),
    ("p5", "2012-03-23 03:55", "2012-04-02 18:06", "2012-04-10 15:13", "2012-04-10 15:56", "THEO LACY FACILITY", "THEOLAC", "Male"),
    ("p5", "2012-03-23 03:55", "2012-04-10 15:14", "2012-04-10 15:56", "2012-04-10 15:56", "SANTA ANA DRO HOLDROOM", "SANTAHR", "Male"),
]

THREE_STAYS = [  # three stays, the last ongoing at the extract (2024-01-04)
    ("p3", "2018-02-21 15:56", "2018-02-21 15:56", "2018-03-22 14:06", "2018-03-22 14:06", "BUFFALO SPC", "BUFFSPC", "Female"),
    ("p3", "2018-06-27 15:00", "2018-06-27 15:00", "2018-08-14 07:30", "2018-08-14 07:30", "BUFFALO SPC", "BUFFSPC", "Female"),
    ("p3", "2018-08-21 16:00", "2018-08-21 16:00", "2019-05-13 17:23", None, "BUFFALO SPC", "BUFFSPC", "Female"),
    ("p3", "2018-08-21 16:00", "2019-05-13 19:00", "2019-05-20 17:56", None, "CENTRAL LOUISIANA ICE PROC CTR", "CLAICPC", "Female"),
    ("p3", "2018-08-21 16:00", "2019-05-20 18:59", "2019-05-21 07:00", None, "YORK COUNTY JAIL, PA", "YORKCPA", "Female"),
    ("p3", "2018-08-21 16:00", "2019-05-21 13:15", "2020-12-11 07:56", None, "BUFFALO SPC", "BUFFSPC", "Female"),
    ("p3", "2018-08-21 16:00", "2020-12-11 14:39", "2021-01-28 15:00", None, "RENSSELAER CO SHERIFF", "RENSENY", "Female"),
    ("p3", "2018-08-21 16:00", "2021-01-28 17:15", "2021-02-24 08:00", None, "BUFFALO SPC", "BUFFSPC", "Female"),
    ("p3", "2018-08-21 16:00", "2021-02-24 14:47", "2022-08-11 17:14", None, "RENSSELAER CO SHERIFF", "RENSENY", "Female"),
    ("p3", "2018-08-21 16:00", "2022-08-11 23:00", None, None, "ELIZABETH CONTRACT D.F.", "ELZCDF", "Female"),
]

STAY_BEFORE_PLACEMENT = [  # stay book-in 1995, first listed placement 2010
    ("p9", "1995-08-31 00:01", "2010-04-14 08:01", "2017-08-24 17:54", "2017-08-31 11:30", "TERRE HAUTE USP", "TERREHU", "Male"),
    ("p9", "1995-08-31 00:01", "2017-08-24 18:04", "2017-08-24 18:07", "2017-08-31 11:30", "PULASKI COUNTY JAIL", "PULASKI", "Male"),
    ("p9", "1995-08-31 00:01", "2017-08-24 20:00", "2017-08-25 06:48", "2017-08-31 11:30", "STEWART DETENTION CENTER", "STEWART", "Male"),
    ("p9", "1995-08-31 00:01", "2017-08-26 00:01", "2017-08-26 00:01", "2017-08-31 11:30", "KROME NORTH SPC", "KROMENS", "Male"),
    ("p9", "1995-08-31 00:01", "2017-08-26 00:15", "2017-08-31 06:45", "2017-08-31 11:30", "KROME NORTH SPC", "KROMENS", "Male"),
    ("p9", "1995-08-31 00:01", "2017-08-31 07:00", "2017-08-31 11:30", "2017-08-31 11:30", "MIAMI STAGING FACILITY", "MIAMIST", "Male"),
]


def _run(tmp_path: Path, rows: list[tuple], extract: date) -> Path:
    frame = pd.DataFrame(rows, columns=COLUMNS)
    for col in COLUMNS[1:5]:
        frame[col] = pd.to_datetime(frame[col])
    source = tmp_path / "detention-stints-latest.parquet"
    frame.to_parquet(source)
    out = tmp_path / "out"
    run_detention([source], out, extract_date=extract)
    return out


def _national(out: Path) -> pd.Series:
    national = pd.read_csv(out / "national_daily_population.csv", parse_dates=["date"]).set_index("date")
    return national


def test_five_placement_stay(tmp_path: Path) -> None:
    out = _run(tmp_path, FIVE_PLACEMENTS, date(2012, 5, 1))
    stays = pd.read_parquet(out / "stays.parquet")
    assert len(stays) == 1
    stay = stays.iloc[0]
    assert stay["n_stints"] == 5
    assert stay["first_detention_facility_code"] == "LOSCUST"
    assert stay["last_detention_facility_code"] == "SANTAHR"
    assert stay["longest_detention_facility_code"] == "THEOLAC"  # 7.88 days (Apr 2–10) beats 7.16 at WESTMED
    assert stay["detention_facility_codes"] == "LOSCUST|THEOLAC|WESTMED|THEOLAC|SANTAHR"
    assert stay["stay_length_days"] == pytest.approx(18 + (12 * 60 + 1) / 1440, abs=1e-6)
    assert not stay["ongoing"]

    national = _national(out)
    nights = national.loc["2012-03-23":"2012-04-09", "n_detained_at_midnight"]
    assert (nights == 1).all() and len(nights) == 18
    assert national.loc["2012-04-10", "n_detained_at_midnight"] == 0
    assert national.loc["2012-04-10", "n_detained"] == 1

    facility = pd.read_parquet(out / "facility_daily_population.parquet")
    per_facility = facility.groupby("detention_facility_code")["n_detained_at_midnight"].sum().to_dict()
    assert per_facility == {"LOSCUST": 0, "SANTAHR": 0, "THEOLAC": 3 + 8, "WESTMED": 7}
    assert facility.groupby("detention_facility_code")["n_detained"].sum()["LOSCUST"] == 1

    alos = pd.read_csv(out / "alos_fiscal_year.csv")
    assert alos.to_dict("records") == [{"fiscal_year": "FY2012", "n_stays": 1, "mean_days": 18.5, "median_days": 18.5}]


def test_three_stays_last_ongoing(tmp_path: Path) -> None:
    out = _run(tmp_path, THREE_STAYS, date(2024, 1, 4))
    stays = pd.read_parquet(out / "stays.parquet").sort_values("stay_book_in_date_time")
    assert stays["n_stints"].tolist() == [1, 1, 8]
    assert stays["ongoing"].tolist() == [False, False, True]
    last = stays.iloc[2]
    assert last["first_detention_facility_code"] == "BUFFSPC"
    assert last["last_detention_facility_code"] == "ELZCDF"
    assert last["longest_detention_facility_code"] == "BUFFSPC"  # 2019-05-21 → 2020-12-11, 570 days
    assert stays.iloc[0]["stay_length_days"] == pytest.approx(28 + (22 * 60 + 10) / 1440, abs=1e-6)

    report = pd.read_json(out / "report.json", typ="series")
    assert report["stints"]["open_stints"] == 1
    assert report["stints"]["open_capped_at_extract_date"] == 1
    assert report["extract_date_source"] == "argument"

    national = _national(out)
    assert national.loc["2024-01-03", "n_detained_at_midnight"] == 1  # the open stint runs to the extract
    assert national.loc["2024-01-04", "provisional"]
    assert national.loc["2018-06-01", "n_detained_at_midnight"] == 0  # between stays one and two

    alos = pd.read_csv(out / "alos_fiscal_year.csv").set_index("fiscal_year")
    assert alos.loc["FY2018", "n_stays"] == 2
    assert alos.loc["FY2018", "mean_days"] == pytest.approx((28.9236 + 47.6875) / 2, abs=0.01)
    assert alos.loc["ongoing", "n_stays"] == 1


def test_stay_book_in_before_first_placement(tmp_path: Path) -> None:
    out = _run(tmp_path, STAY_BEFORE_PLACEMENT, date(2017, 9, 30))
    stints = pd.read_parquet(out / "stints.parquet")
    krome = stints[stints["detention_facility_code"] == "KROMENS"].sort_values("book_in_date_time")
    # two Krome stints booked in the same day in the same stay: the earlier one is a same-day duplicate
    assert krome["duplicate_same_day"].tolist() == [True, False]
    stays = pd.read_parquet(out / "stays.parquet")
    stay = stays.iloc[0]
    assert stay["n_stints"] == 5
    assert stay["stay_book_in_date_time"] == pd.Timestamp("1995-08-31 00:01")
    assert stay["first_book_in_date_time"] == pd.Timestamp("2010-04-14 08:01")
    assert stay["first_detention_facility_code"] == "TERREHU"
    assert stay["longest_detention_facility_code"] == "TERREHU"

    national = _national(out)
    assert national.loc["2017-08-24", "n_detained_at_midnight"] == 1  # at Stewart that night
    assert national.loc["2017-08-25", "n_detained_at_midnight"] == 0  # out 06:48, next book-in after midnight
    assert national.loc["2017-08-25", "n_detained"] == 1
    assert national.loc["2017-08-30", "n_detained_at_midnight"] == 1
    assert national.loc["2017-08-31", "n_detained_at_midnight"] == 0
    report = pd.read_json(out / "report.json", typ="series")
    assert report["stints"]["duplicates_same_day"] == 1
    assert report["book_out_cutoff"] == "2017-08-24"
    assert report["first_day"] == "2016-08-24"  # a year before the cutoff, not 1995 or 2010
