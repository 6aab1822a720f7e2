"""Write synthetic raw ICE detentions workbooks in the real layout, for tests and benchmarks.

Layout of the 2025–2026 releases: a title block, the header on Excel row 7 (53 columns, March 2026
names), data split over several sheets, redactions (`b(6), b(7)c`) in the Birth Date column.
openpyxl's write-only mode streams the rows, so a 200,000-row workbook takes seconds to write.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from openpyxl import Workbook

COLUMNS_2026 = [
    "Stay Book In Date Time", "Book In Date Time", "Detention Facility", "Book Out Date Time",
    "Stay Book Out Date Time", "Detention Release Reason", "Stay Book Out Date", "Stay Release Reason",
    "Religion", "Gender", "Marital Status", "Ethnicity", "Birth Country", "Citizenship Country",
    "Entry Status", "Known Terrorist Yes No", "Suspected Gang Yes No", "MSC Charge", "MSC Sentence Days",
    "MSC Sentence Months", "MSC Sentence Years", "MSC Charge Code", "Aggravated Felon Yes No",
    "Offense INA 236C Yes No", "Case INA 236C Yes No", "Bond Posted Date", "Bond Posted Amount",
    "Case Status", "Case Category", "Final Order Yes No", "Final Order Date", "Case Threat Level",
    "Detainee Classification", "Final Charge", "Departed Date", "Departure Country",
    "Initial Bond Set Amount", "Initial Bond Set Date", "Detention Facility Code", "Birth Date",
    "Birth Year", "Book In Criminality", "Race", "Entry Date", "Apprehension Final Program",
    "MSC Charge Date", "MSC Conviction Date", "MSC Criminal Charge Status",
    "MSC Criminal Charge Status Code", "MSC Crime Class", "Book In Site", "Book In AOR",
    "Anonymized Identifier",
]
TITLE_BLOCK = [
    ["U.S. Immigration and Customs Enforcement"],
    ["ERO LESA Statistical Tracking Unit"],
    ["Detentions FY2025 (synthetic test data)"],
    ["Data through 03/10/2026"],
    ["FOIA 2026-ICLI-00005"],
    [],
]
REDACTED = "b(6), b(7)c"


def _python(values: pd.Series) -> list[object]:
    """Column values as plain Python objects (datetime, str, float, None) for openpyxl."""
    if pd.api.types.is_datetime64_any_dtype(values):
        return [None if pd.isna(v) else v.to_pydatetime() for v in values]
    return [None if pd.isna(v) else (v.item() if hasattr(v, "item") else v) for v in values.astype(object)]


def write_raw_workbook(path: Path, stints: pd.DataFrame, sheets: int = 2, header_row: int = 7,
                       columns: list[str] | None = None) -> None:
    """Write `stints` (canonical column names, as from `synthetic_stints`) as a raw ICE workbook."""
    columns = columns or COLUMNS_2026
    n = len(stints)
    rng = np.random.default_rng(7)
    by_name = {
        "Stay Book In Date Time": _python(stints["stay_book_in_date_time"]),
        "Book In Date Time": _python(stints["book_in_date_time"]),
        "Book Out Date Time": _python(stints["book_out_date_time"]),
        "Stay Book Out Date Time": _python(stints["stay_book_out_date_time"]),
        "Detention Facility Code": _python(stints["detention_facility_code"].astype(str)),
        "Detention Facility": [f"FACILITY {c}" for c in stints["detention_facility_code"].astype(str)],
        "Gender": _python(stints["gender"].astype(str)),
        "Anonymized Identifier": [f"{int(v):040x}" if not isinstance(v, str) else v
                                  for v in _python(stints["unique_identifier"])],
        "Birth Date": [REDACTED] * n,
        "Birth Year": [int(y) for y in rng.integers(1950, 2006, n)],
        "Citizenship Country": list(rng.choice(["MEXICO", "GUATEMALA", "HONDURAS", "VENEZUELA", "CUBA"], n)),
        "Initial Bond Set Amount": [float(a) if a else None for a in rng.choice([0, 1500, 5000], n)],
        "Detention Release Reason": ["Transferred" if pd.notna(o) else None for o in stints["book_out_date_time"]],
        "Book In AOR": ["Los Angeles Area of Responsibility"] * n,
    }
    sizes = [n // sheets + (1 if i < n % sheets else 0) for i in range(sheets)]
    workbook = Workbook(write_only=True)
    offset = 0
    for index, size in enumerate(sizes):
        sheet = workbook.create_sheet(f"Detentions {index + 1}")
        for row in TITLE_BLOCK[: header_row - 1]:
            sheet.append(row)
        for _ in range(header_row - 1 - len(TITLE_BLOCK)):
            sheet.append([])
        sheet.append(columns)
        data = [by_name.get(name) for name in columns]
        for i in range(offset, offset + size):
            sheet.append([None if col is None else col[i] for col in data])
        offset += size
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(path)
