"""Small CSLLEA-shaped tables for matching tests (built in the test, never copied from fixtures)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ice_tracker.matching.normalise import agency_type_code_for

COLUMNS = ["agency_id", "name", "state", "county", "city", "zip", "ori", "agency_type", "agency_type_code",
           "population", "operating_budget"]


def reference_frame(rows: list[tuple]) -> pd.DataFrame:
    """rows: (agency_id, name, state, county, type label[, population, budget, ori, zip])."""
    records = []
    for row in rows:
        agency_id, name, state, county, label, *rest = row
        population, budget, ori, zip_code = (rest + [None, None, "", ""])[:4]
        records.append({
            "agency_id": str(agency_id), "name": name, "state": state, "county": county, "city": "",
            "zip": zip_code or "", "ori": ori or "", "agency_type": label,
            "agency_type_code": agency_type_code_for(label), "population": population, "operating_budget": budget,
        })
    return pd.DataFrame(records, columns=COLUMNS)


def write_tiny_csllea(path: Path) -> Path:
    """A two-agency CSLLEA table in the published column names (.tsv), for daily runs that must not download it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame([
        ["ALPHA COUNTY SHERIFF'S OFFICE", "700001", "ALPHA", "FL", "32801", "ALPHA", "FL0000001", "1", "1000000", "50000"],
        ["BETA POLICE DEPARTMENT", "700002", "BETA", "FL", "32802", "ALPHA", "FL0000002", "3", "500000", "20000"],
    ], columns=["AGENCYNAME", "AGENCYID", "CITY", "STATE", "ZIP", "COUNTY", "ORI9", "AGENCYSAMPTYPE", "OPBUDGET",
                "POPULATION"]).to_csv(path, sep="\t", index=False)
    return path
