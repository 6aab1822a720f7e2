"""Raw ICE detentions workbooks in the real layouts are read by header name, every sheet, typed."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from ice_tracker.detention.clean import clean_datetime, clean_text
from ice_tracker.detention.readers import date_from_file_names, read_workbook_stints
from ice_tracker.detention.run import expand_inputs
from ice_tracker.detention.synth import synthetic_stints
from ice_tracker.detention.workbook_synth import COLUMNS_2026, REDACTED, write_raw_workbook


@pytest.fixture(scope="module")
def stints() -> pd.DataFrame:
    return synthetic_stints(300, n_facilities=12, seed=11)


def test_2026_layout_title_block_two_sheets_redactions(tmp_path: Path, stints: pd.DataFrame) -> None:
    path = tmp_path / "2026-ICLI-00005_Detentions_FY25_20260311_Redacted.xlsx"
    write_raw_workbook(path, stints, sheets=2)
    frame, reads = read_workbook_stints(path)
    assert [(r.sheet, r.header_row, r.rows, r.error) for r in reads] == [
        ("Detentions 1", 7, 150, None), ("Detentions 2", 7, 150, None)]
    assert len(frame) == 300
    assert frame["source_row"].iloc[0] == 8 and frame["source_row"].iloc[150] == 8
    assert frame["birth_date"].isna().all()  # every Birth Date cell is "b(6), b(7)c"
    assert str(frame["book_in_date_time"].dtype) == "datetime64[s]"
    # naive local clock times survive unchanged
    assert (frame["book_in_date_time"].to_numpy() == stints["book_in_date_time"].to_numpy()).all()
    assert frame["book_out_date_time"].isna().sum() == stints["book_out_date_time"].isna().sum()
    assert frame["unique_identifier"].str.len().eq(40).all()
    assert frame["detention_facility_code"].tolist() == stints["detention_facility_code"].astype(str).tolist()
    assert frame["birth_year"].between(1950, 2006).all()


def test_older_layout_header_on_row_5_and_renamed_columns(tmp_path: Path) -> None:
    path = tmp_path / "ICE_detentions_FY2019.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    for _ in range(4):
        ws.append(["ICE ERO detention history"])
    ws.append(["Stay Book In Date Time", "Detention Book In Date And Time", "Detention Book Out Date Time",
               "Detention Facility Code", "Detention Facility", "Gender", "Unique Identifier", "Brand New Column"])
    ws.append([datetime(2019, 1, 2, 3, 4), datetime(2019, 1, 2, 3, 4), "2019-02-01 10:00", "ABCDEFG", "SOME JAIL",
               "Male", "(b)(6), (b)(7)(c)", "x"])
    ws.append([datetime(2019, 1, 2, 3, 4), 43500.5, "3025-01-01", " ABCDEFG ", "SOME JAIL", "Female", "id-2", None])
    wb.save(path)
    frame, reads = read_workbook_stints(path)
    assert reads[0].header_row == 5
    assert reads[0].unknown_columns == ["Brand New Column"]
    assert frame["unique_identifier"].tolist()[1] == "id-2"
    assert pd.isna(frame["unique_identifier"].iloc[0])  # redaction → missing
    assert frame["book_out_date_time"].iloc[0] == pd.Timestamp("2019-02-01 10:00")  # text date
    assert pd.isna(frame["book_out_date_time"].iloc[1])  # absurd year → missing
    assert frame["book_in_date_time"].iloc[1] == pd.Timestamp("2019-02-04 12:00")  # Excel serial 43500.5
    assert frame["detention_facility_code"].tolist() == ["ABCDEFG", "ABCDEFG"]  # trimmed
    assert "brand_new_column" in frame


def test_alphabetical_layout_and_a_sheet_without_header(tmp_path: Path, stints: pd.DataFrame) -> None:
    path = tmp_path / "detentions_alpha.xlsx"
    write_raw_workbook(path, stints.head(40), sheets=1, columns=sorted(COLUMNS_2026))
    wb = openpyxl.load_workbook(path)
    notes = wb.create_sheet("Notes")
    notes.append(["This sheet explains the redactions."])
    wb.save(path)
    frame, reads = read_workbook_stints(path)
    assert len(frame) == 40
    assert reads[1].sheet == "Notes" and reads[1].rows == 0 and "no header" in reads[1].error
    assert (frame["book_in_date_time"].to_numpy() == stints.head(40)["book_in_date_time"].to_numpy()).all()


def test_cleaning_rules() -> None:
    text = clean_text(pd.Series([" a ", "", None, REDACTED, "b(6), b(7)C", "(b)(6), (b)(7)(c)", "bond"], dtype=object))
    assert text.isna().tolist() == [False, True, True, True, True, True, False]
    when = clean_datetime(pd.Series([datetime(2025, 3, 1, 13, 5), "n/a", "1899-01-01", None], dtype=object))
    assert when.iloc[0] == pd.Timestamp("2025-03-01 13:05") and when.iloc[1:].isna().all()


def test_extract_date_from_file_names_and_lock_files(tmp_path: Path) -> None:
    names = ["2026-ICLI-00005_Detentions_FY25_20260311_Redacted.xlsx", "2026-ICLI-00005_Detentions_FY26_20260311_Redacted.xlsx"]
    assert date_from_file_names([Path(n) for n in names]) == date(2026, 3, 11)
    assert date_from_file_names([Path("detentions.xlsx")]) is None
    for name in [*names, "~$" + names[0], "notes.txt"]:
        (tmp_path / name).write_bytes(b"")
    assert [p.name for p in expand_inputs([tmp_path])] == names


def test_ddp_parquet_utc_labelled_times_keep_their_clock(tmp_path: Path) -> None:
    from ice_tracker.detention.readers import read_ddp_stints

    path = tmp_path / "detention-stints-latest.parquet"
    pd.DataFrame({
        "unique_identifier": ["u1", "b(6), b(7)c"],
        "book_in_date_time": pd.to_datetime(["2025-05-01 23:30", "2025-05-02 01:00"]).tz_localize("UTC"),
        "detention_facility_code": ["AAA", "BBB"],
        "felon": ["Drugs", None],
        "stint_ID": ["u1_2025-05-01 23:30:00_AAA", None],
        "row_original": [8, 9],
    }).to_parquet(path)
    frame, reads = read_ddp_stints(path)
    assert reads[0].rows == 2 and reads[0].unknown_columns == []
    assert frame["book_in_date_time"].iloc[0] == pd.Timestamp("2025-05-01 23:30")  # not shifted
    assert frame["aggravated_felon_yes_no"].iloc[0] == "Drugs"
    assert pd.isna(frame["unique_identifier"].iloc[1])
    assert "ddp_stint_id" in frame and "row_original" in frame
