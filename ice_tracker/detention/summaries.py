"""Period summaries: average daily population (ADP), average length of stay (ALOS), facility list.

ADP for a month or a fiscal year (Oct–Sep, named by the year it ends) is the mean over the period's
days of the daily midnight count. ALOS is the mean length of completed stays booked out in the
period, in fractional days.
"""

from __future__ import annotations

import csv
import logging
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from ice_tracker.detention.columns import normalize_name

log = logging.getLogger(__name__)


def fiscal_year(dates: pd.Series) -> pd.Series:
    """US federal fiscal year: October–September, named by the calendar year it ends in."""
    dates = pd.to_datetime(dates)
    return (dates.dt.year + (dates.dt.month >= 10)).astype("int64")


def period_label(dates: pd.Series, period: str) -> pd.Series:
    """'YYYY-MM' or 'FYYYYY' per date, formatted once per distinct period (days repeat a lot)."""
    days = pd.to_datetime(dates).to_numpy(dtype="datetime64[D]")
    if period == "month":
        keys = days.astype("datetime64[M]")
        unique, inverse = np.unique(keys, return_inverse=True)
        labels = np.array([str(m) for m in unique], dtype=object)
    elif period == "fiscal_year":
        years = fiscal_year(pd.Series(days)).to_numpy()
        unique, inverse = np.unique(years, return_inverse=True)
        labels = np.array([f"FY{y}" for y in unique], dtype=object)
    else:
        raise ValueError(f"unknown period {period!r}")
    return pd.Series(labels[inverse.ravel()] if len(days) else np.array([], dtype=object), index=dates.index)


def average_daily_population(daily: pd.DataFrame, value: str, period: str, by: list[str] | None = None,
                             provisional: str | None = None) -> pd.DataFrame:
    """Mean of `value` over the days of each period (per `by` group): period, n_days, adp.

    `daily` holds one row per day (per group). With `provisional`, a boolean column, the number of
    provisional days in each period is reported too.
    """
    by = list(by or [])
    frame = daily[by + [value]].copy()
    frame["period"] = period_label(daily["date"], period).to_numpy()
    frame["_provisional"] = daily[provisional].to_numpy() if provisional else False
    grouped = frame.groupby(by + ["period"], sort=True, observed=True)
    out = grouped.agg(n_days=(value, "size"), adp=(value, "mean"), n_provisional_days=("_provisional", "sum")).reset_index()
    out["n_days"] = out["n_days"].astype("int64")
    out["n_provisional_days"] = out["n_provisional_days"].astype("int64")
    return out


def alos_by_fiscal_year(stays: pd.DataFrame) -> pd.DataFrame:
    """Completed stays by book-out fiscal year (n, mean, median days), then one 'ongoing' row."""
    done = stays.loc[~stays["ongoing"], ["stay_book_out_date_time", "stay_length_days"]]
    done = done.assign(fiscal_year=period_label(done["stay_book_out_date_time"], "fiscal_year"))
    out = done.groupby("fiscal_year", sort=True)["stay_length_days"].agg(["size", "mean", "median"]).reset_index()
    out.columns = ["fiscal_year", "n_stays", "mean_days", "median_days"]
    ongoing = stays.loc[stays["ongoing"], "stay_length_days"]
    if len(ongoing):
        row = pd.DataFrame([{"fiscal_year": "ongoing", "n_stays": len(ongoing), "mean_days": ongoing.mean(),
                             "median_days": ongoing.median()}])
        out = pd.concat([out, row], ignore_index=True) if len(out) else row
    out["n_stays"] = out["n_stays"].astype("int64")
    return out


FACILITY_COLUMN_ALIASES = {
    "code": ("detention_facility_code", "facility_code", "code", "detloc"),
    "name": ("detention_facility_name", "detention_facility", "facility_name", "name"),
    "city": ("city", "facility_city"),
    "state": ("state", "facility_state"),
}


def _decode_lines(data: bytes) -> tuple[list[str], list[int]]:
    """Lines decoded one by one: utf-8, else cp1252 (public facility lists mix them), else utf-8 with
    U+FFFD. Returns the lines and the 1-based numbers of those that were not valid utf-8."""
    lines, odd = [], []
    for number, raw in enumerate(data.removeprefix(b"\xef\xbb\xbf").splitlines(), start=1):
        try:
            lines.append(raw.decode("utf-8"))
        except UnicodeDecodeError:
            odd.append(number)
            try:
                lines.append(raw.decode("cp1252"))
            except UnicodeDecodeError:
                lines.append(raw.decode("utf-8", errors="replace"))
    return lines, odd


def _read_text_reference(path: Path) -> tuple[pd.DataFrame, dict[str, list[int]]]:
    lines, odd = _decode_lines(path.read_bytes())
    delimiter = "\t" if path.suffix.lower() in (".tsv", ".tab") or (lines and "\t" in lines[0]) else ","
    rows = list(csv.reader(lines, delimiter=delimiter))
    if not rows:
        raise ValueError(f"{path.name}: empty facility list")
    header, body = rows[0], rows[1:]
    width = len(header)
    bad = [number for number, row in enumerate(body, start=2) if row and len(row) != width]
    kept = [row for row in body if row and len(row) == width]
    return pd.DataFrame(kept, columns=header, dtype=object), {"rows_not_utf8": odd, "rows_with_wrong_field_count": bad}


