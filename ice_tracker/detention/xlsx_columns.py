"""A window of sheet rows as typed Arrow columns, exactly as fastexcel types it, from the compiled scan.

fastexcel (calamine) builds a grid of every cell before typing a column; `xlsx_scan.py` finds the
cells' text in one compiled pass, and the columns are typed here with Arrow kernels: a 50,000-row
window of the benchmark workbook in ~0.2 s where fastexcel takes ~1 s. The result must be what fastexcel's `load_sheet(header_row=0, schema_sample_rows=None,
dtype_coercion="strict")` gives for the same window, column for column:

- a column of numbers → float64; of numbers in a date style → timestamp[ms] (Excel serial, the 1900
  leap-year quirk below 60, rounded half up to the millisecond, as calamine does);
- text (shared, inline, formula strings) → string; booleans → bool; a column with no cell → null text;
  error cells (#N/A) are empty but count in the grid's size;
- a column mixing those kinds → None: fastexcel refuses it in strict mode, and the caller then reads
  the window cell by cell.

Anything this module is not sure to read the same way raises Unreadable (rich inline text, an unknown
entity, `_xHHHH_` escapes, carriage returns, ISO date cells, a style calamine reads as a duration): the
caller then hands the window to fastexcel. Which styles make a date is asked of python-calamine
itself, once per workbook, so the two readers cannot disagree on it.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ice_tracker.detention import xlsx_scan as scan

NUMBER, DATE, TEXT, BOOL, ERROR, REFUSED = 0, 1, 2, 3, 4, 5  # a cell's class
STYLE_NUMBER, STYLE_DATE, STYLE_OTHER = 0, 1, 2
MS_PER_DAY = 86_400_000.0
EXCEL_EPOCH_MS = int((np.datetime64("1899-12-30", "ms") - np.datetime64("1970-01-01", "ms")).astype(np.int64))
ENTITY = re.compile(r"&(?:(amp|lt|gt|quot|apos)|#([0-9]+)|#x([0-9a-fA-F]+));")
ESCAPE = re.compile(r"_x[0-9a-fA-F]{4}_")
XML_SPACE = " \t\n\r"
NAMED_ENTITIES = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}


class Unreadable(ValueError):
    """Something this reader does not read exactly as fastexcel: use fastexcel for it."""


def _readonly(xml: bytes | bytearray) -> np.ndarray:
    """The XML as a read-only uint8 array, whether bytes or a window's bytearray: one array type, so
    each compiled function is compiled once (numba compiles per argument type)."""
    buf = np.frombuffer(xml, dtype=np.uint8)
    buf.flags.writeable = False
    return buf


def warm_up() -> None:
    """Compile (or load from numba's cache) every function of the scan, with the argument types real
    workbooks give: shared and inline strings, numbers, dates, booleans and an error cell."""
    shared = shared_strings(b'<sst xmlns="x"><si><t>a</t></si><si><r><t>b</t></r></si></sst>')
    window = bytearray(b'<row r="2"><c r="A2" t="s"><v>1</v></c><c r="B2" t="inlineStr"><is><t>x &amp; y</t></is></c>'
                       b'<c r="C2" s="1"><v>45000.5</v></c><c r="D2"><v>2</v></c><c r="E2" t="b"><v>1</v></c>'
                       b'<c r="F2" t="e"><v>#N/A</v></c></row>')
    window_columns(window, 2, WorkbookParts(shared, np.array([STYLE_NUMBER, STYLE_DATE], dtype=np.int8)))


def _decode(raw: bytes) -> str:
    """XML text with entities → str; an entity XML does not define, or bytes that are not UTF-8 → Unreadable."""
    try:
        text = raw.decode("utf-8")
        if "&" not in text:
            return text
        if "&" in ENTITY.sub("", text):
            raise Unreadable("an unknown entity")
        return ENTITY.sub(_entity, text)
    except (UnicodeDecodeError, ValueError, OverflowError) as exc:  # chr() of a code point out of range
        raise Unreadable(f"text XML does not allow: {exc}") from exc


def _entity(match: re.Match[str]) -> str:
    named, decimal, hexadecimal = match.groups()
    if named:
        return NAMED_ENTITIES[named]
    return chr(int(decimal) if decimal else int(hexadecimal, 16))


def _strings(buf: np.ndarray, starts: np.ndarray, ends: np.ndarray, flags: np.ndarray) -> pa.Array:
    """The spans as one Arrow string array; flagged spans decoded one by one."""
    data, offsets = scan.gather(buf, starts, ends)
    texts = pa.LargeStringArray.from_buffers(len(starts), pa.py_buffer(offsets), pa.py_buffer(data))
    flagged = np.flatnonzero(flags)
    if len(flagged):
        if np.any(flags[flagged] & (scan.F_CR | scan.F_ESCAPE)):
            for i in flagged[(flags[flagged] & (scan.F_CR | scan.F_ESCAPE)) != 0]:
                raw = bytes(buf[starts[i]:ends[i]])
                if b"\r" in raw or ESCAPE.search(raw.decode("utf-8", "replace")):
                    raise Unreadable("a carriage return or an _xHHHH_ escape")
        decoded = pa.array([_decode(bytes(buf[starts[i]:ends[i]])).strip(XML_SPACE) if flags[i] & scan.F_TRIM
                            else _decode(bytes(buf[starts[i]:ends[i]])) for i in flagged], type=pa.large_string())
        mask = np.zeros(len(starts), dtype=bool)
        mask[flagged] = True
        texts = pc.replace_with_mask(texts, pa.array(mask), decoded)
    try:
        texts.validate(full=True)  # valid UTF-8
    except pa.ArrowInvalid as exc:
        raise Unreadable(f"text that is not UTF-8: {exc}") from exc
    return texts.cast(pa.string())


@dataclass(frozen=True)
class WorkbookParts:
    """What every window of a workbook shares: its shared strings and what each style index makes of a number."""

    shared: pa.Array | None  # string
    style_classes: np.ndarray  # int8 per cellXfs index: STYLE_NUMBER, STYLE_DATE, STYLE_OTHER


def shared_strings(xml: bytes | None) -> pa.Array | None:
    """sharedStrings.xml as an Arrow string array; Unreadable if an entry is not one plain <t>."""
    if xml is None:
        return None
    buf = _readonly(xml)
    status, n, starts, ends, flags = scan.scan_shared_strings(buf, xml.count(b"<si") + 1)
    if status != scan.OK:
        raise Unreadable("shared strings in an unexpected form")
    starts, ends, flags = starts[:n], ends[:n], flags[:n]
    rich = np.flatnonzero(flags >= 256)
    plain_flags = np.where(flags >= 256, 0, flags).astype(np.int8)
    if not len(rich):
        return _strings(buf, starts, ends, plain_flags)
    # rich text (runs of differently formatted text): the runs' text joined, phonetic runs left out
    texts = _strings(buf, starts, np.where(flags >= 256, starts, ends), plain_flags)  # rich ones empty for now
    joined = pa.array([_rich_text(bytes(buf[starts[i]:ends[i]])) for i in rich], type=pa.string())
    mask = np.zeros(n, dtype=bool)
    mask[rich] = True
    return pc.replace_with_mask(texts, pa.array(mask), joined)


def _run_text(t: ET.Element) -> str:
    """A <t>'s text as calamine gives it: ASCII whitespace off both ends unless xml:space="preserve"."""
    text = t.text or ""
    return text if t.get("{http://www.w3.org/XML/1998/namespace}space") == "preserve" else text.strip(XML_SPACE)


def _rich_text(si: bytes) -> str:
    """The text of a rich <si>: every <t> of its runs, in order, without the phonetic (<rPh>) ones."""
    if b"\r" in si or ESCAPE.search(si.decode("utf-8", "replace")):
        raise Unreadable("a carriage return or an _xHHHH_ escape in rich text")
    try:
        element = ET.fromstring(si)
    except ET.ParseError as exc:
        raise Unreadable(f"shared string XML: {exc}") from exc
    parts = []
    for child in element:
        if child.tag == "t":
            parts.append(_run_text(child))
        elif child.tag == "r":
            parts.extend(_run_text(t) for t in child if t.tag == "t")
        elif child.tag not in ("rPh", "phoneticPr"):
            raise Unreadable(f"<{child.tag}> in a shared string")
    return "".join(parts)


def classify_styles(count: int, probe: "callable[[bytes], list[list[object]]]") -> np.ndarray:
    """STYLE_* of style indices 0..count-1, from how python-calamine reads a number in each: `probe`
    reads sheet rows XML through the workbook's own styles and returns its cells."""
    rows = b"".join(b'<row r="%d"><c r="A%d" s="%d"><v>45000.25</v></c></row>' % (i + 1, i + 1, i) for i in range(count))
    cells = probe(rows)
    classes = np.full(count, STYLE_OTHER, dtype=np.int8)
    for i, row in enumerate(cells[:count]):
        value = row[0] if row else None
        if isinstance(value, bool):
            continue
        if isinstance(value, (float, int)):
            classes[i] = STYLE_NUMBER
        elif isinstance(value, (datetime, date, time)) and not isinstance(value, timedelta):
            classes[i] = STYLE_DATE
    return classes


def _numbers(buf: np.ndarray, starts: np.ndarray, ends: np.ndarray, flags: np.ndarray, kind: pa.DataType) -> np.ndarray:
    if np.any(flags):
        raise Unreadable("an entity in a number")
    texts = _strings(buf, starts, ends, flags)
    try:
        return pc.cast(texts, kind).to_numpy(zero_copy_only=False)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise Unreadable(f"a number Arrow does not parse: {exc}") from exc


def _serial_ms(serials: np.ndarray) -> np.ndarray:
    """Excel serial days → ms since 1970, as calamine: +1 day below 60 (the 1900 leap-year quirk),
    rounded half up."""
    if np.any(serials < 0) or not np.all(np.isfinite(serials)):
        raise Unreadable("a negative or infinite date serial")
    days = np.where(serials < 60, serials + 1, serials)
    return EXCEL_EPOCH_MS + np.floor(days * MS_PER_DAY + 0.5).astype(np.int64)


def window_columns(body: bytes | bytearray, first_row: int, parts: WorkbookParts) -> tuple[list[pa.Array], int] | None:
    """(columns from A, rows) of the rows `body` holds (complete <row> elements), rows counted from
    `first_row`; None when a column mixes kinds (fastexcel would refuse the window).
    Raises Unreadable for what only fastexcel reads."""
    buf = _readonly(body)
    status, n, rows, cols, types, styles, starts, ends, flags = scan.scan_cells(buf, scan.count_cells(buf) + 1)
    if status != scan.OK:
        raise Unreadable("sheet XML in a form the scanner does not read")
    rows, cols, types, styles, starts, ends, flags = rows[:n], cols[:n], types[:n], styles[:n], starts[:n], ends[:n], flags[:n]
    if n and rows.min() < first_row:  # rows above the window (its marker row, when there is one)
        keep = rows >= first_row
        rows, cols, types, styles = rows[keep], cols[keep], types[keep], styles[keep]
        starts, ends, flags = starts[keep], ends[keep], flags[keep]
    rows = rows - first_row
    if not len(rows):
        return [], 0
    n_rows, width = int(rows.max()) + 1, int(cols.max()) + 1

    classes = np.full(len(rows), REFUSED, dtype=np.int8)
    number = types == scan.T_NUMBER
    if number.any():
        if styles[number].max(initial=0) >= len(parts.style_classes):
            raise Unreadable("a style index beyond the styles")
        style_class = parts.style_classes[styles[number]]
        classes[number] = np.where(style_class == STYLE_NUMBER, NUMBER, np.where(style_class == STYLE_DATE, DATE, REFUSED))
    classes[(types == scan.T_INLINE) | (types == scan.T_STR) | (types == scan.T_SHARED)] = TEXT
    classes[types == scan.T_BOOL] = BOOL
    classes[types == scan.T_ERROR] = ERROR  # #N/A and the like: empty to fastexcel, but they widen the grid
    if np.any(classes == REFUSED):
        raise Unreadable("ISO date cells or a duration style")
    valued = classes != ERROR
    if not valued.all():
        rows, cols, types, classes = rows[valued], cols[valued], types[valued], classes[valued]
        starts, ends, flags = starts[valued], ends[valued], flags[valued]

    # one kind per column, or the window is refused as fastexcel refuses it
    kinds = np.full(width, -1, dtype=np.int8)
    kinds[cols] = classes
    if np.any(kinds[cols] != classes):
        return None

    # every cell's value, in cell order, per kind
    text_values: pa.Array | None = None
    text_index = np.full(len(rows), -1, dtype=np.int64)
    is_text = classes == TEXT
    if is_text.any():
        shared = is_text & (types == scan.T_SHARED)
        inline = is_text & ~shared
        pieces, offset = [], 0
        if inline.any():
            pieces.append(_strings(buf, starts[inline], ends[inline], flags[inline]))
            text_index[inline] = np.arange(inline.sum())
            offset = int(inline.sum())
        if shared.any():
            if parts.shared is None:
                raise Unreadable("a shared string without a shared strings table")
            parsed, index = scan.parse_indices(buf, starts[shared], ends[shared])
            if not parsed or index.max() >= len(parts.shared):
                raise Unreadable("a shared string index beyond the table")
            pieces.append(parts.shared.take(pa.array(index)))
            text_index[shared] = offset + np.arange(shared.sum())
        text_values = pieces[0] if len(pieces) == 1 else pa.concat_arrays(pieces)
    values = np.zeros(len(rows), dtype=np.float64)
    numeric = (classes == NUMBER) | (classes == DATE)
    if numeric.any():
        values[numeric] = _numbers(buf, starts[numeric], ends[numeric], flags[numeric], pa.float64())
    dates = classes == DATE
    ms = np.zeros(len(rows), dtype=np.int64)
    if dates.any():
        ms[dates] = _serial_ms(values[dates])
    truth = np.zeros(len(rows), dtype=bool)
    boolean = classes == BOOL
    if boolean.any():  # calamine: true unless the text is "0"
        truth[boolean] = ~((ends[boolean] - starts[boolean] == 1) & (buf[starts[boolean]] == ord("0")))

    order, bounds = scan.by_column(cols, width)
    columns: list[pa.Array] = []
    for col in range(width):
        kind = kinds[col]
        if kind < 0:
            columns.append(pa.nulls(n_rows, pa.string()))
            continue
        cells = order[bounds[col]:bounds[col + 1]]
        at = rows[cells]
        missing = np.ones(n_rows, dtype=bool)
        missing[at] = False  # a duplicate cell: the last one wins, as in calamine's grid
        if kind == TEXT:
            full = np.zeros(n_rows, dtype=np.int64)
            full[at] = text_index[cells]
            columns.append(text_values.take(pa.array(full, mask=missing)))
        elif kind == NUMBER:
            full = np.zeros(n_rows, dtype=np.float64)
            full[at] = values[cells]
            columns.append(pa.array(full, mask=missing))
        elif kind == DATE:
            full = np.zeros(n_rows, dtype=np.int64)
            full[at] = ms[cells]
            columns.append(pa.array(full, type=pa.timestamp("ms"), mask=missing))
        else:
            full = np.zeros(n_rows, dtype=bool)
            full[at] = truth[cells]
            columns.append(pa.array(full, mask=missing))
    return columns, n_rows
