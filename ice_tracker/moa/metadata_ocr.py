"""OCR only the scanned pages an agreement's metadata needs: its first pages and its signature page.

The model and the agency are on the first page (the parties clause may run onto the second); the
signing dates and signatories are in the signature block, "By signing this MOA ..." near the end
of the agreement's body, before its appendices. Reading a whole 14-page scan to find them costs
~15 page readings; this reads the top of the first page (more of it, then all of it, while
the parties clause runs on), the signature page (and the next, when the block runs over) and,
only when the first page does not hold the whole parties clause, the second, at full
resolution, and finds the signature page with a coarse reading of the left margin's column of
the other pages (`LOCATE_DPI`, `LOCATE_LEFT_SHARE`; about a fifth of the work of a full
reading), from the pages where the block usually is outwards; of the signature page only the
part from the block's opening line down is read in full. Every reading is cached (ocr_cache),
so the full-text pass reuses the whole pages it reads (the parts read here are read again whole
there).
"""

from __future__ import annotations

import logging
from pathlib import Path

from ice_tracker.moa.fields import model_from_text, patterns, rx, signature_page, squeeze
from ice_tracker.moa.ocr import Ocr
from ice_tracker.moa.pdftext import PdfContent, ocr_page_words, ocr_pages
from ice_tracker.moa.words import ocr_page_text

log = logging.getLogger(__name__)

LOCATE_DPI = 100  # enough for Tesseract to read 10-pt body text, e.g. "By signing this MOA"
TITLE_PAGES = 1  # title and parties clause: always read
# The title and the parties clause open the first page: its top is read first, then more of it,
# then all of it, until the parts read hold the model and the whole clause (`parties_read`).
# Tesseract's time grows with the words it reads, so the shares only set the cost, never the
# fields: on the 4 fixture scans the clause ends within the top quarter (46-80 words, against
# 214-230 in the upper half read before; Tesseract ~0.4 s against ~1.0 s a scan).
TITLE_SHARES = (0.3, 0.5)
FIRST_PAGES = 2  # the parties clause may run onto the second page: read when the first leaves it unfinished
# "By signing this MOA" opens a paragraph at the left margin: it ends at 0.29-0.30 of the page's
# width on the 4 fixture scans, so the left 36 % holds it (about a third less reading than the
# left half; a page whose anchor runs further is found by the whole-page pass that follows).
LOCATE_LEFT_SHARE = 0.36
# Where the signature block usually is: the end of the body, about two thirds into the file
# (the appendices follow). Only the search order depends on it; every page is tried if needed.
TYPICAL_SHARE = 0.65
# Points above the anchor's line (as the coarse reading places it) where the full reading of the
# signature page starts: the page's upper part, body text, is left to the full pass.
ANCHOR_MARGIN = 24.0


def deferred(content: PdfContent) -> list[int]:
    return [i for i, page in enumerate(content.pages) if page.source == "deferred"]


def search_order(candidates: list[int], pages: int) -> list[int]:
    """Page indexes from where the signature block usually is, outwards (later page first on a tie)."""
    typical = TYPICAL_SHARE * (pages - 1)
    return sorted(candidates, key=lambda i: (abs(i - typical), -i))


def locate_signature(path: Path, content: PdfContent, ocr: Ocr, candidates: list[int]) -> tuple[int, float] | None:
    """(index, top in points of the anchor's line) of the deferred page holding the signature
    anchor, read coarsely, a core's worth of pages at a time; None when no page shows it. The
    left part of each page is read first (the anchor opens a paragraph at the margin; about a
    third of the work of the whole page), then, when no page showed it there, the whole pages. The top is
    0 when the coarse words do not place "signing"."""
    anchor = rx(patterns()["signature"]["anchor"])
    order = search_order(candidates, len(content.pages))
    for share in (LOCATE_LEFT_SHARE, None):
        for start in range(0, len(order), ocr.threads):
            batch = order[start : start + ocr.threads]
            box = None
            if share is not None:
                pages = [content.pages[i] for i in batch]
                box = (0.0, 0.0, share * max(p.width for p in pages), max(p.height for p in pages))
            read = ocr_page_words(path, content.sha256, [i + 1 for i in batch], ocr, LOCATE_DPI,
                                  bool(content.form_fields), content.seconds, box)
            for index in batch:
                words = read.get(index + 1)
                if words and anchor.search(squeeze(ocr_page_text(words))):
                    return index, next((w.top for w in words if w.text.lower() == "signing"), 0.0)
    return None


def parties_read(content: PdfContent) -> bool:
    """Whether the pages read so far hold the model and the whole parties clause (its patterns
    need the clause's end, so a clause cut off at the page's foot does not match; a clause whose
    name OCR garbled does, and the second page would not mend it)."""
    opening = squeeze(" ".join(page.text for page in content.pages[:FIRST_PAGES]))
    clauses = [rule for rule in patterns()["lea_name"]["parties"] if rule["name"] != "appendix_clause"]
    return bool(model_from_text(content.text)) and any(rx(rule["pattern"]).search(opening) for rule in clauses)


def read_title(path: Path, content: PdfContent, indexes: list[int], ocr: Ocr) -> None:
    """OCR the title pages' top part (`TITLE_SHARES`, smallest first), which holds the title and
    the parties clause, until a part holds them (`parties_read`); else the whole pages."""
    if not indexes:
        return
    page = content.pages[indexes[0]]
    for share in TITLE_SHARES:
        ocr_pages(path, content, indexes, ocr, (0.0, 0.0, page.width, share * page.height))
        if parties_read(content):
            return
    ocr_pages(path, content, indexes, ocr)


def ocr_for_metadata(path: Path, content: PdfContent, ocr: Ocr) -> None:
    """OCR (in place) the deferred pages the metadata fields need; the rest stay deferred."""
    waiting = deferred(content)
    if not waiting:
        return
    read_title(path, content, [i for i in waiting if i < TITLE_PAGES], ocr)
    if signature_page(content) is None:
        rest = deferred(content)
        found = locate_signature(path, content, ocr, rest) if rest else None
        if found is None:  # not seen in the coarse reading: read every page in full, in order, until it is
            for index in rest:
                ocr_pages(path, content, [index], ocr)
                if signature_page(content) is not None:
                    break
        else:  # the anchor's line and everything below it: the block (the full pass reads the rest)
            index, anchor_top = found
            top = max(0.0, anchor_top - ANCHOR_MARGIN)
            ocr_pages(path, content, [index], ocr, None if top == 0.0 else (0.0, top, content.pages[index].width,
                                                                             content.pages[index].height))
            if top and signature_page(content) is None:  # the part missed the line after all: the whole page
                ocr_pages(path, content, [index], ocr)
    block = signature_page(content)  # the block may run onto the next page, which may be a scan (deferred)
    if block is not None and content.pages[block.number - 1].source == "deferred":
        ocr_pages(path, content, [block.number - 1], ocr)
    opening = [i for i in deferred(content) if i < FIRST_PAGES]
    if opening and not parties_read(content):
        ocr_pages(path, content, opening, ocr)
    log.debug("%s: %d of %d pages OCRed for the metadata", path.name,
              sum(1 for p in content.pages if p.source == "ocr"), len(content.pages))

