"""The normalised stint table: one row per book-in, duplicates flagged (never dropped), open stints capped.

Duplicate rules (DOMAIN.md §5), applied only to rows that carry an identifier:
1. bond-only: rows identical except the four bond fields are one stint; the row with the latest bond
   dates is kept.
2. same-day: within (identifier, facility code, book-in calendar date, stay book-in) the latest
   book-in is kept.
Open stints (no book-out) run to the stay book-out when the stay has one, else through the whole
extract day: their effective book-out is the midnight that ends the extract day, so they count at
midnight on every day up to and including the extract date, and people booked in on the extract day
who are still detained are kept (DOMAIN.md §5).
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ice_tracker.detention.columns import PROVENANCE, columns_of_kind
from ice_tracker.detention.recodes import RECODED_COLUMNS

log = logging.getLogger(__name__)

CORE_DATETIMES = ("stay_book_in_date_time", "book_in_date_time", "book_out_date_time", "stay_book_out_date_time")
CORE_TEXT = ("unique_identifier", "detention_facility_code", "detention_facility", "gender")
BOND_COLUMNS = ("initial_bond_set_date", "bond_posted_date", "initial_bond_set_amount", "bond_posted_amount")
MISSING_LAST = np.iinfo(np.int64).max  # sort code of a missing date-time
SPLIT_SORT_ROWS = 200_000  # longer tables are sorted in two halves at once
SORT_KEYS = ("unique_identifier", "stay_book_in_date_time", "book_in_date_time", "detention_facility_code", "source_file", "source_sheet", "source_row")


@dataclass
class StintCounts:
    rows: int
    duplicates_bond_only: int
    duplicates_same_day: int
    missing_identifier: int
    missing_book_in: int
    missing_facility_code: int
    open_stints: int
    open_capped_at_stay_book_out: int
    open_capped_at_extract_date: int
    book_out_before_book_in: int

    def as_dict(self) -> dict[str, int]:
        return {key: int(value) for key, value in self.__dict__.items()}


def _ensure_columns(frame: pd.DataFrame) -> pd.DataFrame:
    for name in CORE_DATETIMES:
        if name not in frame:
            frame[name] = pd.Series(pd.NaT, index=frame.index, dtype="datetime64[s]")
    for name in CORE_TEXT:
        if name not in frame:
            frame[name] = pd.Series(pd.NA, index=frame.index, dtype="string")
    for name in BOND_COLUMNS:
        if name not in frame:
            frame[name] = pd.Series(pd.NaT if "date" in name else float("nan"), index=frame.index,
                                    dtype="datetime64[s]" if "date" in name else "float64")
    for name in PROVENANCE:
        if name not in frame:
            frame[name] = "" if name != "source_row" else 0
    return frame


def _identity_columns(frame: pd.DataFrame) -> list[str]:
    excluded = set(BOND_COLUMNS) | set(PROVENANCE) | set(columns_of_kind("provenance", "bond_date", "bond_number"))
    return [col for col in frame.columns if col not in excluded]


def sort_codes(values: pd.Series) -> np.ndarray:
    """int64 codes that sort like the values, missing last; equal values get equal codes."""
    if pd.api.types.is_datetime64_any_dtype(values):
        out = values.to_numpy(dtype="datetime64[s]").astype(np.int64)
        out[out == np.iinfo(np.int64).min] = np.iinfo(np.int64).max  # NaT
        return out
    if pd.api.types.is_integer_dtype(values) and not values.hasnans:
        return values.to_numpy(dtype=np.int64)
    if isinstance(values.dtype, pd.CategoricalDtype) and values.cat.categories.is_monotonic_increasing:
        codes = values.cat.codes.to_numpy().astype(np.int64)  # sorted categories: the codes sort already
        codes[codes < 0] = len(values.cat.categories)
        return codes
    codes, _ = pd.factorize(values, sort=True, use_na_sentinel=True)
    codes = codes.astype(np.int64)
    codes[codes < 0] = codes.max(initial=-1) + 1
    return codes


def _packed(keys: list[np.ndarray]) -> list[np.ndarray]:
    """The same lexicographic order in fewer int64 keys: constant keys dropped, neighbours packed into
    one integer while their value ranges multiply to less than 2**63 (codes, days and seconds are small)."""
    packed: list[np.ndarray] = []
    current, room = None, 1
    for key in keys:
        low, high = int(key.min()), int(key.max())
        if high == MISSING_LAST and low < high:  # missing (sort_codes' sentinel): just above the largest value
            missing = key == MISSING_LAST
            high = int(key[~missing].max()) + 1
            key = np.where(missing, high, key)
        width = high - low + 1
        if width == 1:
            continue
        if current is not None and room * width < 2**63:
            current, room = current * width + (key - low), room * width
            continue
        if current is not None:
            packed.append(current)
        current, room = (key - low, width) if width < 2**63 else (key, 2**63)  # too wide to shift or pack
    return packed + ([current] if current is not None else [])


def lexicographic_order(keys: list[np.ndarray]) -> np.ndarray:
    """Stable order by keys[0], then keys[1], … (like np.lexsort of the reversed list), on fewer keys.

    A trailing run of keys that the rows already follow (file, sheet, row number of a single table)
    cannot change a stable sort's result and is left out."""
    n = keys[0].size if keys else 0
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    for cut in range(1, len(keys)):  # drop the longest ordered suffix
        tail = _packed(keys[cut:])
        if len(tail) <= 1 and (not tail or bool((tail[0][1:] >= tail[0][:-1]).all())):
            keys = keys[:cut]
            break
    packed = _packed(keys)
    if not packed:
        return np.arange(n)
    if n < SPLIT_SORT_ROWS:
        return _stable_order(packed)
    # two halves by the first key (below / from its median), each sorted on its own thread (numpy's
    # sorts release the GIL): every first key of the lower half sorts before the upper half's, and
    # each half keeps its rows' original order among ties, so the joined order is the global one
    first = packed[0]
    lower = first < np.partition(first, n // 2)[n // 2]
    halves = (np.flatnonzero(lower), np.flatnonzero(~lower))
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="detention-sort") as pool:
        parts = list(pool.map(lambda rows: rows[_stable_order([key[rows] for key in packed])], halves))
    return np.concatenate(parts)


