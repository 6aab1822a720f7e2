"""The compiled scan of sheet XML types a window exactly as fastexcel does, or declines it.

Every window is compared with fastexcel's own Arrow columns for the same window: on ICE's archived
287(g) workbooks (Excel-written: shared strings, rich text, #N/A cells, dates as styled numbers) and on
hand-written sheets of every cell form the scanner meets or declines (entities, formulas, booleans,
errors, empty strings, 1900-leap-year serials, time and duration styles, `_xHHHH_` escapes, carriage
returns, ISO dates, namespace prefixes, cells without `r`). A declined window (`Unreadable`) goes to
fastexcel; a window where a column mixes kinds (None) goes cell by cell, as fastexcel refuses it too.
"""

from __future__ import annotations

import logging
import sys
import zipfile
from pathlib import Path

import fastexcel
import numpy as np
import pyarrow as pa
import pytest

from ice_tracker import detention
from ice_tracker.detention import readers
from ice_tracker.detention.readers import _scan_parts, read_workbook_stints
from ice_tracker.detention.xlsx_columns import Unreadable, window_columns
from ice_tracker.detention.xlsx_windows import WindowedWorkbook
from tests.conftest import SHARED_FIXTURES as FIXTURES

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
# cellXfs: 0 general, 1 date-time (custom yyyy-mm-dd h:mm:ss), 2 time (builtin 20), 3 duration (builtin 46)
STYLES = (f'<styleSheet xmlns="{MAIN}"><numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy-mm-dd h:mm:ss"/>'
          '</numFmts><fonts count="1"><font><sz val="11"/></font></fonts><fills count="1"><fill><patternFill/></fill>'
          '</fills><borders count="1"><border/></borders><cellStyleXfs count="1"><xf numFmtId="0"/></cellStyleXfs>'
          '<cellXfs count="4"><xf numFmtId="0" xfId="0"/><xf numFmtId="164" xfId="0" applyNumberFormat="1"/>'
          '<xf numFmtId="20" xfId="0" applyNumberFormat="1"/><xf numFmtId="46" xfId="0" applyNumberFormat="1"/>'
          '</cellXfs></styleSheet>')
SHARED = ["plain", "a &amp; b &lt;c&gt; &quot;d&quot; &#233;&#x20AC;", "  padded  ", "",
          "<r><t>rich </t></r><r><rPr><b/></rPr><t xml:space='preserve'> text </t></r>",
          "<r><t>kanji</t></r><rPh sb=\"0\" eb=\"1\"><t>phonetic</t></rPh>",
          "<t> trimmed\t</t>", "<t>&#32;entity spaces&#10;</t>", "<t>\u00a0kept\u2003</t>", "<t>  </t>"]


@pytest.fixture(autouse=True)
def _scan_small_workbooks(monkeypatch: pytest.MonkeyPatch) -> None:
    """The scan is used from 16 MB of sheet XML; these small workbooks are scanned all the same."""
    monkeypatch.setenv("ICE_TRACKER_LIMIT_XLSX_SCAN_MIN_BYTES", "1")


def _workbook(path: Path, rows_xml: str, shared: list[str] | None = None, prefix: str = "") -> Path:
    """A minimal .xlsx: header row 1 ('h' in A1..), then `rows_xml` (rows 2…) with STYLES and `shared`."""
    p = f"{prefix}:" if prefix else ""
    namespace = f'xmlns:{prefix}="{MAIN}"' if prefix else f'xmlns="{MAIN}"'
    sheet = (f'<{p}worksheet {namespace}><{p}sheetData><{p}row r="1">'
             + "".join(f'<{p}c r="{col}1" t="inlineStr"><{p}is><{p}t>h{col}</{p}t></{p}is></{p}c>' for col in "ABC")
             + f"</{p}row>{rows_xml}</{p}sheetData></{p}worksheet>")
    rels = ('<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
            'Target="worksheets/sheet1.xml"/><Relationship Id="rId2" '
            'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>')
    types = ('<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.'
             'spreadsheetml.worksheet+xml"/><Override PartName="/xl/styles.xml" ContentType="application/'
             'vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>')
    members = {"xl/worksheets/sheet1.xml": sheet, "xl/styles.xml": STYLES}
    if shared is not None:
        items = "".join(f"<si>{s}</si>" if s.startswith("<") else f'<si><t xml:space="preserve">{s}</t></si>' for s in shared)
        members["xl/sharedStrings.xml"] = f'<sst xmlns="{MAIN}" count="{len(shared)}" uniqueCount="{len(shared)}">{items}</sst>'
        rels += ('<Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
                 'sharedStrings" Target="sharedStrings.xml"/>')
        types += ('<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-'
                  'officedocument.spreadsheetml.sharedStrings+xml"/>')
    members["xl/_rels/workbook.xml.rels"] = ('<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
                                             f'relationships">{rels}</Relationships>')
    members["xl/workbook.xml"] = (f'<workbook xmlns="{MAIN}" xmlns:r="http://schemas.openxmlformats.org/officeDocument/'
                                  '2006/relationships"><sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>')
    members["_rels/.rels"] = ('<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                              '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                              'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>')
    members["[Content_Types].xml"] = ('<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                                      '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
                                      'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
                                      '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
                                      f'officedocument.spreadsheetml.sheet.main+xml"/>{types}</Types>')
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as book:
        for name, text in members.items():
            book.writestr(name, text)
    return path


