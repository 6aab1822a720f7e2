"""BLN's groupings (seed 002, data appendix) as extra columns on stays, where the raw columns exist.

Case status → Voluntary return / Removed / Released / Died / Active case / Alien Enemies Act expulsion.
Criminality → the 2-digit NCIC group of the most serious conviction's charge code, and BLN's special
code: No criminal conviction (book-in criminality other than "1 Convicted Criminal"), Violent, Drugs,
Traffic, Immigration, else Other conviction. The mapping is data (`bln_recodes.csv`), reviewed by hand.
"""

from __future__ import annotations

import csv
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

RECODED_COLUMNS = ("case_status", "book_in_criminality", "msc_charge_code")  # the raw columns the groupings read

RECODES_CSV = Path(__file__).with_name("bln_recodes.csv")
MISSING = "(missing)"
CONVICTED = "1 Convicted Criminal"
NCIC_CODE = r"^\s*(\d{2})\d{2}"


@lru_cache(maxsize=1)
def recode_table() -> dict[str, dict[str, str]]:
    """field → {original value → group}."""
    table: dict[str, dict[str, str]] = {}
    with open(RECODES_CSV, newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            table.setdefault(row["field"], {})[row["value"]] = row["group"]
    return table


def case_status_group(values: pd.Series) -> pd.Series:
    """BLN's case-status group; unknown statuses stay blank (never guessed)."""
    mapping = recode_table()["case_status"]
    filled = values.astype("string").str.strip().fillna(MISSING)
    return filled.map(mapping).astype("string").replace("", pd.NA)


def criminality_groups(book_in_criminality: pd.Series | None, charge_code: pd.Series | None) -> dict[str, pd.Series]:
    """ncic_group (2 digits of the charge code) and bln_special_code, for the columns that exist."""
    out: dict[str, pd.Series] = {}
    index = (book_in_criminality if book_in_criminality is not None else charge_code).index
    group = pd.Series(pd.NA, index=index, dtype="string")
    if charge_code is not None:
        group = charge_code.astype("string").str.extract(NCIC_CODE, expand=False).astype("string")
        out["msc_ncic_group"] = group
    if book_in_criminality is not None:
        special = group.map(recode_table()["ncic_group"]).astype("string")
        convicted = book_in_criminality.astype("string").str.strip().eq(CONVICTED).fillna(False).to_numpy()
        special = special.where(~convicted | special.notna(), "Other conviction")
        special = special.where(convicted, "No criminal conviction")
        special = special.where(book_in_criminality.notna().to_numpy() | convicted, pd.NA)
        out["bln_special_code"] = special.astype("string")
    return out


def _distinct_rows(columns: list[pd.Series]) -> tuple[list[pd.Series], np.ndarray]:
    """The distinct combinations of the columns' values (short series) and which one each row holds:
    statuses and charge codes repeat a lot, so the text recoding runs on a few thousand values."""
    n = len(columns[0])
    key = np.zeros(n, dtype=np.int64)
    for column in columns:
        codes, uniques = pd.factorize(column, use_na_sentinel=True)
        key = key * (len(uniques) + 1) + (codes.astype(np.int64) + 1)  # 0 = missing
    _, first_row, inverse = np.unique(key, return_index=True, return_inverse=True)
    return [column.iloc[first_row].reset_index(drop=True) for column in columns], inverse.ravel()


def stay_recodes(rows: pd.DataFrame, first: np.ndarray, last: np.ndarray) -> dict[str, pd.Series]:
    """Extra stay columns: case status from the stay's last stint, criminality from its first."""
    picked: dict[str, pd.Series] = {}
    if "case_status" in rows:
        picked["case_status"] = rows["case_status"].take(last).reset_index(drop=True)
    for name in ("book_in_criminality", "msc_charge_code"):
        if name in rows:
            picked[name] = rows[name].take(first).reset_index(drop=True)
    if not picked:
        return {}
    distinct, inverse = _distinct_rows(list(picked.values()))
    values = dict(zip(picked, distinct))
    out: dict[str, pd.Series] = {}
    if "case_status" in values:
        out["case_status"] = values["case_status"].astype("string")
        out["case_status_group"] = case_status_group(values["case_status"])
    if "book_in_criminality" in values:
        out["book_in_criminality"] = values["book_in_criminality"].astype("string")
    if "book_in_criminality" in values or "msc_charge_code" in values:
        out.update(criminality_groups(values.get("book_in_criminality"), values.get("msc_charge_code")))
    return {name: pd.Series(column.array.take(inverse)) for name, column in out.items()}