def _stable_order(packed: list[np.ndarray]) -> np.ndarray:
    return np.argsort(packed[0], kind="stable") if len(packed) == 1 else np.lexsort(packed[::-1])


def _same_as_neighbour(*keys: np.ndarray) -> np.ndarray:
    """Rows whose keys equal the previous or the next row's (in the current order)."""
    n = keys[0].size
    same_prev = np.ones(max(n - 1, 0), dtype=bool)
    for key in keys:
        same_prev &= key[1:] == key[:-1]
    out = np.zeros(n, dtype=bool)
    out[1:] |= same_prev
    out[:-1] |= same_prev
    return out


def _flag_bond_only(frame: pd.DataFrame, has_id: np.ndarray, candidates: np.ndarray) -> np.ndarray:
    """Among rows sharing (identifier, stay, book-in, facility) — the only ones that can be identical
    but for the bond fields — all but the one with the latest bond dates."""
    rows = np.flatnonzero(has_id & candidates)
    flags = np.zeros(len(frame), dtype=bool)
    if rows.size == 0:
        return flags
    part = frame.iloc[rows]
    identity = pd.util.hash_pandas_object(part[_identity_columns(frame)], index=False).to_numpy()
    order = np.lexsort((rows, _nat_first(part["bond_posted_date"]), _nat_first(part["initial_bond_set_date"]), identity))
    h = identity[order]
    last_of_group = np.append(h[1:] != h[:-1], True)
    flags[rows[order][~last_of_group]] = True
    return flags


