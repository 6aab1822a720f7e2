"""Daily detained population, all days at once: merged intervals + a difference array.

A person is detained at midnight ending day D when date(book-in) ≤ D and date(book-out) ≥ D + 1,
i.e. the stint covers the half-open day interval [date(book-in), date(book-out)). Counting distinct
people (not stints) per facility and nationally: merge each person's intervals (per facility, or
across facilities) so they no longer overlap; then the number of merged intervals covering a day is
the number of distinct people, and a +1/−1 difference array with one cumulative sum gives every day.
Cost: one sort per grouping, O(n log n) in stints, independent of the number of days.
"Present any time in the day" uses the closed interval [date(book-in), date(book-out)].
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

GENDER_CODES = {"male": 1, "female": 2}


@dataclass
class DailyPopulation:
    """Counts on a day grid starting at `start` (datetime64[D]); facility arrays are [facility, day]."""

    start: np.datetime64
    facilities: np.ndarray  # facility codes, index = row of the 2-D arrays
    midnight: np.ndarray
    anytime: np.ndarray
    anytime_male: np.ndarray
    anytime_female: np.ndarray
    national_midnight: np.ndarray
    national_anytime: np.ndarray

    @property
    def n_days(self) -> int:
        return int(self.national_midnight.shape[0])

    def dates(self) -> np.ndarray:
        return self.start + np.arange(self.n_days).astype("timedelta64[D]")


def _sort_order(group: np.ndarray, start: np.ndarray, span: int) -> np.ndarray:
    """Order by (group, start): one int64 key when it fits, else a lexsort."""
    if group.size and int(group.max()) < (np.iinfo(np.int64).max // (span + 1)) - 1:
        key = group * (span + 1) + start
        if (key[1:] >= key[:-1]).all():  # stints sorted by person and book-in come in order already
            return np.arange(key.size)
        return np.argsort(key)  # ties are interchangeable: no need for stable
    return np.lexsort((start, group))


def _merged_coverage(group: np.ndarray, start: np.ndarray, end: np.ndarray, bins: np.ndarray,
                     n_bins: int, n_days: int) -> np.ndarray:
    """Per bin and day, how many groups cover the day (intervals [start, end) in day indices).

    Input must be sorted by (group, start). Within a group, overlapping or touching intervals are
    merged with a segmented running maximum of the ends (each group is lifted by an offset larger
    than any day index, so one `np.maximum.accumulate` never leaks across groups).
    """
    width = n_days + 1
    if group.size == 0:
        return np.zeros((n_bins, n_days), dtype=np.int32)
    new_group = np.empty(group.size, dtype=bool)
    new_group[0] = True
    np.not_equal(group[1:], group[:-1], out=new_group[1:])
    offset = np.cumsum(new_group, dtype=np.int64) * (width + 1)
    lifted_end = end + offset
    running = np.maximum.accumulate(lifted_end)
    block_start = np.empty(group.size, dtype=bool)
    block_start[0] = True
    np.greater(start[1:] + offset[1:], running[:-1], out=block_start[1:])
    first = np.flatnonzero(block_start)
    last = np.append(first[1:] - 1, group.size - 1)
    s = start[first]
    e = running[last] - offset[last]
    b = bins[first]
    diff = np.bincount(b * width + s, minlength=n_bins * width).astype(np.int64)
    diff -= np.bincount(b * width + e, minlength=n_bins * width)
    return np.cumsum(diff.reshape(n_bins, width), axis=1)[:, :n_days].astype(np.int32)


def _clip(start: np.ndarray, end: np.ndarray, n_days: int) -> tuple[np.ndarray, np.ndarray]:
    """Intervals cut to the grid. Empty ones (start == end) stay: they add +1 and −1 on the same day,
    and inside the merge they never widen a block, so no mask (and no copy) is needed."""
    s = np.clip(start, 0, n_days)
    return s, np.maximum(np.clip(end, 0, n_days), s)


def daily_population(person: np.ndarray, facility: np.ndarray, facility_codes: np.ndarray,
                     book_in_day: np.ndarray, book_out_day: np.ndarray, gender: np.ndarray,
                     start: np.datetime64, n_days: int) -> DailyPopulation:
    """Distinct people per facility and nationally for every day of the grid.

    person, facility: integer codes (facility indexes `facility_codes`; -1 = no facility, counted
    nationally only). book_in_day / book_out_day: day numbers relative to `start` (date parts of the
    book-in and the effective book-out). gender: 0 unknown, 1 male, 2 female.
    """
    person = np.asarray(person, dtype=np.int64)
    facility = np.asarray(facility, dtype=np.int64)
    bi = np.asarray(book_in_day, dtype=np.int64)
    bo = np.asarray(book_out_day, dtype=np.int64)
    gender = np.asarray(gender, dtype=np.int8)
    n_fac = int(len(facility_codes))
    span = n_days + 2

    # the per-facility and the national counts are independent: the national one runs on a second
    # thread (numpy's sorts, gathers and accumulations release the GIL)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="detention-national") as pool:
        national = pool.submit(_national_counts, person, bi, bo, n_days, span)
        midnight, anytime, male, female = _facility_counts(person, facility, bi, bo, gender, n_fac, n_days, span)
        national_midnight, national_anytime = national.result()
    return DailyPopulation(start, np.asarray(facility_codes), midnight, anytime, male, female,
                           national_midnight, national_anytime)


def _facility_counts(person: np.ndarray, facility: np.ndarray, bi: np.ndarray, bo: np.ndarray, gender: np.ndarray,
                     n_fac: int, n_days: int, span: int) -> tuple[np.ndarray, ...]:
    """Midnight, any-time, male and female any-time counts per [facility, day]: group = (person,
    facility), bin = facility."""
    at_fac = facility >= 0
    p, f, g = person[at_fac], facility[at_fac], gender[at_fac]
    s, e_mid = _clip(bi[at_fac], bo[at_fac], n_days)
    e_any = np.maximum(np.clip(bo[at_fac] + 1, 0, n_days), s)
    key = p * max(n_fac, 1) + f
    order = _sort_order(key, s, span)  # one sort serves every facility measure
    key, f, g, s, e_mid, e_any = key[order], f[order], g[order], s[order], e_mid[order], e_any[order]
    midnight = _merged_coverage(key, s, e_mid, f, n_fac, n_days)
    anytime = _merged_coverage(key, s, e_any, f, n_fac, n_days)
    by_gender = []
    for code in (GENDER_CODES["male"], GENDER_CODES["female"]):
        keep = g == code
        by_gender.append(_merged_coverage(key[keep], s[keep], e_any[keep], f[keep], n_fac, n_days))
    return midnight, anytime, by_gender[0], by_gender[1]


def _national_counts(person: np.ndarray, bi: np.ndarray, bo: np.ndarray, n_days: int,
                     span: int) -> tuple[np.ndarray, np.ndarray]:
    """Midnight and any-time counts per day nationally: group = person, one bin."""
    s, e_mid = _clip(bi, bo, n_days)
    e_any = np.maximum(np.clip(bo + 1, 0, n_days), s)
    order = _sort_order(person, s, span)
    pp, s, e_mid, e_any = person[order], s[order], e_mid[order], e_any[order]
    zeros = np.zeros(pp.size, dtype=np.int64)
    return _merged_coverage(pp, s, e_mid, zeros, 1, n_days)[0], _merged_coverage(pp, s, e_any, zeros, 1, n_days)[0]
