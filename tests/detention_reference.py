"""The naive reference for daily population, written to be obviously right, not fast.

For every day: filter the stints in custody at midnight (date(book-in) ≤ D and date(book-out) ≥ D+1)
or present at any time (date(book-in) ≤ D ≤ date(book-out)), count distinct identifiers.
Rows without an identifier count as one person each (as in the fast code).
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd


def _prepared(stints: pd.DataFrame) -> pd.DataFrame:
    ids = stints["unique_identifier"].astype(object)
    missing = ids.isna()
    ids = ids.where(~missing, pd.Series([f"__row{i}" for i in range(len(stints))], index=stints.index))
    return pd.DataFrame({
        "id": ids.astype(str).to_numpy(),
        "fac": stints["detention_facility_code"].astype(object).to_numpy(),
        "bi": stints["book_in_date_time"].to_numpy(dtype="datetime64[s]").astype("datetime64[D]"),
        "bo": stints["book_out_effective"].to_numpy(dtype="datetime64[s]").astype("datetime64[D]"),
        "gender": stints["gender"].astype(object).str.strip().str.lower().to_numpy() if "gender" in stints else None,
    })


def naive_population(stints: pd.DataFrame, start: date, end: date) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(facility rows with any non-zero count, national rows for every day)."""
    rows = _prepared(stints)
    facility_rows, national_rows = [], []
    day = start
    while day <= end:
        d = np.datetime64(day, "D")
        midnight = rows[(rows.bi <= d) & (rows.bo >= d + 1)]
        anytime = rows[(rows.bi <= d) & (rows.bo >= d)]
        national_rows.append((d, midnight.id.nunique(), anytime.id.nunique()))
        at_fac_mid = midnight[midnight.fac.notna()].groupby("fac").id.nunique()
        at_fac_any = anytime[anytime.fac.notna()].groupby("fac").id.nunique()
        male = anytime[anytime.fac.notna() & (anytime.gender == "male")].groupby("fac").id.nunique()
        female = anytime[anytime.fac.notna() & (anytime.gender == "female")].groupby("fac").id.nunique()
        for fac in at_fac_any.index:
            facility_rows.append((fac, d, int(at_fac_mid.get(fac, 0)), int(at_fac_any[fac]),
                                  int(male.get(fac, 0)), int(female.get(fac, 0))))
        day += timedelta(days=1)
    facility = pd.DataFrame(facility_rows, columns=["detention_facility_code", "date", "n_detained_at_midnight",
                                                    "n_detained", "n_detained_male", "n_detained_female"])
    national = pd.DataFrame(national_rows, columns=["date", "n_detained_at_midnight", "n_detained"])
    return facility, national
