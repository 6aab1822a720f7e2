"""Derived tables the plots, the dashboard and `data/state_summary.csv` share.

Several rosters can carry the same roster date (ICE republishes a list in the afternoon): a day's
figure is its last roster's (latest snapshot, then file name), so every series has one point a day.
"""

from __future__ import annotations

import csv
from importlib import resources
from pathlib import PurePosixPath

import pandas as pd

from ice_tracker.models import MODEL_CODES, MODELS  # noqa: F401  (the one list of program models)
from ice_tracker.publish.inputs import Inputs

ALL = "ALL"
PDF_KINDS = ("moa", "addendum")


def data_file(name: str) -> str:
    return resources.files("ice_tracker.publish").joinpath("data", name).read_text(encoding="utf-8")


def state_population() -> pd.DataFrame:
    """The shipped 2020 Census resident population table (comment lines cite the source)."""
    lines = [line for line in data_file("state_population_2020.csv").splitlines() if not line.startswith("#")]
    frame = pd.DataFrame(list(csv.DictReader(lines)), dtype=str)
    frame["population_2020"] = frame["population_2020"].astype("int64")
    return frame


def population_source() -> str:
    comment = [line[1:].strip() for line in data_file("state_population_2020.csv").splitlines() if line.startswith("#")]
    return " ".join(comment)


def roster_series(counts: pd.DataFrame | None) -> pd.DataFrame:
    """One row per (list, date, support_type, state): that date's last roster's agreements and agencies."""
    columns = ["list", "date", "support_type", "state", "agreements", "agencies"]
    if counts is None or counts.empty:
        return pd.DataFrame(columns=columns)
    frame = counts[counts["roster_date"] != ""].copy()
    last = (frame[["list", "roster_date", "snapshot", "file"]].drop_duplicates()
            .sort_values(["list", "roster_date", "snapshot", "file"]).groupby(["list", "roster_date"]).tail(1))
    frame = frame.merge(last, on=["list", "roster_date", "snapshot", "file"])
    frame = frame.rename(columns={"roster_date": "date"})
    for column in ("agreements", "agencies"):
        frame[column] = pd.to_numeric(frame[column], errors="coerce").fillna(0).astype("int64")
    return frame[columns].sort_values(columns[:4]).reset_index(drop=True)


def totals(series: pd.DataFrame, list_name: str, support_type: str = ALL, state: str = ALL) -> pd.DataFrame:
    """date, agreements, agencies for one list / model / state (dates without a row → 0)."""
    dates = pd.Series(sorted(series.loc[series["list"] == list_name, "date"].unique()), name="date", dtype=str)
    picked = series[(series["list"] == list_name) & (series["support_type"] == support_type) & (series["state"] == state)]
    out = pd.DataFrame({"date": dates}).merge(picked[["date", "agreements", "agencies"]], on="date", how="left")
    return out.fillna(0).astype({"agreements": "int64", "agencies": "int64"})


def state_summary(series: pd.DataFrame) -> pd.DataFrame:
    """Per state: participating agreements/agencies on the latest roster, the change in agencies
    since the first archived roster, pending agreements, and agreements per 100,000 residents."""
    population = state_population()
    part = series[(series["list"] == "participating") & (series["support_type"] == ALL) & (series["state"] != ALL)]
    pend = series[(series["list"] == "pending") & (series["support_type"] == ALL) & (series["state"] != ALL)]

    def on(frame: pd.DataFrame, date: str | None, column: str) -> pd.Series:
        if date is None:
            return pd.Series(dtype="int64")
        return frame[frame["date"] == date].set_index("state")[column]

    first = part["date"].min() if len(part) else None
    last = part["date"].max() if len(part) else None
    last_pending = pend["date"].max() if len(pend) else None
    states = sorted(set(population["state"]) | set(part["state"]) | set(pend["state"]))
    out = pd.DataFrame({"state": states})
    out = out.merge(population[["state", "postal", "population_2020"]], on="state", how="left")
    out["participating_agreements"] = out["state"].map(on(part, last, "agreements")).fillna(0).astype("int64")
    out["participating_agencies"] = out["state"].map(on(part, last, "agencies")).fillna(0).astype("int64")
    first_agencies = out["state"].map(on(part, first, "agencies")).fillna(0).astype("int64")
    out["agencies_change_since_first"] = out["participating_agencies"] - first_agencies
    out["pending_agreements"] = out["state"].map(on(pend, last_pending, "agreements")).fillna(0).astype("int64")
    per = out["participating_agreements"] / out["population_2020"] * 100_000
    out["agreements_per_100k"] = per.map(lambda v: "" if pd.isna(v) else f"{v:.2f}")
    out["population_2020"] = out["population_2020"].map(lambda v: "" if pd.isna(v) else str(int(v)))
    out["postal"] = out["postal"].fillna("")
    out["first_roster_date"] = first or ""
    out["roster_date"] = last or ""
    out["pending_roster_date"] = last_pending or ""
    return out


def archived_pdfs(manifest: pd.DataFrame | None) -> tuple[dict[str, str], dict[tuple[str, str], list[str]]]:
    """Archived agreement PDFs: source URL → newest path, and (STATE, agency) → newest path per URL."""
    if manifest is None or manifest.empty:
        return {}, {}
    pdfs = manifest[manifest["kind"].isin(PDF_KINDS)].sort_values(["fetched_at", "path"])
    by_url = dict(zip(pdfs["source_url"], pdfs["path"]))
    by_agency: dict[tuple[str, str], list[str]] = {}
    for row in pdfs.itertuples(index=False):
        key = (" ".join(row.state.split()).upper(), " ".join(row.agency.split()))
        paths = by_agency.setdefault(key, [])
        if row.path not in paths:
            paths.append(row.path)
    return by_url, by_agency


