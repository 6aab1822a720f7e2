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


# --- release-size workbooks: every column filled, XML written directly (openpyxl needs minutes) ---

_CONTENT_TYPES = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                  '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                  '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
                  '<Default Extension="xml" ContentType="application/xml"/>'
                  '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
                  '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
                  '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
                  '{sheets}</Types>')
_ROOT_RELS = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
              '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
              '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
              '</Relationships>')
_STYLES = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
           '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
           '<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>'
           '<fills count="1"><fill><patternFill patternType="none"/></fill></fills>'
           '<borders count="1"><border/></borders><cellStyleXfs count="1"><xf/></cellStyleXfs>'
           '<cellXfs count="2"><xf numFmtId="0"/><xf numFmtId="22" applyNumberFormat="1"/></cellXfs></styleSheet>')
_MAIN = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
_REL_NS = 'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
_VOCABULARY = ["MEXICO", "GUATEMALA", "HONDURAS", "EL SALVADOR", "VENEZUELA", "CUBA", "COLOMBIA", "ECUADOR",
               "Transferred", "Removed", "Bonded Out", "Released (Order of Recognizance)", "Paroled",
               "ACTIVE", "8-Excluded/Removed - Inadmissibility", "3-Voluntary Departure Confirmed",
               "1 Convicted Criminal", "2 Pending Criminal Charges", "3 Other Immigration Violator",
               "Driving Under Influence Liquor", "Illegal Entry", "Assault", "Traffic Offense",
               "No", "Yes", "Unknown", "Single", "Married", "Not Hispanic", "Hispanic", "White", "Black",
               "Los Angeles Area of Responsibility", "Houston Area of Responsibility", "ERO Criminal Alien Program",
               "Non-Custodial Arrest", "Felony", "Misdemeanor"]


def _column(xml_col: str, kind: str, n: int, rng: np.random.Generator, strings: dict[str, int],
            values: pd.Series | None) -> list[str]:
    """One column's cell XML for n rows ('' for an empty cell); `{r}` stands for the row number."""
    if values is None:
        if kind in ("datetime", "date", "bond_date"):
            values = pd.Series(pd.Timestamp("2015-01-01") + pd.to_timedelta(rng.integers(0, 4000 * 1440, n), unit="min"))
        elif kind in ("number", "bond_number"):
            values = pd.Series(rng.choice([0.0, 1.0, 12.0, 30.0, 1500.0, 5000.0], n))
        else:
            values = pd.Series(rng.choice(_VOCABULARY, n))
    if pd.api.types.is_datetime64_any_dtype(values):
        serials = (values.astype("datetime64[s]") - pd.Timestamp("1899-12-30")).dt.total_seconds() / 86400.0
        return ["" if v != v else f'<c r="{xml_col}{{r}}" s="1"><v>{v!r}</v></c>' for v in serials.tolist()]
    if pd.api.types.is_float_dtype(values):
        return ["" if v != v else f'<c r="{xml_col}{{r}}"><v>{v!r}</v></c>' for v in values.tolist()]
    codes, uniques = pd.factorize(values.astype(object), use_na_sentinel=True)
    index = [strings.setdefault(str(u), len(strings)) for u in uniques]
    return ["" if c < 0 else f'<c r="{xml_col}{{r}}" t="s"><v>{index[c]}</v></c>' for c in codes.tolist()]


