"""PDF → page text: text layer, OCR of image-only pages, missing Tesseract, and broken files."""

from __future__ import annotations

from pathlib import Path

import pytest

from ice_tracker.moa.ocr import find_tesseract
from ice_tracker.moa.pdftext import PdfReadError, read_pdf
from ice_tracker.moa.words import decode_cids
from tests.moa_pdfs import MOA_2025_TFM, scanned_pdf, text_pdf

SCAN_LINES = ["MEMORANDUM OF AGREEMENT", "287(g) Jail Enforcement Model", "and Testville Police Department"]


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_text_layer_pages_are_read_without_ocr(tmp_path: Path) -> None:
    content = read_pdf(write(tmp_path, "moa.pdf", text_pdf(MOA_2025_TFM)), ocr=None)
    assert [p.source for p in content.pages] == ["text", "text"]
    assert content.text_layer is True and content.ocr_status == "not_needed"
    assert "287(g) Task Force Model" in content.pages[0].text
    assert content.text.startswith("[page 1]\n") and "\f[page 2]\n" in content.text
    assert any(w.text == "Date:" for w in content.pages[1].words)


@pytest.mark.parametrize(
    ("name", "data", "kind"),
    [
        ("blocked.pdf", b"<!DOCTYPE html>\n<html><body>Request blocked</body></html>", "not_pdf"),
        ("empty.pdf", b"", "not_pdf"),
        ("locked.pdf", text_pdf(MOA_2025_TFM, encrypt=True), "encrypted"),
        ("cut.pdf", text_pdf(MOA_2025_TFM)[:400], "corrupt"),
        ("junk.pdf", b"%PDF-1.4\n" + b"\x00garbage" * 50, "corrupt"),
    ],
)
def test_unreadable_files_raise_a_classified_error(tmp_path: Path, name: str, data: bytes, kind: str) -> None:
    path = write(tmp_path, name, data)
    with pytest.raises(PdfReadError) as info:
        read_pdf(path, ocr=None)
    assert info.value.kind == kind
    assert path.read_bytes() == data  # never modified


def test_missing_tesseract_leaves_scans_unread(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ICE_TRACKER_TESSERACT", str(tmp_path / "no-such-tesseract"))
    assert find_tesseract() is None
    content = read_pdf(write(tmp_path, "scan.pdf", scanned_pdf(SCAN_LINES)), find_tesseract())
    assert content.pages[0].source == "none"
    assert content.ocr_status == "unavailable" and content.text_layer is False
    assert "MEMORANDUM" not in content.text


def test_image_only_page_is_ocred(tmp_path: Path) -> None:
    ocr = find_tesseract()
    if ocr is None:
        pytest.skip("tesseract-ocr not installed (CI installs it)")
    content = read_pdf(write(tmp_path, "scan.pdf", scanned_pdf(SCAN_LINES)), ocr)
    assert content.ocr_status == "used" and content.pages[0].source == "ocr"
    text = content.pages[0].text
    assert "MEMORANDUM OF AGREEMENT" in text and "Testville Police Department" in text
    assert all(0 <= w.x0 < 612 and 0 <= w.top < 792 for w in content.pages[0].words)  # in PDF points


def test_cid_glyph_codes_decode_to_text() -> None:
    assert decode_cids("(cid:39)(cid:68)(cid:87)(cid:72)(cid:29)(cid:3)x") == "Date: x"
    assert decode_cids("a(cid:500)b") == "a b"
