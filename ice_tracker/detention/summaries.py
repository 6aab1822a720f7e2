"""Period summaries: average daily population (ADP), average length of stay (ALOS), facility list.

ADP for a month or a fiscal year (Oct–Sep, named by the year it ends) is the mean over the period's
days of the daily midnight count. ALOS is the mean length of completed stays booked out in the
period, in fractional days.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ice_tracker.detention.columns import normalize_name


def fiscal_year(dates: pd.Series) -> pd.Series:
    """US federal fiscal year: October–September, named by the calendar year it ends in."""
    dates = pd.to_datetime(dates)
    return (dates.dt.year + (dates.dt.month >= 10)).astype("int64")


def period_label(dates: pd.Series, period: str) -> pd.Series:
    dates = pd.to_datetime(dates)
    if period == "month":
        return dates.dt.strftime("%Y-%m")
    if period == "fiscal_year":
        return fiscal_year(dates).map(lambda y: f"FY{y}")
    raise ValueError(f"unknown period {period!r}")


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


def read_facility_reference(path: Path) -> pd.DataFrame:
    """A facility list (DDP's locations TSV, facilities parquet or any CSV): code, city, state."""
    if path.suffix.lower() == ".parquet":
        raw = pd.read_parquet(path)
    else:
        raw = pd.read_csv(path, sep="\t" if path.suffix.lower() in (".tsv", ".tab") else ",", dtype=str, keep_default_na=False)
    columns = {normalize_name(c): c for c in raw.columns}
    picked = {}
    for target, options in FACILITY_COLUMN_ALIASES.items():
        found = next((columns[o] for o in options if o in columns), None)
        picked[target] = raw[found].astype("string").str.strip() if found else pd.Series(pd.NA, index=raw.index, dtype="string")
    if picked["code"].isna().all():
        raise ValueError(f"{path.name}: no facility code column")
    ref = pd.DataFrame(picked)
    ref = ref[ref["code"].notna() & (ref["code"] != "")]
    return ref.drop_duplicates("code", keep="first").set_index("code")


def facility_list(stints: pd.DataFrame, reference: pd.DataFrame | None) -> pd.DataFrame:
    """Every facility code seen: latest name (by book-in), city/state from the reference, first/last day."""
    rows = stints.loc[stints["detention_facility_code"].notna().to_numpy(),
                      ["detention_facility_code", "detention_facility", "book_in_date_time", "book_out_effective"]]
    named = rows[rows["detention_facility"].notna()].sort_values(["detention_facility_code", "book_in_date_time", "detention_facility"], kind="stable")
    latest_name = named.groupby("detention_facility_code", observed=True)["detention_facility"].last()
    grouped = rows.groupby("detention_facility_code", sort=True, observed=True)
    out = pd.DataFrame({
        "first_date_seen": grouped["book_in_date_time"].min().dt.strftime("%Y-%m-%d"),
        "last_date_seen": grouped["book_out_effective"].max().dt.strftime("%Y-%m-%d"),
    })
    out.index.name = "detention_facility_code"
    out["detention_facility"] = latest_name.reindex(out.index)
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
