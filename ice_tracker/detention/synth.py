"""Realistic synthetic stints for tests and benchmarks (no real person is in them).

Stays start uniformly over the period, last a log-normal number of days (median ~3 weeks, a long
tail of months), are split into 1–8 stints by transfers between facilities whose sizes follow a
Zipf-like law; about 5% of stints are open (no book-out) at the extract date. Stints booked in after
the extract date are dropped (a few more are generated to make up for them).
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from ice_tracker.detention.stints import end_of_extract_day


def synthetic_stints(n_stints: int, n_facilities: int = 700, start: date = date(2022, 10, 1),
                     extract_date: date = date(2026, 3, 11), open_share: float = 0.05,
                     seed: int = 0, string_ids: bool = False) -> pd.DataFrame:
    """A stint table with the canonical column names used by `build_stints`/`population_from_stints`."""
    rng = np.random.default_rng(seed)
    wanted, n_stints = n_stints, int(n_stints * 1.02) + 20  # a few are dropped after the extract
    per_stay = np.minimum(rng.geometric(0.55, size=n_stints), 8)
    cum = np.cumsum(per_stay)
    n_stays = int(np.searchsorted(cum, n_stints) + 1)
    per_stay = per_stay[:n_stays]
    per_stay[-1] -= int(cum[n_stays - 1] - n_stints)
    n_people = max(1, int(n_stays / 1.25))

    t0 = np.datetime64(start, "m").astype(np.int64) - 180 * 1440
    t1 = np.datetime64(extract_date, "m").astype(np.int64)
    stay_in = rng.integers(t0, t1, size=n_stays)
    length = np.minimum(np.exp(rng.normal(np.log(20.0), 1.3, size=n_stays)), 1500.0) * 1440
    stay_out = stay_in + length.astype(np.int64) + 1
    ongoing = (stay_out >= t1) | (rng.random(n_stays) < open_share * 1.0)

    stay_of = np.repeat(np.arange(n_stays), per_stay)
    rank = np.arange(n_stints) - np.repeat(np.cumsum(per_stay) - per_stay, per_stay)
    k = per_stay[stay_of]
    # stint boundaries: equal shares of the stay with jitter, a short gap at each transfer
    frac_in = (rank + rng.uniform(-0.3, 0.3, n_stints) * (rank > 0)) / k
    frac_out = (rank + 1 + rng.uniform(-0.3, 0.3, n_stints) * (rank < k - 1)) / k
    span = (stay_out - stay_in)[stay_of]
    book_in = stay_in[stay_of] + (frac_in * span).astype(np.int64) + rank * 45
    book_out = np.maximum(stay_in[stay_of] + (frac_out * span).astype(np.int64), book_in + 1)
    # nothing after the extract: stints still running then are open, later ones do not exist yet
    ongoing |= stay_out >= t1
    stint_open = (ongoing[stay_of] & (rank == k - 1)) | (book_out >= t1)
    exists = book_in < t1
    weights = 1.0 / np.arange(1, n_facilities + 1) ** 1.1
    facility = rng.choice(n_facilities, size=n_stints, p=weights / weights.sum())
    gender = np.where(rng.random(n_people) < 0.87, "Male", "Female")
    person = rng.integers(0, n_people, size=n_stays)[stay_of]

    def stamp(minutes: np.ndarray) -> np.ndarray:
        return minutes.astype("datetime64[m]").astype("datetime64[s]")

    out_stamps = stamp(book_out)
    out_stamps[stint_open] = np.datetime64("NaT")
    stay_out_stamps = stamp(stay_out[stay_of])
    stay_out_stamps[ongoing[stay_of]] = np.datetime64("NaT")
    codes = np.array([f"F{i:04d}" for i in range(n_facilities)], dtype=object)
    ids = pd.Series(person) if not string_ids else pd.Series(np.char.add("p", person.astype(str)), dtype="string")
    frame = pd.DataFrame({
        "unique_identifier": ids,
        "stay_book_in_date_time": stamp(stay_in[stay_of]),
        "book_in_date_time": stamp(book_in),
        "book_out_date_time": out_stamps,
        "stay_book_out_date_time": stay_out_stamps,
        "detention_facility_code": pd.Categorical.from_codes(facility, codes),
        "gender": pd.Categorical(gender[person]),
    })
    return frame[exists].iloc[:wanted].reset_index(drop=True)


def with_effective_book_out(stints: pd.DataFrame, extract_date: date) -> pd.DataFrame:
    """Open stints run through the extract day (what `build_stints` does, without the other checks)."""
    out = stints.copy()
    out["book_out_effective"] = out["book_out_date_time"].fillna(pd.Timestamp(end_of_extract_day(extract_date))).astype("datetime64[s]")
    return out
