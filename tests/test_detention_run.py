"""The `detention` command end to end: every output, duplicate rules, missing ids, determinism."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import openpyxl
import pandas as pd

from ice_tracker.cli import main
from ice_tracker.detention.workbook_synth import COLUMNS_2026, TITLE_BLOCK

OUTPUTS = ["stints.parquet", "stays.parquet", "facility_daily_population.parquet", "national_daily_population.csv",
           "adp_monthly.csv", "adp_fiscal_year.csv", "alos_fiscal_year.csv", "facilities.csv", "report.json"]


def _row(**values: object) -> list[object]:
    names = {"id": "Anonymized Identifier", "stay_in": "Stay Book In Date Time", "book_in": "Book In Date Time",
             "book_out": "Book Out Date Time", "stay_out": "Stay Book Out Date Time", "code": "Detention Facility Code",
             "name": "Detention Facility", "gender": "Gender", "bond": "Initial Bond Set Amount",
             "bond_date": "Initial Bond Set Date"}
    by_column = {names[k]: v for k, v in values.items()}
    return [by_column.get(col) for col in COLUMNS_2026]


def _workbook(path: Path, sheets: dict[str, list[list[object]]]) -> Path:
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for line in TITLE_BLOCK:
            ws.append(line)
        ws.append(COLUMNS_2026)
        for row in rows:
            ws.append(row)
    wb.save(path)
    return path


D = datetime


def test_command_writes_every_output_deterministically(tmp_path: Path) -> None:
    a = dict(id="a", stay_in=D(2025, 1, 1, 8), stay_out=D(2025, 1, 10, 9), gender="Male")
    rows_1 = [
        _row(**a, book_in=D(2025, 1, 1, 8), book_out=D(2025, 1, 5, 12), code="AAA", name="OLD NAME", bond=1500.0, bond_date=D(2025, 1, 2)),
        _row(**a, book_in=D(2025, 1, 1, 8), book_out=D(2025, 1, 5, 12), code="AAA", name="OLD NAME", bond=5000.0, bond_date=D(2025, 1, 3)),  # bond-only
        _row(**a, book_in=D(2025, 1, 5, 13), book_out=D(2025, 1, 10, 9), code="BBB", name="BEE JAIL"),
        _row(**a, book_in=D(2025, 1, 5, 12, 30), book_out=D(2025, 1, 5, 12, 45), code="BBB", name="BEE JAIL"),  # same day
    ]
    b = dict(id="b", stay_in=D(2025, 1, 3, 22), gender="Female")
    rows_2 = [
        _row(**b, book_in=D(2025, 1, 3, 22), book_out=None, code="AAA", name="NEW NAME"),  # open, runs to extract
        _row(id=None, stay_in=D(2025, 1, 4), book_in=D(2025, 1, 4), book_out=D(2025, 1, 6), code="BBB", gender="Male"),
        _row(id=None, stay_in=D(2025, 1, 4), book_in=D(2025, 1, 4), book_out=D(2025, 1, 6), code="BBB", gender="Male"),
    ]
    source = _workbook(tmp_path / "2025-ICLI-00001_Detentions_FY25_20250115_Redacted.xlsx", {"Sheet1": rows_1, "Sheet2": rows_2})
    facilities = tmp_path / "facility-locations.tsv"
    facilities.write_text("detention_facility_code\tdetention_facility_name\tcity\tstate\nAAA\tA\tAyer\tMA\n")
    out = tmp_path / "out"
    assert main(["detention", "--input", str(source), "--facilities", str(facilities), "--out", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == sorted(OUTPUTS)

    report = json.loads((out / "report.json").read_text())
    # the file name says 2025-01-15 but the data ends on 2025-01-10: the series ends with the data
    assert report["extract_date"] == "2025-01-10" and report["extract_date_source"] == "data"
    assert "file names say 2025-01-15" in report["extract_date_reason"]
    assert report["last_day_in_data"] == "2025-01-10"
    assert [(i["sheet"], i["header_row"], i["rows"]) for i in report["inputs"]] == [("Sheet1", 7, 4), ("Sheet2", 7, 3)]
    assert report["stints"]["duplicates_bond_only"] == 1
    assert report["stints"]["duplicates_same_day"] == 1
    assert report["stints"]["missing_identifier"] == 2  # kept, counted, never de-duplicated
    assert report["stints"]["open_stints"] == 1
    assert report["stints_counted"] == 5

    stints = pd.read_parquet(out / "stints.parquet")
    assert len(stints) == 7
    kept_bond = stints[(stints["unique_identifier"] == "a") & (stints["detention_facility_code"] == "AAA") & ~stints["duplicate"]]
    assert kept_bond["initial_bond_set_amount"].tolist() == [5000.0]  # the latest bond information is kept

    national = pd.read_csv(out / "national_daily_population.csv").set_index("date")
    # night of Jan 4: a (AAA), b (AAA), two anonymous rows (BBB) → 4 people
    assert national.loc["2025-01-04", "n_detained_at_midnight"] == 4
    assert national.loc["2025-01-10", "n_detained_at_midnight"] == 1  # b, open: counted on the extract day too
    assert national.index[-1] == "2025-01-10"
    assert bool(national.loc["2025-01-10", "provisional"]) and not bool(national.loc["2025-01-09", "provisional"])
    facility = pd.read_parquet(out / "facility_daily_population.parquet")
    assert list(facility.columns) == ["detention_facility_code", "date", "n_detained_at_midnight", "n_detained",
                                      "n_detained_male", "n_detained_female"]
    day5 = facility[facility["date"] == pd.Timestamp("2025-01-05").date()].set_index("detention_facility_code")
    assert day5.loc["AAA", "n_detained"] == 2 and day5.loc["AAA", "n_detained_female"] == 1
    assert day5.loc["BBB", "n_detained_at_midnight"] == 3  # a plus the two anonymous rows

    facilities_out = pd.read_csv(out / "facilities.csv", keep_default_na=False).set_index("detention_facility_code")
    assert facilities_out.loc["AAA", "detention_facility"] == "NEW NAME"  # latest name by book-in
    assert facilities_out.loc["AAA", "city"] == "Ayer" and facilities_out.loc["BBB", "state"] == ""
    adp = pd.read_csv(out / "adp_fiscal_year.csv", keep_default_na=False)
    national_fy = adp[adp["scope"] == "national"].iloc[0]
    assert national_fy["fiscal_year"] == "FY2025" and national_fy["n_days"] == 10

    before = {name: (out / name).read_bytes() for name in OUTPUTS}
    assert main(["detention", "--input", str(source), "--facilities", str(facilities), "--out", str(out)]) == 0
    assert {name: (out / name).read_bytes() for name in OUTPUTS} == before


def test_unreadable_file_is_recorded_not_fatal(tmp_path: Path) -> None:
    good = _workbook(tmp_path / "good.xlsx", {"S": [_row(id="x", stay_in=D(2025, 2, 1), book_in=D(2025, 2, 1),
                                                              book_out=D(2025, 2, 3), code="AAA", gender="Male")]})
    bad = tmp_path / "broken.xlsx"
    bad.write_bytes(b"<html>not a workbook</html>")
    out = tmp_path / "out"
    assert main(["detention", "--input", str(good), str(bad), "--extract-date", "2025-02-05", "--out", str(out)]) == 1
    report = json.loads((out / "report.json").read_text())
    assert [e["file"] for e in report["errors"]] == ["broken.xlsx"]
    assert report["rows_read"] == 1
    assert main(["detention", "--input", str(bad), "--out", str(tmp_path / "none")]) == 2
