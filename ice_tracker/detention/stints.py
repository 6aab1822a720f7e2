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
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

from ice_tracker.detention.columns import PROVENANCE, columns_of_kind

log = logging.getLogger(__name__)

CORE_DATETIMES = ("stay_book_in_date_time", "book_in_date_time", "book_out_date_time", "stay_book_out_date_time")
CORE_TEXT = ("unique_identifier", "detention_facility_code", "detention_facility", "gender")
BOND_COLUMNS = ("initial_bond_set_date", "bond_posted_date", "initial_bond_set_amount", "bond_posted_amount")
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


def _flag_bond_only(frame: pd.DataFrame, has_id: np.ndarray) -> np.ndarray:
    identity = pd.util.hash_pandas_object(frame[_identity_columns(frame)], index=False).to_numpy()
    order = pd.DataFrame({
        "h": identity,
        "d1": frame["initial_bond_set_date"].to_numpy(),
        "d2": frame["bond_posted_date"].to_numpy(),
        "pos": np.arange(len(frame)),
    })[has_id]
    order = order.sort_values(["h", "d1", "d2", "pos"], na_position="first", kind="stable")
    flags = np.zeros(len(frame), dtype=bool)
    flags[order["pos"].to_numpy()[order["h"].duplicated(keep="last").to_numpy()]] = True
    return flags


def _flag_same_day(frame: pd.DataFrame, eligible: np.ndarray) -> np.ndarray:
    keys = pd.DataFrame({
        "id": frame["unique_identifier"],
        "fac": frame["detention_facility_code"],
        "day": frame["book_in_date_time"].dt.floor("D"),
        "stay": frame["stay_book_in_date_time"],
        "bi": frame["book_in_date_time"],
        "pos": np.arange(len(frame)),
    })[eligible & frame["book_in_date_time"].notna().to_numpy()]
    keys = keys.sort_values(["id", "fac", "day", "stay", "bi", "pos"], kind="stable")
    dup = keys.duplicated(["id", "fac", "day", "stay"], keep="last").to_numpy()
    flags = np.zeros(len(frame), dtype=bool)
    flags[keys["pos"].to_numpy()[dup]] = True
    return flags


def end_of_extract_day(extract_date: date) -> date:
    """The effective book-out of a stint still open at the extract: the midnight ending the extract day."""
    return extract_date + timedelta(days=1)


def build_stints(frame: pd.DataFrame, extract_date: date) -> tuple[pd.DataFrame, StintCounts]:
    """Sorted stint table with duplicate flags and an effective book-out for every stint."""
    frame = _ensure_columns(frame)
    frame = frame.sort_values(list(SORT_KEYS), na_position="last", kind="stable", ignore_index=True)
    has_id = frame["unique_identifier"].notna().to_numpy()
    bond_only = _flag_bond_only(frame, has_id)
    same_day = _flag_same_day(frame, has_id & ~bond_only)
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


def countable(stints: pd.DataFrame) -> pd.DataFrame:
    """The stints that enter population counts and stays: not duplicates, with a usable interval."""
    keep = ~stints["duplicate"] & stints["book_in_date_time"].notna() & ~stints["book_out_before_book_in"]
    return stints.loc[keep.to_numpy()]
