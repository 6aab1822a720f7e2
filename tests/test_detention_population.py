"""Daily population: the fast merged-interval code equals the naive per-day reference."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ice_tracker.detention.grid import facility_table, national_table, population_from_stints
from ice_tracker.detention.synth import synthetic_stints, with_effective_book_out
from tests.detention_reference import naive_population

START = date(2025, 1, 1)
END = date(2025, 1, 20)


def _frame(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["unique_identifier", "detention_facility_code", "gender",
                                       "book_in_date_time", "book_out_effective"]).astype(
        {"book_in_date_time": "datetime64[s]", "book_out_effective": "datetime64[s]"})


def _compare(stints: pd.DataFrame, start: date, end: date) -> None:
    pop = population_from_stints(stints, start, end)
    facility = facility_table(pop)
    national = national_table(pop, None, end)
    naive_facility, naive_national = naive_population(stints, start, end)
    assert national["n_detained_at_midnight"].tolist() == naive_national["n_detained_at_midnight"].tolist()
    assert national["n_detained"].tolist() == naive_national["n_detained"].tolist()
    ours = facility[facility["n_detained"] > 0].reset_index(drop=True)
    ours = ours.assign(detention_facility_code=ours["detention_facility_code"].astype(str),
                       date=ours["date"].astype("datetime64[s]"))
    theirs = naive_facility.sort_values(["detention_facility_code", "date"]).reset_index(drop=True)
    theirs = theirs.assign(date=theirs["date"].astype("datetime64[s]"))
    pd.testing.assert_frame_equal(ours, theirs, check_dtype=False)


stint = st.tuples(
    st.one_of(st.none(), st.sampled_from(["p1", "p2", "p3", "p4"])),
    st.one_of(st.none(), st.sampled_from(["A", "B", "C"])),
    st.sampled_from(["Male", "Female", "Unknown"]),
    st.integers(-3 * 24, 22 * 24),  # book-in, hours from START (some before the grid)
    st.integers(0, 12 * 24),  # length in hours (0: in and out at once)
)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(stint, min_size=0, max_size=30))
def test_fast_equals_naive_on_random_stints(raw: list[tuple]) -> None:
    origin = datetime(2025, 1, 1)
    rows = [(pid, fac, gender, origin + timedelta(hours=start), origin + timedelta(hours=start + length))
            for pid, fac, gender, start, length in raw]
    _compare(_frame(rows), START, END)


def test_fast_equals_naive_on_synthetic_release() -> None:
    stints = with_effective_book_out(synthetic_stints(3000, n_facilities=25, start=date(2025, 9, 1),
                                                      extract_date=date(2026, 1, 1), seed=5), date(2026, 1, 1))
    _compare(stints, date(2025, 11, 1), date(2026, 1, 1))


def test_transfer_counts_once_nationally_and_midnight_only_where_slept() -> None:
    day = datetime(2025, 1, 5)
    stints = _frame([
        ("p1", "A", "Male", day + timedelta(hours=1), day + timedelta(days=2, hours=9)),  # A until the 7th, 09:00
        ("p1", "B", "Male", day + timedelta(days=2, hours=10), day + timedelta(days=4)),  # B from the 7th
        ("p1", "A", "Male", day + timedelta(hours=3), day + timedelta(days=1)),  # overlaps the first A stint
    ])
    pop = population_from_stints(stints, START, END)
    national = national_table(pop, None, END).set_index("date")
    facility = facility_table(pop).set_index(["detention_facility_code", "date"])
    d = lambda n: np.datetime64(date(2025, 1, n))  # noqa: E731
    assert national.loc[d(6), "n_detained_at_midnight"] == 1  # two stints at A that night, one person
    assert facility.loc[("A", d(6)), "n_detained_at_midnight"] == 1
    assert facility.loc[("A", d(7)), "n_detained_at_midnight"] == 0  # left A on the 7th
    assert facility.loc[("B", d(7)), "n_detained_at_midnight"] == 1
    assert facility.loc[("A", d(7)), "n_detained"] == 1 and facility.loc[("B", d(7)), "n_detained"] == 1
    assert national.loc[d(7), "n_detained"] == 1  # at two facilities that day, one person nationally
    assert national.loc[d(8), "n_detained_at_midnight"] == 1
    assert national.loc[d(9), "n_detained_at_midnight"] == 0  # booked out on the 9th at 00:00
    assert facility.loc[("B", d(7)), "n_detained_male"] == 1 and facility.loc[("B", d(7)), "n_detained_female"] == 0