def read_facility_reference(path: Path) -> tuple[pd.DataFrame, dict[str, object]]:
    """A facility list (DDP's locations TSV, facilities parquet or any CSV): code → city, state.

    Text lists are decoded line by line, so one cp1252 byte costs nothing; rows that cannot be
    parsed are skipped and reported (their line numbers), never the whole file.
    """
    issues: dict[str, list[int]] = {}
    if path.suffix.lower() == ".parquet":
        raw = pd.read_parquet(path)
    else:
        raw, issues = _read_text_reference(path)
    columns = {normalize_name(c): c for c in raw.columns}
    picked = {}
    for target, options in FACILITY_COLUMN_ALIASES.items():
        found = next((columns[o] for o in options if o in columns), None)
        picked[target] = raw[found].astype("string").str.strip() if found else pd.Series(pd.NA, index=raw.index, dtype="string")
    if picked["code"].isna().all():
        raise ValueError(f"{path.name}: no facility code column")
    ref = pd.DataFrame(picked)
    ref = ref[ref["code"].notna() & (ref["code"] != "")]
    ref = ref.drop_duplicates("code", keep="first").set_index("code")
    report = {"file": path.name, "facilities": int(len(ref)), **issues}
    for key, numbers in issues.items():
        if numbers:
            log.warning("%s: %d line(s) %s: %s", path.name, len(numbers), key.replace("_", " "), numbers[:20])
    return ref, report


def _sorted_factorize(values: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """Codes and distinct values in text order (a categorical's own codes when its categories are sorted)."""
    if isinstance(values.dtype, pd.CategoricalDtype) and not values.cat.categories.is_monotonic_increasing:
        values = values.astype(values.cat.categories.dtype)
    codes, uniques = pd.factorize(values, sort=True)
    return codes.astype(np.int64), pd.Index(np.asarray(uniques, dtype=object))


def facility_list(stints: pd.DataFrame, reference: pd.DataFrame | None, last_day: date) -> pd.DataFrame:
    """Every facility code seen: latest name (by book-in), city/state from the reference, first/last day."""
    columns = ["detention_facility_code", "detention_facility", "book_in_date_time", "book_out_effective"]
    coded = stints["detention_facility_code"].notna().to_numpy()
    rows = stints[columns] if coded.all() else stints.loc[coded, columns]
    fac, codes = _sorted_factorize(rows["detention_facility_code"])
    book_in = rows["book_in_date_time"].to_numpy(dtype="datetime64[s]").astype(np.int64)
    named = rows["detention_facility"].notna().to_numpy()
    # latest name by book-in (ties: the alphabetically last): two scatter-max passes, no sort
    name_codes, names = _sorted_factorize(rows["detention_facility"])
    latest_in = np.full(len(codes), np.iinfo(np.int64).min, dtype=np.int64)
    np.maximum.at(latest_in, fac[named], book_in[named])
    candidate = named & (book_in == latest_in[fac])
    latest = np.full(len(codes), -1, dtype=np.int64)
    np.maximum.at(latest, fac[candidate], name_codes[candidate])
    has_name = latest >= 0
    latest_name = pd.Series(np.asarray(names, dtype=object)[latest[has_name]], index=np.asarray(codes, dtype=object)[has_name])
    never = np.iinfo(np.int64).max
    first_in = np.full(len(codes), never, dtype=np.int64)
    np.minimum.at(first_in, fac, np.where(book_in == np.iinfo(np.int64).min, never, book_in))
    last_out = np.full(len(codes), np.iinfo(np.int64).min, dtype=np.int64)
    np.maximum.at(last_out, fac, rows["book_out_effective"].to_numpy(dtype="datetime64[s]").astype(np.int64))
    last_out = np.minimum(last_out, np.datetime64(last_day, "s").astype(np.int64))
    out = pd.DataFrame({
        "first_date_seen": pd.Series(first_in.astype("datetime64[s]")).dt.strftime("%Y-%m-%d").to_numpy(),
        "last_date_seen": pd.Series(last_out.astype("datetime64[s]")).dt.strftime("%Y-%m-%d").to_numpy(),
    }, index=pd.Index(np.asarray(codes, dtype=object)))
    out.index.name = "detention_facility_code"
    out["detention_facility"] = latest_name.reindex(out.index).astype(object)
    if reference is not None:
        out["city"] = reference["city"].reindex(out.index)
        out["state"] = reference["state"].reindex(out.index)
    else:
        out["city"] = pd.NA
        out["state"] = pd.NA
    out = out.reset_index()
    return out[["detention_facility_code", "detention_facility", "city", "state", "first_date_seen", "last_date_seen"]]


def number(value: float, places: int = 2) -> str:
    """Fixed float formatting for CSV outputs (empty for missing)."""
    return "" if value is None or (isinstance(value, float) and np.isnan(value)) else f"{value:.{places}f}"
