"""A stint table whose counts reproduce a published facility-day file (DDP's), for tests and benches.

DDP published per facility and day `n_detained` (present any time in the day) and
`n_detained_at_midnight`. Those two series fix, per facility and day D,
    arrivals(D)   = n_detained(D) − n_detained_at_midnight(D − 1)
    departures(D) = n_detained(D) − n_detained_at_midnight(D)
and nothing more. Arrivals and departures are paired first-in, first-out at each facility (the k-th
arrival leaves with the k-th departure), which never books anyone out before their book-in because
arrivals so far always exceed departures so far by the midnight count. Arrivals left unpaired at the
end are still detained: no book-out. A departure after a stay of at least one night is chained to an
arrival at another facility on the same day (a transfer: same person, same stay), so the table has
realistic stays and national counts; a chain never revisits a facility on the day it left it, so
every facility-day count stays exactly DDP's.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

BOOK_IN_HOUR, BOOK_OUT_HOUR, SAME_DAY_OUT_HOUR = 10, 8, 16


def facility_day_matrices(daily: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.datetime64]:
    """(codes, any-time [facility, day], midnight [facility, day], first day) from a dense or sparse table."""
    days = pd.to_datetime(daily["date"]).to_numpy().astype("datetime64[D]")
    start = days.min()
    day = (days - start).astype(np.int64)
    codes, fac = np.unique(daily["detention_facility_code"].astype(str).to_numpy(), return_inverse=True)
    shape = (len(codes), int(day.max()) + 1)
    anytime = np.zeros(shape, dtype=np.int64)
    midnight = np.zeros(shape, dtype=np.int64)
    anytime[fac, day] = daily["n_detained"].to_numpy()
    midnight[fac, day] = daily["n_detained_at_midnight"].to_numpy()
    return codes, anytime, midnight, start


def _fifo_days(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Facility and day of every event, events of one facility in day order ([facility, day] counts)."""
    flat = counts.ravel()
    cell = np.repeat(np.arange(flat.size), flat)
    return cell // counts.shape[1], cell % counts.shape[1]


def _day_rank_key(days: np.ndarray, width: int) -> np.ndarray:
    """Sorted days → sorted (day, rank within the day) keys as one int64 (`width` > any rank)."""
    first = np.searchsorted(days, days, "left")
    return days * width + (np.arange(days.size) - first)


def reconstruct_stints(daily: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    """Stints (canonical column names) whose facility-day counts equal `daily`'s exactly."""
    codes, anytime, midnight, start = facility_day_matrices(daily)
    previous = np.zeros_like(midnight)
    previous[:, 1:] = midnight[:, :-1]
    arrivals, departures = anytime - previous, anytime - midnight
    if (arrivals < 0).any() or (departures < 0).any():
        raise ValueError("facility-day counts are not consistent (n_detained below a midnight count)")
    fac, arrive = _fifo_days(arrivals)  # sorted by facility, then day
    dep_fac, depart_day = _fifo_days(departures)
    n, n_dep = fac.size, dep_fac.size
    # k-th arrival at a facility pairs with its k-th departure
    first_arrival = np.searchsorted(fac, np.arange(len(codes)))
    first_departure = np.searchsorted(dep_fac, np.arange(len(codes)))
    rank = np.arange(n_dep) - first_departure[dep_fac]
    depart = np.full(n, -1, dtype=np.int64)
    depart[first_arrival[dep_fac] + rank] = depart_day
    closed = depart >= 0

    # transfers: a departure after at least one night, paired with an arrival elsewhere that day
    rng = np.random.default_rng(seed)
    leaving = np.flatnonzero(closed & (depart > arrive))
    leaving = leaving[np.lexsort((rng.random(leaving.size), depart[leaving]))]
    coming = np.flatnonzero(arrive > 0)
    coming = coming[np.lexsort((rng.random(coming.size), arrive[coming]))]
    previous_stint = np.full(n, -1, dtype=np.int64)
    # the k-th departure of a day pairs with the k-th arrival of that day: match on (day, k)
    out_key = _day_rank_key(depart[leaving], n + 1)
    in_key = _day_rank_key(arrive[coming], n + 1)
    at = np.searchsorted(in_key, out_key)
    found = at < in_key.size
    found[found] = in_key[at[found]] == out_key[found]
    out, into = leaving[found], coming[at[found]]
    ok = fac[out] != fac[into]
    previous_stint[into[ok]] = out[ok]
    # person and stay = the first stint of each chain (pointer jumping: log(chain length) passes)
    root = np.where(previous_stint >= 0, previous_stint, np.arange(n))
    while True:
        nxt = root[root]
        if np.array_equal(nxt, root):
            break
        root = nxt
    next_stint = np.full(n, -1, dtype=np.int64)
    has_prev = previous_stint >= 0
    next_stint[previous_stint[has_prev]] = np.flatnonzero(has_prev)

    day0 = np.datetime64(start, "s")
    minutes = rng.integers(0, 60, size=n).astype("timedelta64[m]").astype("timedelta64[s]")
    book_in = day0 + (arrive * 86400 + BOOK_IN_HOUR * 3600).astype("timedelta64[s]") + minutes
    out_hour = np.where(depart == arrive, SAME_DAY_OUT_HOUR, BOOK_OUT_HOUR)
    book_out = day0 + (np.maximum(depart, 0) * 86400 + out_hour * 3600).astype("timedelta64[s]") + minutes
    book_out[~closed] = np.datetime64("NaT")
    # the chain's last stint closes the stay
    tail = next_stint < 0
    last_of_root = np.empty(n, dtype=np.int64)
    last_of_root[root[tail]] = np.flatnonzero(tail)
    last = last_of_root[root]
    return pd.DataFrame({
        "unique_identifier": "r" + pd.Series(root).astype("string"),
        "stay_book_in_date_time": book_in[root],
        "book_in_date_time": book_in,
        "book_out_date_time": book_out,
        "stay_book_out_date_time": book_out[last],
        "detention_facility_code": pd.array(codes[fac], dtype="string"),
    })