def write_release_workbook(path: Path, stints: pd.DataFrame, sheets: int = 1, header_row: int = 7) -> None:
    """`stints` as a release-size raw workbook with every one of the 53 columns filled, the way the real
    ~280 MB files are (shared strings, date-styled serials, a title block); written straight as XML."""
    import zipfile
    from xml.sax.saxutils import escape

    from ice_tracker.detention.columns import alias_table, normalize_name
    from ice_tracker.xlsx_guard import column_letters

    n = len(stints)
    rng = np.random.default_rng(11)
    strings: dict[str, int] = {}
    codes = stints["detention_facility_code"].astype(str)
    ids = stints["unique_identifier"]
    given = {
        "Stay Book In Date Time": stints["stay_book_in_date_time"],
        "Book In Date Time": stints["book_in_date_time"],
        "Book Out Date Time": stints["book_out_date_time"],
        "Stay Book Out Date Time": stints["stay_book_out_date_time"],
        "Detention Facility Code": codes,
        "Detention Facility": "FACILITY " + codes,
        "Gender": stints["gender"].astype(str),
        "Anonymized Identifier": ids.astype(str).str.pad(40, fillchar="0") if ids.dtype == object or isinstance(
            ids.dtype, pd.StringDtype) else pd.Series([f"{int(v):040x}" for v in ids]),
        "Birth Date": pd.Series([REDACTED] * n),
    }
    kinds = alias_table()
    columns = [_column(column_letters(i), kinds[normalize_name(name)].kind, n, rng, strings, given.get(name))
               for i, name in enumerate(COLUMNS_2026)]
    header = [strings.setdefault(name, len(strings)) for name in COLUMNS_2026]
    title = [strings.setdefault(line[0], len(strings)) for line in TITLE_BLOCK if line]
    sizes = [n // sheets + (1 if i < n % sheets else 0) for i in range(sheets)]
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as book:
        names = [f"Detentions {i + 1}" for i in range(sheets)]
        book.writestr("[Content_Types].xml", _CONTENT_TYPES.format(sheets="".join(
            f'<Override PartName="/xl/worksheets/sheet{i + 1}.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>' for i in range(sheets))))
        book.writestr("_rels/.rels", _ROOT_RELS)
        book.writestr("xl/workbook.xml", f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<workbook {_MAIN} {_REL_NS}><sheets>'
                      + "".join(f'<sheet name="{name}" sheetId="{i + 1}" r:id="rId{i + 1}"/>' for i, name in enumerate(names))
                      + "</sheets></workbook>")
        book.writestr("xl/_rels/workbook.xml.rels", '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                      '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                      + "".join(f'<Relationship Id="rId{i + 1}" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                                f'relationships/worksheet" Target="worksheets/sheet{i + 1}.xml"/>' for i in range(sheets))
                      + f'<Relationship Id="rId{sheets + 1}" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                      'relationships/styles" Target="styles.xml"/>'
                      f'<Relationship Id="rId{sheets + 2}" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                      'relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>')
        book.writestr("xl/styles.xml", _STYLES)
        offset = 0
        for number, size in enumerate(sizes, start=1):
            with book.open(f"xl/worksheets/sheet{number}.xml", "w", force_zip64=True) as sheet:
                sheet.write(f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet {_MAIN}><sheetData>'.encode())
                for r, index in enumerate(title, start=1):
                    sheet.write(f'<row r="{r}"><c r="A{r}" t="s"><v>{index}</v></c></row>'.encode())
                sheet.write((f'<row r="{header_row}">' + "".join(
                    f'<c r="{column_letters(i)}{header_row}" t="s"><v>{s}</v></c>' for i, s in enumerate(header)) + "</row>").encode())
                lines = []
                for k in range(size):
                    r = header_row + 1 + k
                    cells = "".join(col[offset + k] for col in columns).replace("{r}", str(r))
                    lines.append(f'<row r="{r}">{cells}</row>')
                    if len(lines) == 10_000:
                        sheet.write("".join(lines).encode())
                        lines = []
                sheet.write(("".join(lines) + "</sheetData></worksheet>").encode())
                offset += size
        ordered = sorted(strings, key=strings.get)
        with book.open("xl/sharedStrings.xml", "w", force_zip64=True) as shared:
            shared.write(f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<sst {_MAIN} count="{len(ordered)}" '
                         f'uniqueCount="{len(ordered)}">'.encode())
            for start in range(0, len(ordered), 50_000):
                shared.write("".join(f"<si><t>{escape(s)}</t></si>" for s in ordered[start:start + 50_000]).encode())
            shared.write(b"</sst>")