def _nat_first(values: pd.Series) -> np.ndarray:
    """Datetimes as int64 with NaT first (the row with missing bond dates is the oldest)."""
    return values.to_numpy(dtype="datetime64[s]").astype(np.int64)


def _flag_same_day(codes: dict[str, np.ndarray], eligible: np.ndarray) -> np.ndarray:
    """Within (identifier, facility, book-in day, stay book-in) all but the latest book-in.

    Rows are sorted by (identifier, stay, book-in), so members of such a group sit next to each other
    in a run of equal (identifier, stay, book-in day): only those runs are sorted again."""
    day = np.where(codes["bi"] == np.iinfo(np.int64).max, -1, codes["bi"] // 86400)
    rows = np.flatnonzero(eligible & _same_as_neighbour(codes["id"], codes["stay"], day))
    flags = np.zeros(eligible.size, dtype=bool)
    if rows.size == 0:
        return flags
    keys = [codes["id"][rows], codes["fac"][rows], day[rows], codes["stay"][rows]]
    order = np.lexsort((rows, codes["bi"][rows], *keys[::-1]))
    last_of_group = np.ones(rows.size, dtype=bool)
    same_next = np.ones(rows.size - 1, dtype=bool)
    for key in keys:
        k = key[order]
        same_next &= k[1:] == k[:-1]
    last_of_group[:-1] = ~same_next
    flags[rows[order][~last_of_group]] = True
    return flags


def person_codes(ids: pd.Series) -> np.ndarray:
    """int64 code per row, equal for equal identifiers; a row without one is its own person.

    On a table sorted by identifier (missing last), as `build_stints` leaves it, the codes come from
    comparing neighbours (no hashing of 2.5 M long strings); otherwise from a factorize."""
    n = len(ids)
    text = pa.array(ids.array) if isinstance(ids.dtype, pd.StringDtype) and ids.dtype.storage == "pyarrow" else None
    if text is not None and n > 1:
        if isinstance(text, pa.ChunkedArray):
            text = text.combine_chunks()
        present = n - text.null_count
        head, before, after = text.slice(0, present), text.slice(0, max(present - 1, 0)), text.slice(1, max(present - 1, 0))
        if present > 1 and head.null_count == 0 and pc.all(pc.greater_equal(after, before)).as_py() is not False:
            changed = pc.not_equal(after, before).to_numpy(zero_copy_only=False)
            codes = np.empty(n, dtype=np.int64)
            codes[0] = 0
            np.cumsum(changed, out=codes[1:present])
            codes[present:] = codes[present - 1] + 1 + np.arange(n - present)
            return codes
    codes, _ = pd.factorize(ids, use_na_sentinel=True)
    codes = codes.astype(np.int64)
    missing = codes < 0
    if missing.any():
        codes[missing] = codes.max(initial=-1) + 1 + np.arange(int(missing.sum()))
    return codes


def end_of_extract_day(extract_date: date) -> date:
    """The effective book-out of a stint still open at the extract: the midnight ending the extract day."""
    return extract_date + timedelta(days=1)


def _reordered(frame: pd.DataFrame, order: np.ndarray) -> pd.DataFrame:
    """Rows in `order`, column by column on two threads (numpy and Arrow takes release the GIL); each
    original is dropped as soon as its copy exists, so the peak is one table plus two columns, not two
    tables (the caller's frame is emptied: it is consumed)."""
    names = list(frame.columns)
    if np.array_equal(order, np.arange(len(frame))):
        return frame.reset_index(drop=True)

    def move(name: str) -> pd.Series:
        column = frame[name]
        values = column.array.take(order)  # no index checks or reindexing: order is a permutation
        return pd.Series(values, name=name)

    out: dict[str, pd.Series] = {}
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="detention-take") as pool:
        for name, column in zip(names, pool.map(move, names)):
            out[name] = column
            del frame[name]
    return pd.DataFrame(out, copy=False)  # no consolidation copy of same-typed columns


