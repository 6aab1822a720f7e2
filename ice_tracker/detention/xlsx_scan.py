"""Scan the cells of .xlsx sheet XML in compiled loops (numba): a window of rows in ~0.1 s, not ~1 s.

Cell readers built on calamine spend most of a raw detentions workbook's read building a grid of
cells; a release's five workbooks hold ~2.5 M rows. This scanner makes one pass over the bytes of a
window of complete `<row>` elements and records, per cell that holds a value: its row, column, type
attribute, style index and where its text lies in the buffer (`<v>` or an inline string's `<t>`).
Nothing is decoded here; `xlsx_columns.py` turns the spans into typed Arrow columns.

It reads only the plain form every writer seen uses (cells with `r`, `<v>`, `<f>`, `<is><t>`). Any
other construct (rich inline text, a namespace prefix, CDATA, a cell without `r`) ends the scan with
UNSUPPORTED, and the caller reads that window through fastexcel instead: never a guess.
"""

from __future__ import annotations

import numpy as np
from numba import njit

OK = 0
UNSUPPORTED = 1

# type attribute of a cell
T_NUMBER, T_SHARED, T_INLINE, T_STR, T_BOOL, T_ERROR, T_DATE = 0, 1, 2, 3, 4, 5, 6
# flags of a cell's text: what a plain copy of the bytes would get wrong
F_ENTITY, F_CR, F_ESCAPE, F_TRIM = 1, 2, 4, 8  # F_TRIM: strip the decoded text's ends

_LT, _GT, _SLASH, _EQ, _AMP, _CR, _QUOTE, _APOS, _UNDERSCORE = 60, 62, 47, 61, 38, 13, 34, 39, 95
_SPACE, _TAB, _LF = 32, 9, 10


@njit(cache=True, nogil=True)
def _is_space(byte: int) -> bool:
    return byte == _SPACE or byte == _TAB or byte == _LF or byte == _CR


@njit(cache=True, nogil=True)
def _text_flags(buf: np.ndarray, start: int, end: int) -> int:
    flags = 0
    for k in range(start, end):
        byte = buf[k]
        if byte == _AMP:
            flags |= F_ENTITY
        elif byte == _CR:
            flags |= F_CR
        elif byte == _UNDERSCORE and k + 1 < end and buf[k + 1] == 120:  # "_x": maybe an _xHHHH_ escape
            flags |= F_ESCAPE
    return flags


@njit(cache=True, nogil=True)
def _preserved(buf: np.ndarray, start: int, end: int) -> bool:
    """Whether the tag buf[start:end] says xml:space="preserve" (calamine trims a <t> that does not)."""
    for k in range(start, end - 7):
        if buf[k] == 112 and buf[k + 1] == 114 and buf[k + 2] == 101 and buf[k + 3] == 115 and buf[k + 4] == 101 \
                and buf[k + 5] == 114 and buf[k + 6] == 118 and buf[k + 7] == 101:  # preserve
            return True
    return False


@njit(cache=True, nogil=True)
def _trimmed(buf: np.ndarray, start: int, end: int, trim: bool):  # noqa: ANN202
    """(start, end, flags) of a <t> text: ASCII whitespace off both ends unless preserved, as calamine;
    F_TRIM when an entity may decode to more whitespace at an end."""
    if trim:
        while start < end and _is_space(buf[start]):
            start += 1
        while end > start and _is_space(buf[end - 1]):
            end -= 1
    flags = _text_flags(buf, start, end)
    if trim and flags & F_ENTITY:
        flags |= F_TRIM
    return start, end, flags


@njit(cache=True, nogil=True)
def _find(buf: np.ndarray, start: int, byte: int) -> int:
    size = len(buf)
    k = start
    while k < size and buf[k] != byte:
        k += 1
    return k


@njit(cache=True, nogil=True)
def _is_row_tag(buf: np.ndarray, i: int) -> bool:
    """<row …>, <row/> or </row> at i."""
    k = i + 2 if buf[i + 1] == _SLASH else i + 1
    if k + 3 >= len(buf) or buf[k] != 114 or buf[k + 1] != 111 or buf[k + 2] != 119:
        return False
    end = buf[k + 3]
    return end == _GT or end == _SLASH or _is_space(end)


