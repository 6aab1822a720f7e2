"""Inputs for the publish tests: tiny hand-made data dirs, and detention outputs aggregated from DDP's
real facility-day file (in the layout the detention command writes) when the shared fixtures are present."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ice_tracker.archive import MANIFEST_COLUMNS
from ice_tracker.fileio import write_csv, write_json
from ice_tracker.matching.agreements import AGREEMENT_COLUMNS
from ice_tracker.matching.outputs import REVIEW_COLUMNS
from ice_tracker.roster.changes import CHANGE_COLUMNS
from ice_tracker.roster.history_files import write_history
from ice_tracker.roster.intervals import rosters_from_rows

HISTORY = ["snapshot", "file", "roster_date", "roster_date_source", "list", "row_number", "state", "state_raw",
           "agency", "county", "county_raw", "type", "support_type", "support_type_raw", "signed", "signed_raw",
           "moa_url", "addendum_url", "agreement_id", "source_format"]
MODELS = {"JEM": "Jail Enforcement Model", "TFM": "Task Force Model", "WSO": "Warrant Service Officer"}

# (date, list, state, agency, county, model); each roster lists its agreements in full.
ROSTERS = {
    ("2025-05-16", "participating"): [
        ("ALABAMA", "Colbert County Sheriff's Office", "Colbert County", "JEM"),
        ("FLORIDA", "Miami Police Department", "Miami-Dade County", "TFM"),
        ("FLORIDA", "Orange County Sheriff's Office", "Orange County", "WSO"),
        ("TEXAS", "Harris County Sheriff's Office", "Harris County", "JEM"),
    ],
    ("2025-05-20", "participating"): [
        ("ALABAMA", "Colbert County Sheriff's Office", "Colbert County", "JEM"),
        ("ALABAMA", "Colbert County Sheriff's Office", "Colbert County", "WSO"),
        ("FLORIDA", "Miami Police Department", "Miami-Dade County", "TFM"),
        ("FLORIDA", "Orange County Sheriff's Office", "Orange County", "WSO"),
        ("FLORIDA", "Tampa Police Department", "Hillsborough County", "TFM"),
        ("TEXAS", "Harris County Sheriff's Office", "Harris County", "JEM"),
    ],
    ("2025-05-16", "pending"): [("TEXAS", "Galveston County Sheriff's Office", "Galveston County", "TFM")],
    ("2025-05-20", "pending"): [("TEXAS", "Galveston County Sheriff's Office", "Galveston County", "TFM"),
                                ("FLORIDA", "Lee County Sheriff's Office", "Lee County", "JEM")],
}


def _snapshot(date: str) -> str:
    return f"sheets_{date.replace('-', '')}_151800"


def _file(date: str, list_name: str) -> str:
    y, m, d = date.split("-")
    return f"{list_name}Agencies{m}{d}{y}am.xlsx"


def write_roster_inputs(data_dir: Path) -> None:
    """A small but complete set of the scrape, history and matching outputs: two participating and two pending rosters."""
    data = data_dir / "data"
    history = []
    latest = {name: max(d for d, n in ROSTERS if n == name) for name in ("participating", "pending")}
    for (date, name), rows in sorted(ROSTERS.items()):
        snap, file = _snapshot(date), _file(date, name)
        for number, (state, agency, county, model) in enumerate(rows, start=2):
            moa = f"https://www.ice.gov/doclib/287gMOA/{agency.split()[0]}_{model}_MOA.pdf" if name == "participating" else ""
            row = [snap, file, date, "filename", name, number, state, state, agency, county, county,
                   "County", MODELS[model], MODELS[model], "2025-05-01" if moa else "", "", moa, "",
                   f"{state[:2]}-{model}-{len(agency):04d}", "xlsx"]
            history.append(row)
    rosters = rosters_from_rows(dict(zip(HISTORY, row)) for row in history)  # the history step's form: intervals
    rosters[0].quality.append(["3", "state", "AlABAMA", "ALABAMA", "state_case"])
    write_history(data, rosters)
    current = [r for r in history if r[2] == latest[r[4]]]
    change_cols = list(CHANGE_COLUMNS)
    prev = ["2025-05-16", _snapshot("2025-05-16"), _file("2025-05-16", "participating")]
    head = ["participating", "2025-05-20", _snapshot("2025-05-20"), _file("2025-05-20", "participating"), *prev]
    write_csv(data / "changes.csv", change_cols, [
        [*head, "added", "AL-WSO-0031", "ALABAMA", "Colbert County Sheriff's Office", MODELS["WSO"], "", "", "", "", "",
         ""],
        [*head, "added", "FL-TFM-0023", "FLORIDA", "Tampa Police Department", MODELS["TFM"], "", "", "", "", "", ""],
        [*head, "renamed", "FL-TFM-0023", "FLORIDA", "Miami Police Department", MODELS["TFM"], "agency",
         "Miami Police Dept", "Miami Police Department", "90.0", "signed", ""],
    ])
    agreements = []
    for i, r in enumerate(current):  # the agreements in force, as the match step writes them
        values = dict(zip(HISTORY, r))
        values.update(state_fips="", county_fips="", first_seen=r[2], last_changed=r[2], moa_archived_path="",
                      agency_id="63" + str(i).zfill(4), csllea_agency_name=r[8].upper(), ori=f"XX{i:07d}",
                      population_policed=str(10000 * (i + 1)), operating_budget="", zip="35000", agency_type="Sheriff",
                      match_score="100.0", match_method="exact", match_note="", needs_review="false")
        agreements.append([values[c] for c in AGREEMENT_COLUMNS])
    write_csv(data_dir / "agreements.csv", AGREEMENT_COLUMNS, agreements)
    match_cols = ["state", "agency", "county", "roster_type", "roster_rows", "kind", "agency_id", "csllea_name", "ori",
                  "agency_type", "match_score", "match_method", "runner_up_id", "runner_up_name", "runner_up_score",
                  "needs_review", "review_reason"]
    agencies = sorted({(r[6], r[8], r[9]) for r in history})
    write_csv(data / "agency_matches.csv", match_cols,
              [[s, a, c, "County", 1, "sheriff", f"7{i:05d}", a.upper(), f"XX{i:07d}", "Sheriff", "100.0", "exact",
                "", "", "", "false", ""] for i, (s, a, c) in enumerate(agencies)])
    write_csv(data / "match_review.csv", REVIEW_COLUMNS, [])  # the real header, so the dictionary check is real
    manifest_cols = MANIFEST_COLUMNS  # the real header, so the dictionary check is real
    manifest = []
    for (date, name) in sorted(ROSTERS):
        path = f"sheets/{_snapshot(date)}/{_file(date, name)}"
        manifest.append([path, name, f"https://www.ice.gov/doclib/{_file(date, name)}", "0" * 64, 100,
                         f"{date}T15:18:00Z", "", "", "", "", ""])
    for row in history:
        if row[16] and row[2] == latest["participating"]:
            folder = row[6] + "/" + row[8].replace(" ", "_")
            path = f"agreements/agreements_{row[2].replace('-', '')}_151800/{folder}/{row[16].rsplit('/', 1)[1]}"
            manifest.append([path, "moa", row[16], "1" * 64, 100, f"{row[2]}T15:18:00Z", "", "", "application/pdf",
                             row[6], row[8]])
    for row in manifest:
        row.extend(["live"] + [""] * (len(MANIFEST_COLUMNS) - len(row) - 1))
        target = data_dir / row[0]
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(b"%PDF-1.4 test\n" if row[0].endswith(".pdf") else b"PK test")
    write_csv(data_dir / "manifest.csv", manifest_cols, manifest)
    write_csv(data_dir / "failures.csv", ["url", "kind", "state", "agency", "error", "first_failed_at",
                                          "last_failed_at", "attempts"], [])


def write_detention_frame(out: Path, facility_days: pd.DataFrame, extract_date: str) -> None:
    """The detention command's CSV outputs from a facility-day table (code, name, date, n_detained_at_midnight, n_detained)."""
    days = facility_days.copy()
    days["date"] = pd.to_datetime(days["date"])
    national = days.groupby("date", sort=True)[["n_detained_at_midnight", "n_detained"]].sum().reset_index()
    national["provisional"] = national["date"] == pd.Timestamp(extract_date)
    write_csv(out / "national_daily_population.csv", ["date", "n_detained_at_midnight", "n_detained", "provisional"],
              [[d.strftime("%Y-%m-%d"), int(m), int(a), "true" if p else "false"]
               for d, m, a, p in national.itertuples(index=False)])
    fy = lambda s: "FY" + (s.dt.year + (s.dt.month >= 10)).astype(str)  # noqa: E731
    for period, label in (("fiscal_year", fy), ("month", lambda s: s.dt.strftime("%Y-%m"))):
        rows = []
        nat = national.assign(p=label(national["date"]))
        for key, group in nat.groupby("p", sort=True):
            rows.append(["national", "", key, len(group), int(group["provisional"].sum()),
                         f"{group['n_detained_at_midnight'].mean():.2f}", f"{group['n_detained_at_midnight'].mean():.2f}"])
        fac = days.assign(p=label(days["date"]))
        for (code, key), group in fac.groupby(["detention_facility_code", "p"], sort=True):
            if group["n_detained"].sum() > 0:
                rows.append(["facility", code, key, len(group), 0, f"{group['n_detained_at_midnight'].mean():.2f}", ""])
        write_csv(out / ("adp_fiscal_year.csv" if period == "fiscal_year" else "adp_monthly.csv"), ["scope", "detention_facility_code", period, "n_days",
                                              "n_provisional_days", "adp_at_midnight", "adp_facility_sum"], rows)
    names = days.sort_values("date").groupby("detention_facility_code", sort=True).agg(
        name=("detention_facility", "last"), first=("date", "min"), last=("date", "max"))
    write_csv(out / "facilities.csv", ["detention_facility_code", "detention_facility", "city", "state",
                                       "first_date_seen", "last_date_seen"],
              [[code, r.name, "", "", r.first.strftime("%Y-%m-%d"), r.last.strftime("%Y-%m-%d")]
               for code, r in names.iterrows()])
    write_csv(out / "alos_fiscal_year.csv", ["fiscal_year", "n_stays", "mean_days", "median_days"],
              [["FY2025", 1000, "40.50", "30.00"]])
    write_json(out / "report.json", {"extract_date": extract_date, "first_day": national["date"].min().strftime("%Y-%m-%d"),
                                     "last_day": national["date"].max().strftime("%Y-%m-%d")})


def write_small_detention(data_dir: Path) -> None:
    """Three facilities over FY2024–FY2025 (a day every 5 days, enough for every chart)."""
    dates = pd.date_range("2023-10-01", "2025-03-10", freq="5D")
    rows = []
    for i, date in enumerate(dates):
        for code, name, base in (("AAAFAC", "ALPHA PROCESSING CENTER", 900), ("BBBFAC", "BRAVO COUNTY JAIL", 300),
                                 ("CCCFAC", "CHARLIE DETENTION FACILITY", 120)):
            n = base + (i * 7) % 50
            rows.append({"detention_facility_code": code, "detention_facility": name, "date": date,
                         "n_detained_at_midnight": n, "n_detained": n + 5})
    write_detention_frame(data_dir / "data" / "detention", pd.DataFrame(rows), "2025-03-10")


def write_ddp_detention(data_dir: Path, parquet: Path) -> None:
    """The detention command's outputs aggregated from DDP's real facility-day file (March 2026 release)."""
    days = pd.read_parquet(parquet, columns=["detention_facility_code", "detention_facility", "date",
                                             "n_detained_at_midnight", "n_detained"])
    write_detention_frame(data_dir / "data" / "detention", days, "2026-03-10")
