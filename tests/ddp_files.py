"""Small files standing in for DDP release files: raw ICE workbooks in the real layout, parquet."""

from __future__ import annotations

import io
import os
import zipfile
from datetime import datetime, timedelta

import pyarrow as pa
import pyarrow.parquet as pq
from openpyxl import Workbook

TITLE_BLOCK = [["U.S. Immigration and Customs Enforcement"], ["ERO LESA Statistical Tracking Unit"],
               ["FOIA 2026-ICLI-00005"], ["Data through 03/10/2026"], ["Synthetic test data"], []]
DETENTION_HEADER = ["Stay Book In Date Time", "Book In Date Time", "Detention Facility", "Book Out Date Time",
                    "Stay Book Out Date Time", "Detention Release Reason", "Gender", "Citizenship Country",
                    "Detention Facility Code", "Birth Date", "Anonymized Identifier"]


def detentions_workbook(n_people: int = 30, seed: int = 0) -> bytes:
    """A raw detentions workbook: title block, header on Excel row 7, stints over two sheets.
    Each person: one stay of two stints (a transfer); every fifth is still detained."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    start = datetime(2025, 1, 1, 8, 30)
    rows = []
    for i in range(n_people):
        stay_in = start + timedelta(days=(i * 7 + seed) % 300, hours=i % 5)
        transfer = stay_in + timedelta(days=3 + i % 10)
        open_stay = i % 5 == 0
        stay_out = None if open_stay else transfer + timedelta(days=5 + i % 20)
        ident = f"{seed:04d}{i:036x}"
        common = ["M" if i % 3 else "F", "MEXICO", ]
        rows.append([stay_in, stay_in, f"FACILITY A{i % 4}", transfer, stay_out, "Transferred", *common,
                     f"FAC{i % 4}", "b(6), b(7)c", ident])
        rows.append([stay_in, transfer, f"FACILITY B{i % 3}", stay_out, stay_out,
                     None if open_stay else "Removed", *common, f"FCB{i % 3}", "b(6), b(7)c", ident])
    for sheet_no, chunk in enumerate((rows[: len(rows) // 2], rows[len(rows) // 2:]), start=1):
        sheet = workbook.create_sheet(f"Detentions {sheet_no}")
        for line in TITLE_BLOCK:
            sheet.append(line)
        sheet.append(DETENTION_HEADER)
        for row in chunk:
            sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def table_workbook(table: str, n_rows: int = 5) -> bytes:
    """A small raw workbook of another table (arrests, removals, …)."""
    workbook = Workbook()
    sheet = workbook.active
    for line in TITLE_BLOCK:
        sheet.append(line)
    sheet.append([f"{table.title()} Date", "Area of Responsibility", "Anonymized Identifier"])
    for i in range(n_rows):
        sheet.append([datetime(2025, 6, 1) + timedelta(days=i), "Los Angeles Area of Responsibility", f"{table}{i:08d}"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def big_zip(n_bytes: int) -> bytes:
    """A ZIP of incompressible bytes, bigger than the repo limit the tests set."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("removals.csv", os.urandom(n_bytes))
    return buffer.getvalue()


def stints_parquet(n: int = 10) -> bytes:
    table = pa.table({"unique_identifier": [f"id{i}" for i in range(n)],
                      "book_in_date_time": [datetime(2025, 1, 1) + timedelta(days=i) for i in range(n)],
                      "detention_facility_code": [f"FAC{i % 3}" for i in range(n)]})
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    return buffer.getvalue()