@njit(cache=True, nogil=True)
def _type_code(buf: np.ndarray, start: int, end: int) -> int:
    n = end - start
    first = buf[start] if n > 0 else 0
    if n == 1:
        if first == 110:  # n
            return T_NUMBER
        if first == 115:  # s
            return T_SHARED
        if first == 98:  # b
            return T_BOOL
        if first == 101:  # e
            return T_ERROR
        if first == 100:  # d
            return T_DATE
    elif n == 3 and first == 115 and buf[start + 1] == 116 and buf[start + 2] == 114:  # str
        return T_STR
    elif n == 9 and first == 105 and buf[start + 6] == 83:  # inlineStr
        return T_INLINE
    return -1


@njit(cache=True, nogil=True)
def scan_cells(buf: np.ndarray, capacity: int):  # noqa: ANN201 (numba: a tuple of arrays)
    """(status, n, rows, cols, types, styles, starts, ends, flags) of the cells holding a value.
    rows are Excel row numbers, cols 0-based; the text of cell i is buf[starts[i]:ends[i]]."""
    rows = np.empty(capacity, np.int64)
    cols = np.empty(capacity, np.int32)
    types = np.empty(capacity, np.int8)
    styles = np.empty(capacity, np.int32)
    starts = np.empty(capacity, np.int64)
    ends = np.empty(capacity, np.int64)
    flags = np.empty(capacity, np.int8)
    size = len(buf)
    n = 0
    i = _find(buf, 0, _LT)
    while i + 2 < size:
        nxt = buf[i + 1]
        after = buf[i + 2]
        if not (nxt == 99 and (after == _SPACE or after == _GT or after == _SLASH)):  # not <c
            if not _is_row_tag(buf, i):  # only <row …> and </row> lie between cells
                return UNSUPPORTED, n, rows, cols, types, styles, starts, ends, flags
            i = _find(buf, _find(buf, i, _GT) + 1, _LT)
            continue
        # attributes of <c ...>
        j = i + 2
        row, col, style, kind = -1, -1, 0, T_NUMBER
        closed = False
        while True:
            while j < size and _is_space(buf[j]):
                j += 1
            if j >= size:
                return UNSUPPORTED, n, rows, cols, types, styles, starts, ends, flags
            if buf[j] == _GT:
                j += 1
                break
            if buf[j] == _SLASH:
                j = _find(buf, j, _GT) + 1
                closed = True
                break
            name = j
            while j < size and buf[j] != _EQ and not _is_space(buf[j]):
                j += 1
            name_end = j
            while j < size and _is_space(buf[j]):
                j += 1
            if j + 1 >= size or buf[j] != _EQ:
                return UNSUPPORTED, n, rows, cols, types, styles, starts, ends, flags
            j += 1
            while j < size and _is_space(buf[j]):
                j += 1
            quote = buf[j] if j < size else 0
            if quote != _QUOTE and quote != _APOS:
                return UNSUPPORTED, n, rows, cols, types, styles, starts, ends, flags
            value = j + 1
            j = _find(buf, value, quote)
            value_end = j
            j += 1
            if name_end - name != 1:
                continue  # cm, vm, ph...: no bearing on the value
            letter = buf[name]
            if letter == 114:  # r="AB12"
                col, row = 0, 0
                k = value
                while k < value_end and 65 <= buf[k] <= 90:
                    col = col * 26 + (buf[k] - 64)
                    k += 1
                digits = k
                while k < value_end and 48 <= buf[k] <= 57:
                    row = row * 10 + (buf[k] - 48)
                    k += 1
                if col == 0 or k == digits or k != value_end or col > 16384:
                    return UNSUPPORTED, n, rows, cols, types, styles, starts, ends, flags
            elif letter == 115:  # s="3"
                style = 0
                for k in range(value, value_end):
                    if not 48 <= buf[k] <= 57:
                        return UNSUPPORTED, n, rows, cols, types, styles, starts, ends, flags
                    style = style * 10 + (buf[k] - 48)
            elif letter == 116:  # t="s"
                kind = _type_code(buf, value, value_end)
                if kind < 0:
                    return UNSUPPORTED, n, rows, cols, types, styles, starts, ends, flags
        if row < 0:
            return UNSUPPORTED, n, rows, cols, types, styles, starts, ends, flags
        text_start, text_end = -1, -1
        trim = False  # <v> text is kept as it is
        if not closed:
            # children: <f>…</f>, <v>…</v>, <is><t>…</t></is>, then </c>
            while True:
                k = _find(buf, j, _LT)
                if k + 3 >= size:
                    return UNSUPPORTED, n, rows, cols, types, styles, starts, ends, flags
                child, after = buf[k + 1], buf[k + 2]
                if child == _SLASH:
                    if buf[k + 2] != 99 or buf[k + 3] != _GT:  # only </c> closes here
                        return UNSUPPORTED, n, rows, cols, types, styles, starts, ends, flags
                    j = k + 4
                    break
                tag_end = _find(buf, k, _GT)
                if tag_end >= size:
                    return UNSUPPORTED, n, rows, cols, types, styles, starts, ends, flags
                empty = buf[tag_end - 1] == _SLASH
                if child == 118 and (after == _GT or after == _SPACE or after == _SLASH):  # <v>
                    if empty:
                        text_start, text_end = tag_end + 1, tag_end + 1
                        j = tag_end + 1
                    else:
                        text_start = tag_end + 1
                        text_end = _find(buf, text_start, _LT)
                        if text_end + 2 >= size or buf[text_end + 1] != _SLASH or buf[text_end + 2] != 118:
                            return UNSUPPORTED, n, rows, cols, types, styles, starts, ends, flags
                        j = _find(buf, text_end, _GT) + 1
                elif child == 102 and (after == _GT or after == _SPACE or after == _SLASH):  # <f>: skipped
                    if empty:
                        j = tag_end + 1
                    else:
                        m = _find(buf, tag_end + 1, _LT)
                        if m + 2 >= size or buf[m + 1] != _SLASH or buf[m + 2] != 102:
                            return UNSUPPORTED, n, rows, cols, types, styles, starts, ends, flags
                        j = _find(buf, m, _GT) + 1
                elif child == 105 and buf[k + 2] == 115 and buf[k + 3] == _GT:  # <is><t>text</t></is>
                    m = _find(buf, tag_end + 1, _LT)
                    if m + 2 >= size or buf[m + 1] != 116 or not (buf[m + 2] == _GT or buf[m + 2] == _SPACE):
                        return UNSUPPORTED, n, rows, cols, types, styles, starts, ends, flags  # rich text, <t/>
                    t_end = _find(buf, m, _GT)
                    if t_end >= size or buf[t_end - 1] == _SLASH:
                        return UNSUPPORTED, n, rows, cols, types, styles, starts, ends, flags
                    text_start = t_end + 1
                    text_end = _find(buf, text_start, _LT)
                    trim = not _preserved(buf, m, t_end)
                    # then exactly </t></is>
                    if text_end + 3 >= size or buf[text_end + 1] != _SLASH or buf[text_end + 2] != 116 or buf[text_end + 3] != _GT:
                        return UNSUPPORTED, n, rows, cols, types, styles, starts, ends, flags
                    m = text_end + 4
                    if m + 4 >= size or buf[m] != _LT or buf[m + 1] != _SLASH or buf[m + 2] != 105 or buf[m + 3] != 115:
                        return UNSUPPORTED, n, rows, cols, types, styles, starts, ends, flags
                    j = _find(buf, m, _GT) + 1
                else:
                    return UNSUPPORTED, n, rows, cols, types, styles, starts, ends, flags
        if text_start >= 0 and (text_end > text_start or kind == T_INLINE or kind == T_STR or kind == T_SHARED):
            if n == capacity:
                return UNSUPPORTED, n, rows, cols, types, styles, starts, ends, flags
            rows[n] = row
            cols[n] = col - 1
            types[n] = kind
            styles[n] = style
            starts[n], ends[n], flags[n] = _trimmed(buf, text_start, text_end, trim)
            n += 1
        i = _find(buf, j, _LT)
    return OK, n, rows, cols, types, styles, starts, ends, flags


