"""A page's text layer read with pdfium, laid out the way pdfplumber lays it out.

pdfplumber (pdfminer) spends ~0.2 s per MOA page in Python; pdfium reads the same characters in
a few ms. The field rules were written against pdfplumber's `extract_text()` and
`extract_words()`, so this module rebuilds exactly their layout from pdfium's characters: a
character's box is its font box (ascent to descent, `FPDFText_GetLooseCharBox`, as pdfminer's
is), characters are clustered into lines by `top` (3 pt), split into words at whitespace and at
gaps over 3 pt, and lines of words are clustered by `top` again. Characters pdfium invents
(spaces and line breaks it infers) are ignored, as pdfminer never sees them.
"""

from __future__ import annotations

import ctypes
import itertools
import math
from collections.abc import Callable, Iterator
from typing import Any

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from ice_tracker.moa.words import CID_OFFSET, Word

TOLERANCE = 3.0  # pdfplumber's default x_tolerance and y_tolerance
LIGATURES = {"ﬀ": "ff", "ﬃ": "ffi", "ﬄ": "ffl", "ﬁ": "fi", "ﬂ": "fl", "ﬆ": "st", "ﬅ": "st"}

# text, x0, x1, top, bottom (PDF points, top-down), whether a space follows
Char = tuple[str, float, float, float, float, bool]


def display_space(page: pdfium.PdfPage) -> tuple[int, float, float, float, float]:
    """How page space (y up) maps to the shown page (x right, y down from the top of the crop
    box), turned by /Rotate as a viewer, pdfminer and the renderer turn it: (rotation, crop box)."""
    x0, y0, x1, y1 = page.get_cropbox()
    return page.get_rotation(), x0, y0, x1, y1


def shown_box(space: tuple[int, float, float, float, float], rect: pdfium_c.FS_RECTF) -> tuple[float, float, float]:
    """(x0, x1, bottom) of a character's box in the shown page (turned by /Rotate)."""
    rotation, x0, y0, x1, y1 = space
    corners = [(rect.left, rect.bottom), (rect.left, rect.top), (rect.right, rect.bottom), (rect.right, rect.top)]
    if rotation == 90:
        shown = [(y - y0, x - x0) for x, y in corners]
    elif rotation == 180:
        shown = [(x1 - x, y - y0) for x, y in corners]
    else:
        shown = [(y1 - y, x1 - x) for x, y in corners]
    left = min(x for x, _ in shown)
    return left, max(x for x, _ in shown), max(y for _, y in shown)


def page_chars(textpage: pdfium.PdfTextPage, space: tuple[int, float, float, float, float]) -> list[Char]:
    """Every character pdfium found in the page's content, in content order, with pdfminer's box
    (from the baseline's descent up by the font size) in the shown page's space."""
    raw = textpage.raw
    count = pdfium_c.FPDFText_CountChars(raw)
    rect = pdfium_c.FS_RECTF()
    matrix = pdfium_c.FS_MATRIX()
    upright, x0, _, _, y1 = space[0] == 0, space[1], space[2], space[3], space[4]
    chars: list[Char] = []
    size, box_height = 0.0, -1.0
    get_unicode, map_error, loose_box = pdfium_c.FPDFText_GetUnicode, pdfium_c.FPDFText_HasUnicodeMapError, pdfium_c.FPDFText_GetLooseCharBox
    for index in range(max(0, count)):
        code = get_unicode(raw, index)
        if code < 0x100 and map_error(raw, index) == 1:
            code = code + CID_OFFSET if 32 <= code + CID_OFFSET < 127 else 0x20  # as words.decode_cids
        text = chr(code)
        if text.isspace() or code in (0, 0xFFFE):
            if text.isspace() or code == 0:  # a word break, typed or inferred by pdfium from the gap
                if chars:
                    chars[-1] = (*chars[-1][:5], True)
                continue
            text = "-"
        if not loose_box(raw, index, rect):
            continue
        height = rect.top - rect.bottom
        if abs(height - box_height) > 1e-4:  # another font or size (the box spans the font's ascent to descent)
            pdfium_c.FPDFText_GetMatrix(raw, index, matrix)
            size = pdfium_c.FPDFText_GetFontSize(raw, index) * math.hypot(matrix.c, matrix.d)
            box_height = height
        if upright:  # most pages: no /Rotate (the box's left edge is the glyph's origin)
            bottom = y1 - rect.bottom
            chars.append((text, rect.left - x0, rect.right - x0, bottom - size, bottom, False))
        else:
            left, right, bottom = shown_box(space, rect)
            chars.append((text, left, right, bottom - size, bottom, False))
    return chars