def _fastexcel_columns(workbook: str) -> list[pa.Array] | None:
    logging.getLogger("fastexcel").setLevel(logging.ERROR)
    try:
        batch = fastexcel.read_excel(workbook).load_sheet(0, header_row=0, eager=True, schema_sample_rows=None,
                                                          dtype_coercion="strict")
    except fastexcel.FastExcelError:
        return None
    return [batch.column(i) for i in range(batch.num_columns)] if batch.num_rows else []


def _compare_windows(path: Path, rows: int) -> dict[str, int]:
    """Every window after the first (the header's) of every sheet: scan vs fastexcel. Counts outcomes."""
    seen = {"same": 0, "refused by both": 0, "declined": 0}
    book = WindowedWorkbook(str(path))
    try:
        parts = _scan_parts(book, path.name)
        if parts is None:
            seen["declined"] += 1
            return seen
        for sheet in book.sheets:
            for window in book.windows(sheet, rows, 1):
                try:
                    if window.first_row == 1:
                        continue
                    try:
                        scanned = window_columns(window.rows_xml, window.first_row, parts)
                    except Unreadable:
                        seen["declined"] += 1
                        continue
                    expected = _fastexcel_columns(window.workbook)
                    if scanned is None or expected is None:
                        assert scanned is None and expected is None, f"{path.name} {window}: only one refuses"
                        seen["refused by both"] += 1
                        continue
                    columns, n_rows = scanned
                    if not n_rows:
                        assert not expected, f"{path.name} {window}"
                    else:
                        assert len(columns) == len(expected), f"{path.name} {window}: width"
                        for index, (ours, theirs) in enumerate(zip(columns, expected)):
                            assert ours.equals(theirs), f"{path.name} {window} column {index}: {ours.type} vs {theirs.type}"
                    seen["same"] += 1
                finally:
                    window.discard()
    finally:
        book.close()
    return seen