@njit(cache=True, nogil=True)
def scan_shared_strings(buf: np.ndarray, capacity: int):  # noqa: ANN201
    """(status, n, starts, ends, flags) of each <si>: flags bit 8 marks an <si> that is not one plain
    <t> (rich text runs, phonetic text), which the caller parses on its own."""
    starts = np.empty(capacity, np.int64)
    ends = np.empty(capacity, np.int64)
    flags = np.empty(capacity, np.int16)
    size = len(buf)
    n = 0
    i = _find(buf, 0, _LT)
    while i + 3 < size:
        if not (buf[i + 1] == 115 and buf[i + 2] == 105 and (buf[i + 3] == _GT or buf[i + 3] == _SPACE or buf[i + 3] == _SLASH)):
            i = _find(buf, i + 1, _LT)
            continue
        if n == capacity:
            return UNSUPPORTED, n, starts, ends, flags
        tag_end = _find(buf, i, _GT)
        if buf[tag_end - 1] == _SLASH:  # <si/>: an empty string
            starts[n], ends[n], flags[n] = tag_end, tag_end, 0
            n += 1
            i = _find(buf, tag_end, _LT)
            continue
        close = tag_end + 1
        # the plain form: <si><t ...>text</t></si>
        m = _find(buf, tag_end + 1, _LT)
        plain = m + 3 < size and buf[m + 1] == 116 and (buf[m + 2] == _GT or buf[m + 2] == _SPACE)
        if plain:
            t_end = _find(buf, m, _GT)
            if buf[t_end - 1] == _SLASH:
                starts[n], ends[n] = t_end + 1, t_end + 1
                after = t_end + 1
            else:
                starts[n] = t_end + 1
                ends[n] = _find(buf, t_end + 1, _LT)
                after = _find(buf, ends[n], _GT) + 1
            plain = after + 4 < size and buf[after] == _LT and buf[after + 1] == _SLASH and buf[after + 2] == 115 and buf[after + 3] == 105
            close = after
        if plain:
            starts[n], ends[n], flags[n] = _trimmed(buf, starts[n], ends[n], not _preserved(buf, m, t_end))
        else:  # the whole <si>…</si> for the caller
            end = close
            while True:
                end = _find(buf, end, _LT)
                if end + 4 >= size:
                    return UNSUPPORTED, n, starts, ends, flags
                if buf[end + 1] == _SLASH and buf[end + 2] == 115 and buf[end + 3] == 105:
                    break
                end += 1
            starts[n], ends[n], flags[n] = i, _find(buf, end, _GT) + 1, 256
        n += 1
        i = _find(buf, ends[n - 1], _LT)
    return OK, n, starts, ends, flags