def build_stints(frame: pd.DataFrame, extract_date: date) -> tuple[pd.DataFrame, StintCounts]:
    """Sorted stint table with duplicate flags and an effective book-out for every stint.

    `frame` is consumed (its columns move to the returned table)."""
    frame = _ensure_columns(frame)
    # one sort, on integer codes, then one reordering of the whole table
    keys = {name: sort_codes(frame[name]) for name in SORT_KEYS}
    order = lexicographic_order([keys[name] for name in SORT_KEYS])
    frame = _reordered(frame, order)
    codes = {"id": keys["unique_identifier"][order], "stay": keys["stay_book_in_date_time"][order],
             "bi": keys["book_in_date_time"][order], "fac": keys["detention_facility_code"][order]}
    del keys
    has_id = frame["unique_identifier"].notna().to_numpy()
    bond_only = _flag_bond_only(frame, has_id, _same_as_neighbour(codes["id"], codes["stay"], codes["bi"], codes["fac"]))
    same_day = _flag_same_day(codes, has_id & ~bond_only & frame["book_in_date_time"].notna().to_numpy())
    frame["duplicate_bond_only"] = bond_only
    frame["duplicate_same_day"] = same_day
    frame["duplicate"] = bond_only | same_day

    if "stay_book_out_date" in frame:  # the 2012–2023 layout has only the date of the stay book-out
        frame["stay_book_out_date_time"] = frame["stay_book_out_date_time"].fillna(frame["stay_book_out_date"])
    book_in = frame["book_in_date_time"]
    book_out = frame["book_out_date_time"]
    stay_out = frame["stay_book_out_date_time"]
    open_stint = book_out.isna()
    use_stay = open_stint & stay_out.notna() & (stay_out >= book_in)
    cutoff = pd.Timestamp(end_of_extract_day(extract_date)).as_unit("s")
    effective = book_out.mask(use_stay, stay_out).fillna(cutoff)
    frame["open_stint"] = open_stint.to_numpy()
    frame["book_out_effective"] = effective.astype("datetime64[s]")
    backwards = book_in.notna() & (effective < book_in)
    frame["book_out_before_book_in"] = backwards.to_numpy()

    counts = StintCounts(
        rows=len(frame),
        duplicates_bond_only=int(bond_only.sum()),
        duplicates_same_day=int(same_day.sum()),
        missing_identifier=int((~has_id).sum()),
        missing_book_in=int(book_in.isna().sum()),
        missing_facility_code=int(frame["detention_facility_code"].isna().sum()),
        open_stints=int(open_stint.sum()),
        open_capped_at_stay_book_out=int(use_stay.sum()),
        open_capped_at_extract_date=int((open_stint & ~use_stay).sum()),
        book_out_before_book_in=int(backwards.sum()),
    )
    log.info("stints: %s", counts.as_dict())
    return frame, counts


# what stays, daily population and the facility list read of the countable stints
COUNTED_COLUMNS = ("unique_identifier", "stay_book_in_date_time", "stay_book_out_date_time", "book_in_date_time",
                   "book_out_date_time", "book_out_effective", "detention_facility_code", "detention_facility",
                   "gender", *RECODED_COLUMNS)


def countable(stints: pd.DataFrame) -> pd.DataFrame:
    """The stints that enter population counts and stays: not duplicates, with a usable interval; only
    the columns those read (copying all ~60 of a release's stints to drop a few rows cost ~500 MB at
    750,000 rows, the command's peak)."""
    keep = (~stints["duplicate"] & stints["book_in_date_time"].notna() & ~stints["book_out_before_book_in"]).to_numpy()
    columns = [c for c in COUNTED_COLUMNS if c in stints]
    return stints[columns] if keep.all() else stints.loc[keep, columns]  # no copy when nothing goes
