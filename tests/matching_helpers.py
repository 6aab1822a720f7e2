"""Small CSLLEA-shaped tables for matching tests (built in the test, never copied from fixtures)."""

from __future__ import annotations

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
