"""Page count and page size of a PDF, checked before anything is rendered or OCRed.

An agreement is a few dozen letter-size pages. A file far outside that (10,000 pages, a page of
10,000 × 10,000 points) would hold the run for an hour or render a multi-gigabyte image; it is
refused up front with the limit it broke (`ice_tracker/limits.py`), and recorded for a person.
"""

from __future__ import annotations

from pathlib import Path

import pypdfium2 as pdfium



class PdfTooLarge(Exception):
    """The PDF breaks one of the MOA limits; the message names the limit and the value."""


def check_pdf_size(path: Path, limits: dict[str, float]) -> None:
    """Raise `PdfTooLarge` when `path` has too many pages or a page too large to render
    (`limits`: moa_pdf_pages and moa_page_points from `ice_tracker.limits`).

    A file pdfium cannot open passes here: the text reader then reports it as corrupt/encrypted.
    """
    try:
        document = pdfium.PdfDocument(path)
    except pdfium.PdfiumError:
        return
    try:
        pages = len(document)
        most = limits["moa_pdf_pages"]
        if pages > most:
            raise PdfTooLarge(f"{pages} pages (limit moa_pdf_pages = {most:g})")
        side = limits["moa_page_points"]
        for index in range(pages):
            width, height = document.get_page_size(index)
            if max(width, height) > side:
                raise PdfTooLarge(
                    f"page {index + 1} is {width:.0f} x {height:.0f} pt (limit moa_page_points = {side:g})"
                )
    finally:
        document.close()