def cluster(values: list[float], tolerance: float) -> dict[float, int]:
    """pdfplumber's `cluster_list`: sorted distinct values, a new group after a gap > `tolerance`."""
    ids: dict[float, int] = {}
    group, last = -1, None
    for value in sorted(set(values)):
        if last is None or value > last + tolerance:
            group += 1
        ids[value] = group
        last = value
    return ids


def cluster_by_top(items: list, top: int) -> list[list]:
    """Objects grouped into lines by `item[top]` (stable within a line, lines top to bottom)."""
    ids = cluster([item[top] for item in items], TOLERANCE)
    ordered = sorted(items, key=lambda item: ids[item[top]])
    return [list(group) for _, group in itertools.groupby(ordered, key=lambda item: ids[item[top]])]


def words_of_line(chars: list[Char]) -> Iterator[list[Char]]:
    """pdfplumber's `iter_chars_to_words` for left-to-right text."""
    current: list[Char] = []
    for char in chars:
        if current and (current[-1][5] or char[1] < current[-1][1] or char[1] > current[-1][2] + TOLERANCE
                        or abs(char[3] - current[-1][3]) > TOLERANCE):
            yield current
            current = [char]
        else:
            current.append(char)
    if current:
        yield current


def layout(chars: list[Char]) -> tuple[str, list[Word]]:
    """Text and words as pdfplumber's `extract_text()` / `extract_words()` give them: lines top to
    bottom (clustered by top), words left to right."""
    words: list[Word] = []
    lines: list[str] = []
    for line in cluster_by_top(chars, 3):
        texts = []
        for group in words_of_line(sorted(line, key=lambda c: c[1])):
            text = "".join([LIGATURES.get(c[0], c[0]) for c in group])
            texts.append(text)
            if len(group) == 1:
                words.append(Word(text, group[0][1], group[0][2], group[0][3], group[0][4]))
                continue
            _, x0s, x1s, tops, bottoms, _ = zip(*group)
            words.append(Word(text, min(x0s), max(x1s), min(tops), max(bottoms)))
        lines.append(" ".join(texts))
    return "\n".join(lines), words


def read_text_layer(page: pdfium.PdfPage) -> tuple[str, list[Word]]:
    """(text, words) of one page's text layer."""
    textpage = page.get_textpage()
    try:
        return layout(page_chars(textpage, display_space(page)))
    finally:
        textpage.close()


def image_share(page: pdfium.PdfPage) -> float:
    """The largest share of the page covered by one image (inside form XObjects too)."""
    area = float(page.get_width() * page.get_height()) or 1.0
    left, bottom, right, top = (ctypes.c_float() for _ in range(4))
    best = 0.0

    def walk(count: int, get: Callable[[int], Any], depth: int) -> None:
        nonlocal best
        for index in range(count):
            item = get(index)
            kind = pdfium_c.FPDFPageObj_GetType(item)
            if kind == pdfium_c.FPDF_PAGEOBJ_IMAGE and pdfium_c.FPDFPageObj_GetBounds(item, left, bottom, right, top):
                best = max(best, (right.value - left.value) * (top.value - bottom.value) / area)
            elif kind == pdfium_c.FPDF_PAGEOBJ_FORM and depth < 15:
                walk(pdfium_c.FPDFFormObj_CountObjects(item), lambda i, form=item: pdfium_c.FPDFFormObj_GetObject(form, i), depth + 1)

    walk(pdfium_c.FPDFPage_CountObjects(page.raw), lambda i: pdfium_c.FPDFPage_GetObject(page.raw, i), 0)
    return best


def has_widgets(page: pdfium.PdfPage) -> bool:
    """Whether the page carries form widgets (filled fields, signatures)."""
    for number in range(pdfium_c.FPDFPage_GetAnnotCount(page.raw)):
        annot = pdfium_c.FPDFPage_GetAnnot(page.raw, number)
        subtype = pdfium_c.FPDFAnnot_GetSubtype(annot)
        pdfium_c.FPDFPage_CloseAnnot(annot)
        if subtype == pdfium_c.FPDF_ANNOT_WIDGET:
            return True
    return False
