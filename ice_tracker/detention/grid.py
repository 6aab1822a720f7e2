"""From the stint table to the day grid and back to tables: codes, day numbers, output frames."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd

from ice_tracker.detention.population import GENDER_CODES, DailyPopulation, daily_population
from ice_tracker.detention.stints import person_codes

# Days before the release's book-out cutoff are under-counts; keep at most this many of them.
DAYS_BEFORE_CUTOFF = 365


def _days(values: pd.Series) -> np.ndarray:
    """datetime64 column → day numbers since 1970-01-01 (NaT → a very late day)."""
    days = values.to_numpy(dtype="datetime64[s]").astype("datetime64[D]")
    out = days.astype(np.int64)
    out[np.isnat(days)] = np.iinfo(np.int32).max
    return out


def grid_bounds(book_in: pd.Series, book_out_cutoff: date | None, extract_date: date) -> tuple[date, date]:
    """First and last day of the grid: from the earliest book-in (but no more than a year before the
    book-out cutoff, so a stray 1995 book-in does not add thirty years of zeros) to the extract day."""
    first = book_in.min()
    start = first.date() if pd.notna(first) else extract_date
    if book_out_cutoff is not None:
        start = max(start, book_out_cutoff - timedelta(days=DAYS_BEFORE_CUTOFF))
    return min(start, extract_date), extract_date


def population_from_stints(stints: pd.DataFrame, start: date, end: date) -> DailyPopulation:
    """Daily population for the countable stints (book-in, effective book-out, facility, person)."""
    n_days = (end - start).days + 1
    origin = np.datetime64(start, "D").astype(np.int64)
    person = person_codes(stints["unique_identifier"])  # no identifier: each row is its own person
    facility, codes = pd.factorize(stints["detention_facility_code"], sort=True, use_na_sentinel=True)
    labels, values = pd.factorize(stints["gender"], use_na_sentinel=True)  # few distinct values
    lookup = np.array([GENDER_CODES.get(str(v).strip().lower(), 0) for v in values] + [0], dtype=np.int8)
    gender = lookup[labels]  # the sentinel -1 picks the trailing 0
    return daily_population(
        person=person,
        facility=facility.astype(np.int64),
        facility_codes=np.asarray(codes, dtype=object),
        book_in_day=_days(stints["book_in_date_time"]) - origin,
        book_out_day=_days(stints["book_out_effective"]) - origin,
        gender=gender,
        start=np.datetime64(start, "D"),
        n_days=n_days,
    )


def facility_table(pop: DailyPopulation) -> pd.DataFrame:
    """Dense facility × day table (zeros included), sorted by facility code then date."""
    n_fac, n_days = pop.midnight.shape
    return pd.DataFrame({
        "detention_facility_code": pd.Categorical.from_codes(np.repeat(np.arange(n_fac), n_days),
                                                             categories=pd.Index(pop.facilities.astype(str))),
        "date": np.tile(pop.dates(), n_fac),
        "n_detained_at_midnight": pop.midnight.ravel(),
        "n_detained": pop.anytime.ravel(),
        "n_detained_male": pop.anytime_male.ravel(),
        "n_detained_female": pop.anytime_female.ravel(),
    })


def national_table(pop: DailyPopulation, book_out_cutoff: date | None, extract_date: date) -> pd.DataFrame:
    dates = pop.dates()
    provisional = dates == np.datetime64(extract_date, "D")
    if book_out_cutoff is not None:
        provisional |= dates < np.datetime64(book_out_cutoff, "D")
    return pd.DataFrame({
        "date": dates,
        "n_detained_at_midnight": pop.national_midnight,
        "n_detained": pop.national_anytime,
        "provisional": provisional,
    })