CASES = {
    # name: (rows XML from row 2, shared strings, expected: "same" | "declined" | "refused by both")
    "numbers, dates, times, text": ('<row r="2"><c r="A2" s="1"><v>45658.416666666664</v></c><c r="B2" s="2"><v>0.4375</v></c>'
                                    '<c r="C2" t="inlineStr"><is><t>x</t></is></c></row><row r="3"><c r="A3" s="1"><v>59.5</v></c>'
                                    '<c r="B3" s="2"><v>60</v></c><c r="C3" t="str"><f>C2</f><v>formula text</v></c></row>', None, "same"),
    "shared strings: entities, rich text, phonetic runs, spaces, empty":
        ("".join(f'<row r="{i + 2}"><c r="A{i + 2}" t="s"><v>{i}</v></c><c r="B{i + 2}"><v>{i}.5</v></c></row>'
                 for i in range(len(SHARED))), SHARED, "same"),
    "errors, booleans, blank rows and gaps": ('<row r="2"><c r="A2" t="e"><v>#N/A</v></c><c r="B2" t="b"><v>1</v></c></row>'
                                              '<row r="3"/><row r="5"><c r="B5" t="b"><v>0</v></c><c r="C5" t="e"><v>#DIV/0!</v></c>'
                                              '</row><row r="6"><c r="A6" s="1"/><c r="C6"><v></v></c></row>', None, "same"),
    "inline entities and a styled empty cell": ('<row r="2"><c r="A2" t="inlineStr"><is><t>R&amp;D &#10;line</t></is></c>'
                                                '<c r="B2" s="1"/></row>', None, "same"),
    "inline text trimmed unless preserved": ('<row r="2"><c r="A2" t="inlineStr"><is><t> a </t></is></c><c r="B2" t="str">'
                                             '<v> formula kept </v></c></row><row r="3"><c r="A3" t="inlineStr"><is>'
                                             '<t xml:space="preserve"> b </t></is></c><c r="B3" t="str"><v></v></c></row>'
                                             '<row r="4"><c r="A4" t="inlineStr"><is><t>&#9;c&#32;</t></is></c></row>', None, "same"),
    "a number with spaces (text to calamine)": ('<row r="2"><c r="A2"><v> 1.5 </v></c></row>', None, "declined"),
    "a column mixing numbers and text": ('<row r="2"><c r="A2"><v>1</v></c></row><row r="3"><c r="A3" t="inlineStr">'
                                         '<is><t>one</t></is></c></row>', None, "refused by both"),
    "a column mixing dates and numbers": ('<row r="2"><c r="A2" s="1"><v>45000</v></c></row><row r="3"><c r="A3">'
                                          '<v>2</v></c></row>', None, "refused by both"),
    "a duration style": ('<row r="2"><c r="A2" s="3"><v>1.25</v></c></row>', None, "declined"),
    "an ISO date cell": ('<row r="2"><c r="A2" t="d"><v>2025-01-01T00:00:00</v></c></row>', None, "declined"),
    "an _xHHHH_ escape": ('<row r="2"><c r="A2" t="inlineStr"><is><t>a_x000D_b</t></is></c></row>', None, "declined"),
    "a carriage return": ('<row r="2"><c r="A2" t="inlineStr"><is><t>a&#13;b\r\nc</t></is></c></row>', None, "declined"),
    "rich inline text": ('<row r="2"><c r="A2" t="inlineStr"><is><r><t>a</t></r><r><t>b</t></r></is></c></row>', None, "declined"),
    "a cell without r": ('<row r="2"><c t="inlineStr"><is><t>a</t></is></c></row>', None, "declined"),
    "a negative date serial": ('<row r="2"><c r="A2" s="1"><v>-1</v></c></row>', None, "declined"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_each_cell_form_is_read_as_fastexcel_reads_it_or_declined(tmp_path: Path, case: str) -> None:
    rows_xml, shared, expected = CASES[case]
    path = _workbook(tmp_path / "case.xlsx", rows_xml, shared)
    seen = _compare_windows(path, 1000)
    assert seen[expected] == 1 and sum(seen.values()) == 1, seen


def test_a_namespace_prefix_is_declined(tmp_path: Path) -> None:
    path = _workbook(tmp_path / "prefixed.xlsx", '<x:row r="2"><x:c r="A2"><x:v>1</x:v></x:c></x:row>', prefix="x")
    book = WindowedWorkbook(str(path))
    window = list(book.windows(book.sheets[0], 1000, 1))[-1]
    with pytest.raises(Unreadable):
        window_columns(window.rows_xml, window.first_row, _scan_parts(book, path.name))
    book.close()


REAL_BOOKS = sorted((FIXTURES / "ice287g" / "sheets").glob("*/*.xlsx"))


@pytest.mark.skipif(not REAL_BOOKS, reason=f"the archived ICE workbooks are not in {FIXTURES} (a fresh clone)")
def test_archived_ice_workbooks_scan_as_fastexcel_reads_them() -> None:
    """ICE's own workbooks, in windows of 7 rows: every window the same as fastexcel's, none declined."""
    total = {"same": 0, "refused by both": 0, "declined": 0}
    for path in REAL_BOOKS[::4]:
        for outcome, count in _compare_windows(path, 7).items():
            total[outcome] += count
    assert total["same"] > 300 and total["declined"] == 0, total


def test_the_reader_scans_plain_windows_without_fastexcel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Plain windows never reach fastexcel; a window the scan declines does, and both give the frame the
    whole-sheet cell reader gives."""
    plain = "".join(f'<row r="{r}"><c r="A{r}" t="inlineStr"><is><t>id{r}</t></is></c><c r="B{r}" s="1"><v>{45000 + r}.25</v>'
                    f'</c><c r="C{r}" t="inlineStr"><is><t>FAC{r % 3}</t></is></c></row>' for r in range(2, 40))
    header = "Anonymized Identifier", "Book In Date Time", "Detention Facility Code"
    def book(name: str, extra: str) -> Path:
        path = _workbook(tmp_path / name, plain + extra)
        with zipfile.ZipFile(path) as source:
            members = {n: source.read(n) for n in source.namelist()}
        sheet = members["xl/worksheets/sheet1.xml"].decode()
        for col, title in zip("ABC", header):
            sheet = sheet.replace(f"<t>h{col}</t>", f"<t>{title}</t>")
        members["xl/worksheets/sheet1.xml"] = sheet.encode()
        with zipfile.ZipFile(path, "w") as target:
            for n, data in members.items():
                target.writestr(n, data)
        return path

    monkeypatch.setenv("ICE_TRACKER_LIMIT_XLSX_WINDOW_ROWS", "10")
    calls: list[str] = []
    original = readers._fastexcel_window
    monkeypatch.setattr(readers, "_fastexcel_window", lambda window, *a: calls.append(window.first_row) or original(window, *a))
    path = book("plain.xlsx", "")
    frame, _ = read_workbook_stints(path)
    whole, _ = read_workbook_stints(path, whole_sheets=True)
    assert calls == [] and len(frame) == 38
    assert frame.equals(whole)

    declined = book("declined.xlsx", '<row r="40"><c r="A40" t="d"><v>2025-01-01</v></c></row>')
    frame, _ = read_workbook_stints(declined)
    whole, _ = read_workbook_stints(declined, whole_sheets=True)
    assert calls == [36]  # the last window only: rows 36-40
    assert frame.equals(whole)


def test_a_small_workbook_is_read_by_fastexcel_without_loading_the_scan(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Below `xlsx_scan_min_bytes` of sheet XML, loading the compiled scan would cost more than it saves."""
    path = _workbook(tmp_path / "small.xlsx", '<row r="2"><c r="A2"><v>1</v></c></row>')
    book = WindowedWorkbook(str(path))
    try:
        assert _scan_parts(book, path.name) is not None  # forced by this module's fixture
        monkeypatch.delenv("ICE_TRACKER_LIMIT_XLSX_SCAN_MIN_BYTES")
        assert book.sheet_xml_bytes() < 16 << 20 and _scan_parts(book, path.name) is None
    finally:
        book.close()


def test_without_numba_every_window_goes_to_fastexcel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A platform without numba's wheels still reads workbooks: through fastexcel, the same frame."""
    rows = "".join(f'<row r="{r}"><c r="A{r}" t="inlineStr"><is><t>x{r}</t></is></c><c r="B{r}"><v>{r}</v></c></row>'
                   for r in range(2, 30))
    path = _workbook(tmp_path / "book.xlsx", rows)
    book = WindowedWorkbook(str(path))
    expected = _compare_windows(path, 10)
    for module in ("xlsx_columns", "xlsx_scan"):  # imported afresh, as on a first run
        monkeypatch.delitem(sys.modules, f"ice_tracker.detention.{module}", raising=False)
        monkeypatch.delattr(detention, module, raising=False)
    monkeypatch.setitem(sys.modules, "numba", None)  # `import numba` raises ImportError
    try:
        assert _scan_parts(book, path.name) is None
    finally:
        book.close()
    assert expected["same"] >= 2  # with numba, the same windows were scanned


def test_truncated_or_mangled_xml_is_declined_never_read_past_its_end() -> None:
    """The compiled loops do not check bounds: every way a window's XML can end early, or carry stray
    bytes, must give OK or UNSUPPORTED. Run as plain Python (`py_func`), where a read past the end of
    the buffer raises IndexError instead of reading whatever memory follows."""
    from ice_tracker.detention import xlsx_scan as scan

    body = ('<row r="2"><c r="A2" t="s"><v>1</v></c><c r="B2" t="inlineStr"><is><t xml:space="preserve"> x </t>'
            '</is></c><c r="C2" s="1"><f>A1</f><v>45000.5</v></c><c r="D2" t="b"><v>1</v></c></row>').encode()
    for cut in range(len(body) + 1):
        for variant in (body[:cut], body[:cut] + b"<", body[:cut] + b"</", body[cut:]):
            buf = np.frombuffer(variant, dtype=np.uint8)
            status = scan.scan_cells.py_func(buf, scan.count_cells(buf) + 1)[0]
            assert status in (scan.OK, scan.UNSUPPORTED)
            shared = scan.scan_shared_strings.py_func(buf, variant.count(b"<si") + 1)[0]
            assert shared in (scan.OK, scan.UNSUPPORTED)
