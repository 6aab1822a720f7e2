"""Stays: consecutive stints of one person, keyed by (identifier, stay book-in).

A stay's book-in/book-out come from ICE's stay columns, which need not match the first/last stint
(seed 001: a stay booked in 1995 whose first listed placement is 2010), so they are kept as given and
the first stint's book-in is reported beside them.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ice_tracker.detention.recodes import RECODED_COLUMNS, stay_recodes
from ice_tracker.detention.stints import end_of_extract_day, person_codes, sort_codes


STAY_COLUMNS = [
    "unique_identifier", "stay_book_in_date_time", "stay_book_out_date_time", "n_stints",
    "first_detention_facility_code", "last_detention_facility_code", "longest_detention_facility_code",
    "first_book_in_date_time", "last_book_out_date_time", "stay_length_days", "ongoing",
    "detention_facility_codes",
]


def _text(values: pd.Series) -> pa.Array:
    """A text or categorical column as one Arrow string array."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        categories = pa.array(values.cat.categories.astype(pd.StringDtype("pyarrow")).array).cast(pa.large_string())
        codes = values.cat.codes.to_numpy()
        return categories.take(pa.array(codes, mask=codes < 0))
    arr = pa.array(values.astype(pd.StringDtype("pyarrow")).array)
    return (arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr).cast(pa.large_string())


def _first_of_longest(duration: np.ndarray, first: np.ndarray, new: np.ndarray) -> np.ndarray:
    """Per group (runs starting at `first`), the row of the first longest stint (like idxmax), O(n)."""
    if not duration.size:
        return first
    group = np.cumsum(new) - 1
    longest = np.flatnonzero(duration == np.maximum.reduceat(duration, first)[group])
    keep = np.ones(longest.size, dtype=bool)
    keep[1:] = group[longest[1:]] != group[longest[:-1]]
    return longest[keep]


def build_stays(stints: pd.DataFrame, extract_date: date) -> tuple[pd.DataFrame, dict[str, int]]:
    """One row per (identifier, stay book-in) from countable stints that have an identifier.

    Stints without a stay book-in are given their own book-in as the stay key (and counted).
    stay_length_days runs from the stay book-in to the stay book-out, or for an ongoing stay to the
    end of the extract day (time so far); ALOS uses completed stays only.
    """
    extra = [c for c in RECODED_COLUMNS if c in stints]
    columns = ["unique_identifier", "stay_book_in_date_time", "stay_book_out_date_time", "book_in_date_time",
               "book_out_date_time", "book_out_effective", "detention_facility_code", *extra]
    with_id = stints["unique_identifier"].notna().to_numpy()
    rows = stints[columns] if with_id.all() else stints.loc[with_id, columns]
    ids = person_codes(rows["unique_identifier"])  # rows are sorted by identifier: codes in that order
    no_stay_key = rows["stay_book_in_date_time"].isna()
    if no_stay_key.any():  # keyed by their own book-in: the stints' (identifier, stay, book-in) order changes
        rows = rows.assign(stay_book_in_date_time=rows["stay_book_in_date_time"].fillna(rows["book_in_date_time"]))
        if (ids[1:] < ids[:-1]).any():  # not sorted by identifier after all: codes that sort like the text
            ids = sort_codes(rows["unique_identifier"])
        order = np.lexsort((sort_codes(rows["detention_facility_code"]), sort_codes(rows["book_in_date_time"]),
                            sort_codes(rows["stay_book_in_date_time"]), ids))
        rows, ids = rows.take(order), ids[order]
    rows = rows.reset_index(drop=True)  # else: already in build_stints' order
    n = len(rows)
    stay_in = rows["stay_book_in_date_time"].to_numpy(dtype="datetime64[s]")
    new = np.ones(n, dtype=bool)
    new[1:] = (ids[1:] != ids[:-1]) | (stay_in[1:] != stay_in[:-1])
    first = np.flatnonzero(new)
    last = np.append(first[1:] - 1, n - 1)
    book_in = rows["book_in_date_time"].to_numpy(dtype="datetime64[s]").astype(np.int64)
    duration = rows["book_out_effective"].to_numpy(dtype="datetime64[s]").astype(np.int64) - book_in
    longest = _first_of_longest(duration, first, new)
    facility = _text(rows["detention_facility_code"])
    text_dtype = pd.StringDtype("pyarrow")

    def group_max(column: str) -> np.ndarray:
        """Latest date-time per stay, NaT only when every stint's is missing (NaT is the smallest int64)."""
        values = rows[column].to_numpy(dtype="datetime64[s]").astype(np.int64)
        return (np.maximum.reduceat(values, first) if n else values).astype("datetime64[s]")

    stays = pd.DataFrame({
        "unique_identifier": rows["unique_identifier"].take(first).reset_index(drop=True),
        "stay_book_in_date_time": stay_in[first],
        "stay_book_out_date_time": group_max("stay_book_out_date_time"),
        "n_stints": (last - first + 1).astype("int64"),
        "first_detention_facility_code": pd.array(facility.take(first), dtype=text_dtype),
        "last_detention_facility_code": pd.array(facility.take(last), dtype=text_dtype),
        "longest_detention_facility_code": pd.array(facility.take(longest), dtype=text_dtype),
        "first_book_in_date_time": book_in[first].astype("datetime64[s]"),
        "last_book_out_date_time": group_max("book_out_date_time"),
    })
    stays["ongoing"] = stays["stay_book_out_date_time"].isna().to_numpy()
    end = stays["stay_book_out_date_time"].fillna(pd.Timestamp(end_of_extract_day(extract_date)))
    stays["stay_length_days"] = ((end - stays["stay_book_in_date_time"]).dt.total_seconds() / 86400.0).round(6)
    # all codes of a stay, in book-in order: rows are sorted by stay, so one Arrow list join does it
    offsets = pa.array(np.append(first, n).astype(np.int32))
    codes = facility.fill_null("").cast(pa.string())
    stays["detention_facility_codes"] = pd.array(pc.binary_join(pa.ListArray.from_arrays(offsets, codes), "|"), dtype=text_dtype)
    recoded = stay_recodes(rows, first, last)
    stays = stays[STAY_COLUMNS]
    for name, values in recoded.items():
        stays[name] = values
    counts = {
        "stays": len(stays),
        "ongoing": int(stays["ongoing"].sum()),
        "completed": int((~stays["ongoing"]).sum()),
        "stints_without_stay_book_in": int(no_stay_key.sum()),
        "stay_book_in_after_first_book_in": int((stays["stay_book_in_date_time"] > stays["first_book_in_date_time"]).sum()),
    }
    return stays, counts
