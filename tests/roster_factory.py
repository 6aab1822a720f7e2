"""Small roster workbooks built by the tests themselves (no shared fixtures needed)."""

from __future__ import annotations

import io
import zipfile

import openpyxl

HEADER = ["STATE", "LAW ENFORCEMENT AGENCY", "TYPE", "COUNTY", "SUPPORT TYPE", "SIGNED", "MOA", "ADDENDUM"]
ICE_MOA = "https://www.ice.gov/doclib/287gMOA/"


def safelink(url: str) -> str:
    from urllib.parse import quote

    return f"https://gcc02.safelinks.protection.outlook.com/?url={quote(url, safe='')}&data=05%7C02%7Cx&reserved=0"


def roster_workbook(rows: list[dict[str, str]], header: list[str] | None = None) -> bytes:
    """A participating-style workbook. Each row dict may carry `moa_link` / `addendum_link` URLs
    (set as real Excel hyperlinks) besides column values keyed by header name. A literal
    `\\x00` in a value is written as Excel's `_x0000_` escape (XML cannot hold a NUL)."""
    header = header or HEADER
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Sheet1"
    ws.append(header)
    for index, row in enumerate(rows, start=2):
        ws.append([str(row.get(col, "")).replace("\x00", "NULCHAR") for col in header])
        for col_name, key in (("MOA", "moa_link"), ("ADDENDUM", "addendum_link")):
            if row.get(key) and col_name in header:
                cell = ws.cell(row=index, column=header.index(col_name) + 1)
                cell.value = cell.value or "MOA"
                cell.hyperlink = row[key]
    buffer = io.BytesIO()
    wb.save(buffer)
    data = buffer.getvalue()
    if not any("\x00" in str(value) for row in rows for value in row.values()):
        return data
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            target.writestr(info, source.read(info.filename).replace(b"NULCHAR", b"_x0000_"))
    return out.getvalue()


def simple_rows() -> list[dict[str, str]]:
    """Four agencies: a plain link, a safelink, one PDF shared by two agencies, one 'link pending'."""
    return [
        {"STATE": "TEXAS", "LAW ENFORCEMENT AGENCY": "Alpha County Sheriff's Office", "SUPPORT TYPE": "Task Force Model",
         "moa_link": ICE_MOA + "AlphaCoTX_TFM_MOA_03.07.2025.pdf"},
        {"STATE": "FLORIDA", "LAW ENFORCEMENT AGENCY": "Beta Police Department", "SUPPORT TYPE": "Task Force Model",
         "moa_link": safelink(ICE_MOA + "BetaPDFL_TFM_MOA_05132025.pdf"),
         "addendum_link": safelink(ICE_MOA + "BetaPDFL_Addendum_07012025.pdf")},
        {"STATE": "OHIO", "LAW ENFORCEMENT AGENCY": "Gamma Township Police", "SUPPORT TYPE": "Warrant Service Officer",
         "moa_link": ICE_MOA + "SharedOhio_WSO_MOA.pdf"},
        {"STATE": "OHIO", "LAW ENFORCEMENT AGENCY": "Delta Township Police", "SUPPORT TYPE": "Warrant Service Officer",
         "moa_link": ICE_MOA + "SharedOhio_WSO_MOA.pdf"},
        {"STATE": "OHIO", "LAW ENFORCEMENT AGENCY": "Epsilon Village Police", "SUPPORT TYPE": "Task Force Model",
         "MOA": "link pending "},
    ]


def pending_workbook() -> bytes:
    header = ["STATE", "LAW ENFORCEMENT AGENCY", "TYPE", "COUNTY", "SUPPORT TYPE"]
    return roster_workbook([{"STATE": "GEORGIA", "LAW ENFORCEMENT AGENCY": "Zeta County Sheriff's Office",
                             "SUPPORT TYPE": "Jail Enforcement Model"}], header)
