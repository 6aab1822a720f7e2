"""match_agencies end to end on a small roster history: the three files, determinism, errors."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from ice_tracker.cli import main
from ice_tracker.fileio import read_dict_csv, write_dict_csv
from ice_tracker.matching.agreements import AGREEMENT_COLUMNS
from ice_tracker.matching.outputs import REVIEW_COLUMNS, RosterHistoryMissing
from ice_tracker.matching.pipeline import run_matching
from ice_tracker.roster.history_files import read_snapshots, write_history
from ice_tracker.roster.intervals import RosterRows, rosters_from_rows

REPO = Path(__file__).resolve().parents[1]
CSLLEA = [  # AGENCYNAME, AGENCYID, CITY, STATE, ZIP, COUNTY, ORI9, AGENCYSAMPTYPE, OPBUDGET, POPULATION
    ["ORANGE COUNTY SHERIFF'S OFFICE   ", "636929", "ORLANDO", "FL", "32801", "ORANGE", "FL0480000", "1", "300000000.0", "1400000"],
    ["ORLANDO POLICE DEPARTMENT        ", "636931", "ORLANDO", "FL", "32801", "ORANGE", "FL0480400", "3", "160000000", "280000"],
    ["ROBINSON TOWNSHIP POLICE DEPARTMENT", "634855", "PITTSBURGH", "PA", "15205", "ALLEGHENY", "PA0020000", "3", "", "13000"],
    ["ROBINSON TOWNSHIP POLICE DEPARTMENT", "634856", "MCDONALD", "PA", "15057", "WASHINGTON", "PA0630000", "3", "", "2000"],
    ["LAMPASAS COUNTY SHERIFF'S OFFICE ", "650148", "LAMPASAS", "TX", "76550", "LAMPASAS", "TX1410000", "1", "4000000", "21000"],
]


def history_row(snapshot, date, lst, n, state, agency, county, kind, model="Task Force Model", ident=""):
    return {"snapshot": snapshot, "file": f"{lst}.xlsx", "roster_date": date, "roster_date_source": "file_name",
            "list": lst, "row_number": n, "state": state, "state_raw": state, "agency": agency, "county": county,
            "county_raw": county, "type": kind, "support_type": model, "support_type_raw": model,
            "signed": "2025-02-26", "signed_raw": "2/26/2025", "moa_url": "", "addendum_url": "",
            "agreement_id": ident or f"{state[:2]}-{n}-{lst[:4]}"}


MOA = "https://www.ice.gov/doclib/287gMOA/orange.pdf"


@pytest.fixture
def workspace(tmp_path):
    data = tmp_path / "data_root"
    rows = [
        history_row("sheets_20250601_000000", "2025-06-01", "participating", 2, "FLORIDA", "Orange County Sheriff's Office", "Orange County", "County", ident="FL-TFM-orange"),
        history_row("sheets_20250601_000000", "2025-06-01", "participating", 3, "FLORIDA", "Orange County Corrections Department", "Orange County", "County", "Jail Enforcement Model"),
        history_row("sheets_20250601_000000", "2025-06-01", "participating", 4, "FLORIDA", "Orlando Police Department", "", "Municipality"),
        history_row("sheets_20250601_000000", "2025-06-01", "participating", 5, "TEXAS", "Lampass County Sheriff's Office", "Lampass County", "County"),
        history_row("sheets_20250601_000000", "2025-06-01", "pending", 2, "PENNSYLVANIA", "Robinson Township Police Department", "#N/A", "Municipality"),
        history_row("sheets_20250501_000000", "2025-05-01", "participating", 2, "FLORIDA", "Orange County Sheriff’s Office", "Orange County", "County", ident="FL-TFM-orange"),
    ]
    rows[0]["moa_url"] = MOA
    rows.insert(4, {**rows[0], "row_number": 6})  # ICE repeats a row now and then: still one agreement
    write_history(data / "data", rosters_from_rows(rows))  # as the history step writes it: intervals
    write_dict_csv(data / "data" / "changes.csv", ["list", "roster_date", "change", "agreement_id"], [
        {"list": "participating", "roster_date": "2025-05-20", "change": "changed", "agreement_id": "FL-TFM-orange"}])
    write_dict_csv(data / "manifest.csv", ["path", "kind", "source_url", "fetched_at"], [
        {"path": "agreements/agreements_20250601_000000/FLORIDA/Orange/orange.pdf", "kind": "moa", "source_url": MOA,
         "fetched_at": "2025-06-01T00:00:00+00:00"}])
    reference = tmp_path / "38771-0001-Data.tsv"
    pd.DataFrame(CSLLEA, columns=["AGENCYNAME", "AGENCYID", "CITY", "STATE", "ZIP", "COUNTY", "ORI9", "AGENCYSAMPTYPE",
                                  "OPBUDGET", "POPULATION"]).to_csv(reference, sep="\t", index=False)
    overrides = tmp_path / "overrides"
    write_dict_csv(overrides / "agency_matches.csv", ["state", "agency", "agency_id", "note"], [
        {"state": "FLORIDA", "agency": "Orlando Police Department", "agency_id": "636931", "note": "checked"},
        {"state": "OHIO", "agency": "Gone Police Department", "agency_id": "NONE", "note": "renamed"},
    ])
    write_dict_csv(overrides / "agency_aliases.csv", ["state", "alias", "csllea_name", "note"], [])
    return data, reference, overrides


def test_writes_the_three_files(workspace):
    data, reference, overrides = workspace
    run = run_matching(data, str(reference), data / "cache", overrides)
    assert sorted(run.files_changed) == ["agreements.csv", "data/agency_matches.csv", "data/match_review.csv"]
    assert [o.agency for o in run.unused_overrides] == ["Gone Police Department"]

    with open(data / "agreements.csv", newline="", encoding="utf-8") as handle:
        assert next(csv.reader(handle)) == AGREEMENT_COLUMNS
    agreements = read_dict_csv(data / "agreements.csv")
    assert len(agreements) == 5  # the agreements on the newest rosters, once each
    by_agency = {(r["roster_date"], r["agency"]): r for r in agreements}
    sheriff = by_agency[("2025-06-01", "Orange County Sheriff's Office")]
    assert (sheriff["first_seen"], sheriff["last_changed"], sheriff["list"]) == ("2025-05-01", "2025-05-20", "participating")
    assert (sheriff["state_fips"], sheriff["county_fips"], sheriff["csllea_agency_name"]) == (
        "12", "12095", "ORANGE COUNTY SHERIFF'S OFFICE")
    assert (sheriff["moa_url"], sheriff["moa_archived_path"]) == (
        MOA, "agreements/agreements_20250601_000000/FLORIDA/Orange/orange.pdf")
    assert (sheriff["agency_id"], sheriff["ori"], sheriff["population_policed"], sheriff["operating_budget"]) == (
        "636929", "FL0480000", "1400000", "300000000")
    assert (sheriff["zip"], sheriff["agency_type"], sheriff["match_method"], sheriff["match_score"]) == (
        "32801", "Sheriff", "exact", "100.0")
    jail = by_agency[("2025-06-01", "Orange County Corrections Department")]
    assert (jail["agency_id"], jail["ori"], jail["match_method"], jail["needs_review"]) == ("", "", "none", "false")
    orlando = by_agency[("2025-06-01", "Orlando Police Department")]
    assert (orlando["match_method"], orlando["match_note"], orlando["county_fips"]) == ("override", "checked", "")
    robinson = by_agency[("2025-06-01", "Robinson Township Police Department")]
    assert robinson["list"] == "pending" and robinson["county"] == "#N/A" and robinson["county_fips"] == ""
    lampasas = by_agency[("2025-06-01", "Lampass County Sheriff's Office")]
    assert lampasas["agency_id"] == "650148" and lampasas["match_method"] == "fuzzy"

    matches = read_dict_csv(data / "data" / "agency_matches.csv")
    assert len(matches) == 6  # distinct (state, agency) as written: the curly apostrophe is its own name
    robinson = next(r for r in matches if r["agency"].startswith("Robinson"))
    assert robinson["agency_id"] == "" and robinson["needs_review"] == "true"
    assert robinson["runner_up_id"] in ("634855", "634856")

    review = read_dict_csv(data / "data" / "match_review.csv")
    assert {r["agency"] for r in review} == {r["agency"] for r in matches if r["needs_review"] == "true"}
    with open(data / "data" / "match_review.csv", newline="", encoding="utf-8") as handle:
        assert next(csv.reader(handle)) == REVIEW_COLUMNS
    robinson_review = next(r for r in review if r["agency"].startswith("Robinson"))
    assert {robinson_review["candidate_1_id"], robinson_review["candidate_2_id"]} == {"634855", "634856"}


def test_rerun_is_byte_identical(workspace):
    data, reference, overrides = workspace
    run_matching(data, str(reference), data / "cache", overrides)
    outputs = [data / "agreements.csv", data / "data" / "agency_matches.csv", data / "data" / "match_review.csv"]
    before = [p.read_bytes() for p in outputs]
    again = run_matching(data, str(reference), data / "cache", overrides)
    assert again.files_changed == []
    assert [p.read_bytes() for p in outputs] == before


def test_a_newer_suspect_roster_leaves_the_agreements_in_force(workspace):
    """A truncated roster after the newest good one is in the history, but agreements.csv still lists
    the good roster's agreements (snapshots.csv carries each roster's verdict)."""
    data, reference, overrides = workspace
    rosters = rosters_from_rows(read_snapshots(data / "data", data / "cache").to_dict("records"))
    truncated = RosterRows("sheets_20250602_000000", "participating.xlsx", "2025-06-02", "file_name", "participating",
                           [r[:] for r in rosters[-2].rows[:1]], verdict="suspect")
    write_history(data / "data", [*rosters, truncated])
    run_matching(data, str(reference), data / "cache", overrides)
    agreements = read_dict_csv(data / "agreements.csv")
    assert len(agreements) == 5
    assert {r["roster_date"] for r in agreements} == {"2025-06-01"}


def test_missing_history_is_a_clear_error(tmp_path, caplog):
    with pytest.raises(RosterHistoryMissing, match="snapshots.csv not found"):
        run_matching(tmp_path, None, tmp_path / "cache")
    assert main(["match", "--data-dir", str(tmp_path), "--csllea", str(tmp_path / "x.rda")]) == 2
    assert "snapshots.csv not found" in caplog.text
    assert not (tmp_path / "agreements.csv").exists()


def test_root_script_exits_non_zero_without_history(tmp_path):
    done = subprocess.run([sys.executable, str(REPO / "match_agencies.py"), "--data-dir", str(tmp_path)],
                          capture_output=True, text=True, cwd=REPO, timeout=60)
    assert done.returncode != 0
    assert "snapshots.csv not found" in done.stderr