@njit(cache=True, nogil=True)
def gather(buf: np.ndarray, starts: np.ndarray, ends: np.ndarray):  # noqa: ANN201
    """The spans buf[starts[i]:ends[i]] one after another, and Arrow-style int64 offsets."""
    offsets = np.empty(len(starts) + 1, np.int64)
    total = 0
    for i in range(len(starts)):
        offsets[i] = total
        total += ends[i] - starts[i]
    offsets[len(starts)] = total
    data = np.empty(total, np.uint8)
    for i in range(len(starts)):
        data[offsets[i]:offsets[i + 1]] = buf[starts[i]:ends[i]]
    return data, offsets


@njit(cache=True, nogil=True)
def count_cells(buf: np.ndarray) -> int:
    """How many "<c" the buffer holds: room enough for its cells."""
    count = 0
    for k in range(len(buf) - 1):
        if buf[k] == _LT and buf[k + 1] == 99:
            count += 1
    return count


@njit(cache=True, nogil=True)
def by_column(cols: np.ndarray, width: int):  # noqa: ANN201
    """(order, bounds): the cells of column c are order[bounds[c]:bounds[c + 1]], in their order in the
    sheet (rows ascending); a counting sort, O(cells)."""
    bounds = np.zeros(width + 1, np.int64)
    for i in range(len(cols)):
        bounds[cols[i] + 1] += 1
    for c in range(width):
        bounds[c + 1] += bounds[c]
    fill = bounds[:-1].copy()
    order = np.empty(len(cols), np.int64)
    for i in range(len(cols)):
        order[fill[cols[i]]] = i
        fill[cols[i]] += 1
    return order, bounds


@njit(cache=True, nogil=True)
def parse_indices(buf: np.ndarray, starts: np.ndarray, ends: np.ndarray):  # noqa: ANN201
    """(ok, values): the spans read as non-negative decimal integers (shared-string indices); ok is
    False when a span is empty, too long or holds anything but digits."""
    values = np.empty(len(starts), np.int64)
    for i in range(len(starts)):
        if ends[i] <= starts[i] or ends[i] - starts[i] > 18:
            return False, values
        value = 0
        for k in range(starts[i], ends[i]):
            digit = buf[k] - 48
            if digit < 0 or digit > 9:
                return False, values
            value = value * 10 + digit
        values[i] = value
    return True, values
