"""Every real layout of ICE detention tables, and the defects found on real releases.

The tests write the files the way ICE and DDP publish them: a title block above the header (row 7 in
2025–2026, row 5 in 2012–2023), data over several sheets, redaction tokens, dates as cells, as text
and as Excel serials, headers with line breaks; and the same table as CSV (comma, pipe, tab, gzip),
parquet, feather and Stata. Every layout and format must give the same counts.
"""

from __future__ import annotations

import gzip
import json
from datetime import datetime
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from ice_tracker.cli import main
from ice_tracker.detention.synth import synthetic_stints
from ice_tracker.detention.workbook_synth import COLUMNS_2026, REDACTED

D = datetime
EXTRACT = "2026-03-10"
TITLE = ["U.S. Immigration and Customs Enforcement", "ERO LESA Statistical Tracking Unit", "Detentions", "FOIA"]

# canonical name → header text per layout (DOMAIN.md §4)
LAYOUT_2026 = {"unique_identifier": "Anonymized Identifier", "stay_book_in_date_time": "Stay Book In Date Time",
               "book_in_date_time": "Book In Date Time", "book_out_date_time": "Book Out Date Time",
               "stay_book_out_date_time": "Stay Book Out Date Time", "detention_facility_code": "Detention Facility Code",
               "gender": "Gender", "birth_date": "Birth Date"}
LAYOUT_2012_2023 = {"unique_identifier": "Unique Identifier", "stay_book_in_date_time": "Stay Book In Date Time",
                    "book_in_date_time": "Detention Book In Date And Time",
                    "book_out_date_time": "Detention Book Out Date Time", "stay_book_out_date": "Stay Book Out Date",
                    "detention_facility_code": "Detention Facility Code", "gender": "Gender", "birth_date": "Birth Date"}
LAYOUT_ALPHABETICAL = {"unique_identifier": "Anonymized Unique Identifier",
                       "stay_book_in_date_time": "Stay Book In Date Time",
                       "book_in_date_time": "Detention Book In Date Time", "book_out_date_time": "Book Out Date Time",
                       "stay_book_out_date_time": "Stay Book Out Date Time",
                       "detention_facility_code": "Detention Facility Code", "gender": "Gender", "birth_date": "Birth Date"}
LAYOUT_MESSY = {key: value.replace(" Date", "\nDate").upper() + "  " for key, value in LAYOUT_2026.items()}
# Every real layout as written by `write_layout`: (columns, header row, date style, alphabetical order)
LAYOUT_CASES = [
    (LAYOUT_2026, 7, "cell", False),
    (LAYOUT_2012_2023, 5, "text", False),
    (LAYOUT_ALPHABETICAL, 7, "serial", True),
    (LAYOUT_MESSY, 7, "text", False),
]
LAYOUT_CASE_IDS = ["2025-2026", "2012-2023", "alphabetical-2026", "messy-headers"]


def _cell(value: object, style: str) -> object:
    if isinstance(value, pd.Timestamp) and pd.notna(value):
        if style == "text":
            return value.strftime("%m/%d/%Y %H:%M")
        if style == "serial":
            return (value - pd.Timestamp("1899-12-30")).total_seconds() / 86400.0
        return value.to_pydatetime()
    return None if value is None or pd.isna(value) else value


def write_layout(path: Path, stints: pd.DataFrame, layout: dict[str, str], header_row: int = 7, sheets: int = 2,
                 style: str = "cell", alphabetical: bool = False) -> Path:
    """A raw workbook: title block, header on `header_row`, rows over `sheets` sheets."""
    frame = stints.copy()
    if "stay_book_out_date" in layout:
        frame["stay_book_out_date"] = frame["stay_book_out_date_time"].dt.floor("D")
    frame["birth_date"] = REDACTED
    names = sorted(layout, key=layout.get) if alphabetical else list(layout)
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for index, part in enumerate(range(sheets)):
        ws = wb.create_sheet(f"Detentions {index + 1}")
        title = TITLE[: header_row - 2]
        for line in title:
            ws.append([line])
        for _ in range(header_row - 1 - len(title)):
            ws.append([])
        ws.append([layout[name] for name in names])
        for row in frame.iloc[part::sheets][names].itertuples(index=False):
            ws.append([_cell(v, style) for v in row])
    wb.save(path)
    return path


def layout_stints(n: int, n_facilities: int, seed: int) -> pd.DataFrame:
    """Synthetic stints from 2025-10-01 to the extract date, with text codes as in the workbooks."""
    frame = synthetic_stints(n, n_facilities=n_facilities, start=pd.Timestamp("2025-10-01").date(),
                             extract_date=pd.Timestamp(EXTRACT).date(), seed=seed, string_ids=True)
    frame["detention_facility_code"] = frame["detention_facility_code"].astype(str)
    frame["gender"] = frame["gender"].astype(str)
    return frame