CURRENT_COLUMNS = [
    "list", "state", "county", "agency", "type", "support_type", "signed", "roster_date", "agreement_id",
    "moa_url", "moa_archived", "addendum_url", "addendum_archived", "agency_id", "csllea_name", "ori",
    "agency_type", "population_policed", "operating_budget", "zip",
]


def current_agreements(inputs: Inputs) -> list[dict[str, str]]:
    """The newest roster of each list, with archived PDF paths and the agency's CSLLEA fields."""
    current = inputs.roster_current
    if current is None or current.empty:
        return []
    by_url, by_agency = archived_pdfs(inputs.manifest)
    csllea: dict[tuple[str, str], dict[str, str]] = {}
    if inputs.agreements is not None:
        fields = ["agency_id", "ori", "agency_type", "population_policed", "operating_budget", "zip"]
        for row in inputs.agreements[["state", "agency", *fields]].drop_duplicates(["state", "agency"], keep="last").itertuples(index=False):
            csllea[(row.state, row.agency)] = {f: getattr(row, f) for f in fields}
    names: dict[tuple[str, str], str] = {}
    if inputs.matches is not None:
        names = {(r.state, r.agency): r.csllea_name for r in inputs.matches.itertuples(index=False)}
    out = []
    for row in current.itertuples(index=False):
        key = (row.state, row.agency)
        ref = csllea.get(key, {})
        fallback = by_agency.get((" ".join(row.state.split()).upper(), " ".join(row.agency.split())), [])
        moa = by_url.get(row.moa_url, "") or (fallback[-1] if row.moa_url and fallback else "")
        item = {
            "list": row.list, "state": row.state, "county": row.county, "agency": row.agency, "type": row.type,
            "support_type": row.support_type, "signed": row.signed, "roster_date": row.roster_date,
            "agreement_id": row.agreement_id, "moa_url": row.moa_url, "moa_archived": moa,
            "addendum_url": row.addendum_url, "addendum_archived": by_url.get(row.addendum_url, ""),
            "csllea_name": names.get(key, ""),
        }
        for field in ("agency_id", "ori", "agency_type", "population_policed", "operating_budget", "zip"):
            item[field] = ref.get(field, "")
        out.append(item)
    out.sort(key=lambda r: (r["list"] != "participating", r["state"], r["agency"], r["support_type"], r["agreement_id"]))
    return out


def latest_pdf_date(manifest: pd.DataFrame | None) -> str:
    if manifest is None or manifest.empty:
        return ""
    pdfs = manifest[manifest["kind"].isin(PDF_KINDS)]
    return str(pdfs["fetched_at"].max())[:10] if len(pdfs) else ""


def detention_national(inputs: Inputs) -> pd.DataFrame | None:
    daily = inputs.national_daily
    if daily is None or daily.empty:
        return None
    out = pd.DataFrame({
        "date": pd.to_datetime(daily["date"]),
        "n": pd.to_numeric(daily["n_detained_at_midnight"], errors="coerce"),
        "provisional": daily["provisional"].str.lower().eq("true"),
    })
    return out.dropna(subset=["n"]).sort_values("date").reset_index(drop=True)


def fiscal_year_adp(inputs: Inputs, scope: str = "national") -> pd.DataFrame | None:
    table = inputs.adp_fiscal_year
    if table is None or table.empty:
        return None
    rows = table[table["scope"] == scope].copy()
    rows["adp"] = pd.to_numeric(rows["adp_at_midnight"], errors="coerce")
    for column in ("n_days", "n_provisional_days"):
        rows[column] = pd.to_numeric(rows.get(column, 0), errors="coerce").fillna(0).astype("int64")
    return rows.sort_values(["fiscal_year", "detention_facility_code"]).reset_index(drop=True)


def fy_label(day: pd.Timestamp) -> str:
    """The federal fiscal year (October–September) a day falls in: 2024-10-01 → FY2025."""
    return f"FY{day.year + (day.month >= 10)}"


def fy_bounds(label: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    """FY2025 → 2024-10-01 .. 2025-09-30."""
    year = int(label.removeprefix("FY"))
    return pd.Timestamp(year - 1, 10, 1), pd.Timestamp(year, 9, 30)


def top_facilities(inputs: Inputs, n: int = 20) -> tuple[str, pd.DataFrame] | None:
    """The latest fiscal year's n facilities with the highest ADP (ties by code), with names."""
    fy = fiscal_year_adp(inputs, "facility")
    if fy is None or fy.empty:
        return None
    latest = fy["fiscal_year"].max()
    rows = fy[fy["fiscal_year"] == latest].sort_values(["adp", "detention_facility_code"], ascending=[False, True]).head(n)
    names = {}
    if inputs.facilities is not None:
        names = dict(zip(inputs.facilities["detention_facility_code"], inputs.facilities["detention_facility"]))
    rows = rows.assign(name=[names.get(code) or code for code in rows["detention_facility_code"]])
    return latest, rows.reset_index(drop=True)


def site_relative(path: str) -> str:
    """A data-dir path as linked from site/index.html."""
    return str(PurePosixPath("..") / path) if path else ""
