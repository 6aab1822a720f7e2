"""Positioned words → text lines, for a whole page or one column of it.

Text-layer pages (pdfium, laid out as pdfplumber would) and OCR pages (Tesseract) both become lists of `Word`s in PDF
points, so the signature block, whose two columns (LEA, ICE) are side by side, is read the same
way from either source.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

# Fonts without a ToUnicode map come out as "(cid:N)". In the MOA templates these are TrueType
# subsets in the standard Macintosh glyph order, where glyph N is the character N + 29
# ((cid:39)(cid:68)(cid:87)(cid:72)(cid:29) = "Date:"). Verified on the 2025 WSO signature pages.
CID = re.compile(r"\(cid:(\d+)\)")
CID_OFFSET = 29


def decode_cids(text: str) -> str:
    """Replace "(cid:N)" glyph codes by their characters; unknown codes become a space."""

    def one(match: re.Match[str]) -> str:
        code = int(match.group(1)) + CID_OFFSET
        return chr(code) if 32 <= code < 127 else " "

    return CID.sub(one, text)


@dataclass(frozen=True)
class Word:
    text: str
    x0: float
    x1: float
    top: float
    bottom: float
    line: tuple[int, ...] | None = None  # OCR's own line id, when the source gives one

    @property
    def centre(self) -> float:
        return (self.x0 + self.x1) / 2


def lines_from_words(words: Iterable[Word], tolerance: float = 4.0) -> list[str]:
    """Group words into reading-order lines by vertical position (top within `tolerance` pt)."""
    ordered = sorted(words, key=lambda w: (w.top, w.x0))
    lines: list[list[Word]] = []
    for word in ordered:
        if lines and abs(word.top - lines[-1][0].top) <= tolerance:
            lines[-1].append(word)
        else:
            lines.append([word])
    return [" ".join(w.text for w in sorted(line, key=lambda w: w.x0)) for line in lines]


def ocr_page_text(words: list[Word]) -> str:
    """Text of an OCR page, lines as Tesseract grouped them, in reading order."""
    groups: dict[tuple[int, ...], list[Word]] = {}
    for word in words:
        groups.setdefault(word.line or (0,), []).append(word)
    ordered = sorted(groups.values(), key=lambda ws: (min(w.top for w in ws), min(w.x0 for w in ws)))
    return "\n".join(" ".join(w.text for w in sorted(ws, key=lambda w: w.x0)) for ws in ordered)