@pytest.fixture(scope="module")
def stints() -> pd.DataFrame:
    return layout_stints(400, 9, 5)


def _derive(tmp_path: Path, *inputs: Path, extra: tuple[str, ...] = ()) -> tuple[int, Path]:
    out = tmp_path / "out"
    code = main(["detention", "--input", *map(str, inputs), "--extract-date", EXTRACT, "--out", str(out), *extra])
    return code, out


@pytest.fixture(scope="module")
def reference_counts(stints: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    tmp = tmp_path_factory.mktemp("ref")
    source = tmp / "detention-stints-latest.parquet"
    stints.to_parquet(source)
    code, out = _derive(tmp, source)
    assert code == 0
    return pd.read_parquet(out / "facility_daily_population.parquet")


@pytest.mark.parametrize("layout, header_row, style, alphabetical", LAYOUT_CASES, ids=LAYOUT_CASE_IDS)
def test_every_layout_gives_the_same_counts(tmp_path: Path, stints: pd.DataFrame, reference_counts: pd.DataFrame,
                                            layout: dict[str, str], header_row: int, style: str, alphabetical: bool) -> None:
    source = write_layout(tmp_path / "detentions.xlsx", stints, layout, header_row, sheets=3, style=style,
                          alphabetical=alphabetical)
    code, out = _derive(tmp_path, source)
    assert code == 0
    report = json.loads((out / "report.json").read_text())
    assert [(i["header_row"], i["rows"]) for i in report["inputs"]] == [(header_row, len(stints) // 3 + (i < len(stints) % 3))
                                                                         for i in range(3)]
    assert report["stints"]["missing_identifier"] == 0
    assert report["stays"]["stays"] > 0
    pd.testing.assert_frame_equal(pd.read_parquet(out / "facility_daily_population.parquet"), reference_counts)


def _write_text(path: Path, frame: pd.DataFrame, sep: str) -> Path:
    text = frame.to_csv(sep=sep, index=False, date_format="%Y-%m-%d %H:%M:%S")
    if path.suffix == ".gz":
        path.write_bytes(gzip.compress(text.encode(), mtime=0))
    else:
        path.write_text(text)
    return path


@pytest.mark.parametrize("name", ["stints.csv", "stints.psv", "stints.tsv", "stints.csv.gz", "stints.txt",
                                  "stints.feather", "stints.dta"])
def test_every_file_format_gives_the_same_counts(tmp_path: Path, stints: pd.DataFrame, reference_counts: pd.DataFrame,
                                                 name: str) -> None:
    headed = stints.rename(columns=LAYOUT_2026)
    path = tmp_path / name
    if name.endswith(".feather"):
        stints.to_feather(path)
    elif name.endswith(".dta"):
        stints.to_stata(path, write_index=False, convert_dates={c: "tc" for c in stints.columns if "date" in c})
    else:
        sep = {".psv": "|", ".tsv": "\t", ".txt": "|"}.get(Path(name.removesuffix(".gz")).suffix, ",")
        _write_text(path, headed, sep)
    code, out = _derive(tmp_path, path)
    assert code == 0
    pd.testing.assert_frame_equal(pd.read_parquet(out / "facility_daily_population.parquet"), reference_counts)


def _workbook(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    for line in TITLE:
        ws.append([line])
    ws.append([])
    ws.append(header)
    for row in rows:
        ws.append(row)
    wb.save(path)
    return path


def _row(**values: object) -> list[object]:
    names = {"id": "Anonymized Identifier", "stay_in": "Stay Book In Date Time", "book_in": "Book In Date Time",
             "book_out": "Book Out Date Time", "stay_out": "Stay Book Out Date Time", "code": "Detention Facility Code", "gender": "Gender"}
    by_column = {names[k]: v for k, v in values.items()}
    return [by_column.get(col) for col in COLUMNS_2026]


def test_extract_day_is_counted_and_people_booked_in_that_day_are_kept(tmp_path: Path) -> None:
    rows = [
        _row(id="a", stay_in=D(2026, 3, 1, 9), book_in=D(2026, 3, 1, 9), code="AAA", gender="Male"),  # open
        _row(id="b", stay_in=D(2026, 3, 10, 14), book_in=D(2026, 3, 10, 14), code="AAA", gender="Female"),  # in on the last day
        _row(id="c", stay_in=D(2026, 3, 2, 9), book_in=D(2026, 3, 2, 9), book_out=D(2026, 3, 10, 8), stay_out=D(2026, 3, 10, 8),
             code="AAA", gender="Male"),
    ]
    source = _workbook(tmp_path / "2026-ICLI-00005_Detentions_FY26_20260311_Redacted.xlsx", COLUMNS_2026, rows)
    out = tmp_path / "out"
    assert main(["detention", "--input", str(source), "--out", str(out)]) == 0
    report = json.loads((out / "report.json").read_text())
    assert report["extract_date"] == "2026-03-10"  # the data's last day, not the file name's 2026-03-11
    assert report["stints_counted"] == 3 and report["stints"]["book_out_before_book_in"] == 0
    assert report["stays"]["stays"] == 3 and report["stays"]["ongoing"] == 2
    national = pd.read_csv(out / "national_daily_population.csv").set_index("date")
    assert national.index[-1] == "2026-03-10"
    assert national.loc["2026-03-10", "n_detained_at_midnight"] == 2  # a and b, still detained
    assert national.loc["2026-03-10", "n_detained"] == 3
    assert national.loc["2026-03-09", "n_detained_at_midnight"] == 2  # a and c
    adp = pd.read_csv(out / "adp_monthly.csv")
    march = adp[(adp["scope"] == "national") & (adp["month"] == "2026-03")].iloc[0]
    assert march["n_days"] == 10 and march["adp_at_midnight"] == pytest.approx((1 + 8 * 2 + 2) / 10)


def test_stay_book_out_date_of_the_2012_2023_layout_closes_the_stay(tmp_path: Path) -> None:
    header = ["Stay Book In Date Time", "Detention Book In Date And Time", "Detention Book Out Date Time",
              "Stay Book Out Date", "Detention Facility Code", "Unique Identifier"]
    rows = [[D(2019, 1, 2, 3), D(2019, 1, 2, 3), D(2019, 1, 5, 10), "01/09/2019", "AAA", "p1"],
            [D(2019, 1, 2, 3), D(2019, 1, 5, 11), None, "01/09/2019", "BBB", "p1"]]
    source = _workbook(tmp_path / "ICE_detentions_FY2019.xlsx", header, rows)
    out = tmp_path / "out"
    assert main(["detention", "--input", str(source), "--extract-date", "2019-03-01", "--out", str(out)]) == 0
    stays = pd.read_parquet(out / "stays.parquet")
    assert stays["ongoing"].tolist() == [False]
    assert stays["stay_book_out_date_time"].iloc[0] == pd.Timestamp("2019-01-09")
    national = pd.read_csv(out / "national_daily_population.csv").set_index("date")
    assert national.loc["2019-01-08", "n_detained_at_midnight"] == 1
    assert national.loc["2019-01-09", "n_detained_at_midnight"] == 0  # not open to the extract date


@pytest.mark.parametrize("header, rows, name, message", [
    (["Book In Date Time", "Book Out Date Time", "Detention Facility Code", "Gender"],
     [[D(2025, 1, 1), D(2025, 1, 3), "AAA", "Male"]], "no_id.xlsx", "no person identifier column"),
    (["Tracking Number", "Booked", "Where"], [["1", "2025-01-01", "X"]], "unknown.xlsx", "no header row with known column names"),
    (None, None, "not_a_table.xlsx", "unreadable workbook"),
    (None, None, "not_a_table.csv", "no header row with known column names"),
    (None, None, "report.pdf", "not a detention table"),
], ids=["no-person-id", "unknown-layout", "html-as-xlsx", "text-not-a-table", "pdf"])
def test_unusable_input_exits_2_with_one_line_and_writes_nothing(tmp_path: Path, caplog: pytest.LogCaptureFixture,
                                                                  header: list[str] | None, rows: list | None,
                                                                  name: str, message: str) -> None:
    path = tmp_path / name
    if header is not None:
        _workbook(path, header, rows)
    else:
        path.write_bytes(b"<html><body>Access denied</body></html>\n" if name != "report.pdf" else b"%PDF-1.7\n%\xe2\xe3")
    out = tmp_path / "out"
    assert main(["detention", "--input", str(path), "--out", str(out)]) == 2
    assert not out.exists()
    final = [r.getMessage() for r in caplog.records if r.name == "ice_tracker.commands.detention" and r.levelname == "ERROR"]
    assert len(final) == 1 and "\n" not in final[0] and message in final[0]


def test_facility_list_with_cp1252_bytes_is_used_and_bad_rows_reported(tmp_path: Path, stints: pd.DataFrame) -> None:
    source = tmp_path / "detention-stints-latest.parquet"
    stints.to_parquet(source)
    listing = tmp_path / "facilities.tsv"
    listing.write_bytes(b"detention_facility_code\tdetention_facility_name\tcity\tstate\n"
                        b"F0000\tCENTRO DE DETENCI\xd3N\tEspa\xf1ola\tNM\n"
                        b"F0001\tONE\tAyer\tMA\n"
                        b"F0002\tbroken row without tabs\n"
                        b"F0003\tTHREE\tLar\xc3\xa9do\tTX\n")
    code, out = _derive(tmp_path, source, extra=("--facilities", str(listing)))
    assert code == 0
    facilities = pd.read_csv(out / "facilities.csv", keep_default_na=False).set_index("detention_facility_code")
    assert facilities.loc["F0000", "city"] == "Española"  # cp1252 line decoded
    assert facilities.loc["F0001", "state"] == "MA" and facilities.loc["F0003", "city"] == "Larédo"
    report = json.loads((out / "report.json").read_text())
    assert report["facility_reference"]["rows_not_utf8"] == [2]
    assert report["facility_reference"]["rows_with_wrong_field_count"] == [4]
    assert report["errors"] == []


def test_stays_carry_bln_case_status_and_criminality_groups(tmp_path: Path) -> None:
    ts = pd.Timestamp
    frame = pd.DataFrame({
        "unique_identifier": ["p1", "p1", "p2", "p3"],
        "stay_book_in_date_time": [ts("2025-01-01 08:00")] * 2 + [ts("2025-01-03 08:00"), ts("2025-01-04 08:00")],
        "book_in_date_time": [ts("2025-01-01 08:00"), ts("2025-01-02 09:00"), ts("2025-01-03 08:00"), ts("2025-01-04 08:00")],
        "book_out_date_time": [ts("2025-01-02 08:00"), ts("2025-01-05 08:00"), ts("2025-01-06 08:00"), pd.NaT],
        "stay_book_out_date_time": [ts("2025-01-05 08:00")] * 2 + [ts("2025-01-06 08:00"), pd.NaT],
        "detention_facility_code": ["AAA", "BBB", "AAA", "BBB"],
        "case_status": ["ACTIVE", "6-Deported/Removed - Deportability", "B-Relief Granted", None],
        "book_in_criminality": ["1 Convicted Criminal", "1 Convicted Criminal", "3 Other Immigration Violator", "1 Convicted Criminal"],
        "msc_charge_code": ["3599 Dangerous Drugs", "3599 Dangerous Drugs", None, "5404 Hit and Run"],
    })
    source = tmp_path / "detention-stints-latest.parquet"
    frame.to_parquet(source)
    out = tmp_path / "out"
    assert main(["detention", "--input", str(source), "--extract-date", "2025-01-10", "--out", str(out)]) == 0
    stays = pd.read_parquet(out / "stays.parquet").set_index("unique_identifier")
    assert stays["case_status_group"].to_dict() == {"p1": "Removed", "p2": "Released", "p3": "Active case"}  # last stint's
    assert stays["bln_special_code"].to_dict() == {"p1": "Drugs", "p2": "No criminal conviction", "p3": "Traffic"}
    assert stays["msc_ncic_group"].fillna("").to_dict() == {"p1": "35", "p2": "", "p3": "54"}


def test_case_status_recode_matches_the_bln_guide(shared_fixtures: Path) -> None:
    from ice_tracker.detention.recodes import recode_table

    guide = pd.read_csv(shared_fixtures / "ddp" / "case-status-recode.csv", keep_default_na=False)
    ours = recode_table()["case_status"]
    for original, group in zip(guide["case_status_original"], guide["bln_recode_current_guide"]):
        expected = "" if "not listed" in group and "assumed" not in group else group.split(" (")[0]
        assert ours[original] == expected, original


def test_big_workbooks_are_read_in_windows_with_the_same_result(tmp_path: Path, stints: pd.DataFrame,
                                                                reference_counts: pd.DataFrame, xlsx_reader: str,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    source = write_layout(tmp_path / "detentions.xlsx", stints, LAYOUT_2026, 7, sheets=2, style="serial")
    monkeypatch.setenv("ICE_TRACKER_LIMIT_XLSX_WINDOW_ROWS", "7")  # windows of 7 rows: every boundary case
    code, out = _derive(tmp_path, source)
    assert code == 0
    report = json.loads((out / "report.json").read_text())
    assert [(i["sheet"], i["header_row"], i["rows"]) for i in report["inputs"]] == [("Detentions 1", 7, 200),
                                                                                    ("Detentions 2", 7, 200)]
    pd.testing.assert_frame_equal(pd.read_parquet(out / "facility_daily_population.parquet"), reference_counts)
