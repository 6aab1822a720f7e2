"""Tesseract in process (libtesseract) gives the program's words; a chosen binary is still run as a program."""

from __future__ import annotations

import os
import shutil
import stat
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from PIL import Image, ImageDraw

from ice_tracker.moa import tess_api
from ice_tracker.moa.ocr import Ocr, OcrError, find_tesseract
from tests.conftest import shared_fixture_path


def in_process_ocr() -> Ocr:
    ocr = find_tesseract()
    if ocr is None:
        pytest.skip("tesseract-ocr not installed (CI installs it)")
    if not ocr.in_process:
        pytest.skip(f"{tess_api.LIBRARY} missing or not tesseract {ocr.version}'s own: the program is used")
    return ocr


def scan_pages() -> list[tuple[Image.Image, float]]:
    """Images as the reader makes them from the Etowah scan: a whole page at 200 dpi, the left
    half of another at 100 dpi (locating the signature block), a bottom strip in RGB."""
    folder = shared_fixture_path("ice287g", "agreements")
    path = next(p for p in sorted(folder.rglob("*.pdf")) if "etowah" in p.name.lower())
    document = pdfium.PdfDocument(path)
    try:
        whole = document[0].render(scale=200 / 72).to_pil().convert("L")
        coarse = document[9].render(scale=100 / 72).to_pil().convert("L")
        last = document[10].render(scale=200 / 72).to_pil().convert("RGB")
    finally:
        document.close()
    return [
        (whole, 200 / 72),
        (coarse.crop((0, 0, coarse.width // 2, coarse.height)), 100 / 72),
        (last.crop((0, last.height * 3 // 4, last.width, last.height)), 200 / 72),
    ]


def test_in_process_words_equal_the_programs_on_real_scan_pages() -> None:
    ocr = in_process_ocr()
    program = replace(ocr, in_process=False)
    pages = scan_pages()
    with ThreadPoolExecutor(max_workers=2) as pool:  # two pages at once, as pdftext.ocr_page_words reads them
        in_process = list(pool.map(lambda page: ocr.words(page[0], page[1], 3.0, 5.0), pages))
    for (image, scale), words in zip(pages, in_process, strict=True):
        assert words == program.words(image, scale, 3.0, 5.0)
    assert len(in_process[0]) > 200 and any(w.text == "MEMORANDUM" for w in in_process[0])


def text_image(text: str) -> Image.Image:
    """Black text on white, large enough for Tesseract (PIL's built-in font, scaled up)."""
    image = Image.new("L", (300, 40), 255)
    ImageDraw.Draw(image).text((10, 12), text, fill=0)
    return image.resize((1500, 200))


def script(folder: Path, name: str, body: str) -> Path:
    path = folder / name
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def test_a_chosen_tesseract_binary_is_run_as_a_program(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = shutil.which("tesseract")
    if real is None:
        pytest.skip("tesseract-ocr not installed (CI installs it)")
    calls = tmp_path / "calls"
    wrapper = script(tmp_path, "my-tesseract", f'echo "$@" >> {calls}\nexec {real} "$@"\n')
    monkeypatch.setenv("ICE_TRACKER_TESSERACT", str(wrapper))
    ocr = find_tesseract()
    assert ocr is not None and ocr.command == str(wrapper) and ocr.in_process is False
    words = ocr.words(text_image("Chosen binary reads this"), 1.0)
    assert [w.text for w in words] == ["Chosen", "binary", "reads", "this"]
    assert calls.read_text().count("tsv") == 1  # this page went through the chosen binary


def test_a_broken_chosen_binary_still_raises_ocr_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = shutil.which("tesseract")
    if real is None:
        pytest.skip("tesseract-ocr not installed (CI installs it)")
    broken = script(tmp_path, "tesseract", f'[ "$1" = "--version" ] && exec {real} --version\necho crashed >&2\nexit 3\n')
    monkeypatch.setenv("ICE_TRACKER_TESSERACT", str(broken))  # same version as the library, but not the system's
    ocr = find_tesseract()
    assert ocr is not None and ocr.command == str(broken) and ocr.in_process is False
    with pytest.raises(OcrError):
        ocr.words(Image.new("L", (200, 50), 255), 1.0)


def test_another_version_on_the_path_is_run_as_a_program(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = shutil.which("tesseract")
    if real is None or tess_api.library_version() is None:
        pytest.skip(f"tesseract-ocr or {tess_api.LIBRARY} not installed (CI installs them)")
    script(tmp_path, "tesseract", f'[ "$1" = "--version" ] && echo "tesseract 9.9.9" && exit 0\nexec {real} "$@"\n')
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    ocr = find_tesseract()
    assert ocr is not None and ocr.version == "9.9.9" and ocr.in_process is False


def test_in_process_timeout_raises_ocr_error_and_the_handle_reads_on() -> None:
    ocr = in_process_ocr()
    whole, scale = scan_pages()[0]
    with pytest.raises(OcrError, match="took more than"):
        replace(ocr, timeout=0.001).words(whole, scale)
    strip, scale = scan_pages()[2]
    assert ocr.words(strip, scale) == replace(ocr, in_process=False).words(strip, scale)


def test_an_empty_image_raises_ocr_error_either_way() -> None:
    ocr = find_tesseract()
    if ocr is None:
        pytest.skip("tesseract-ocr not installed (CI installs it)")
    for reader in (ocr, replace(ocr, in_process=False)):
        with pytest.raises(OcrError, match="empty image"):
            reader.words(Image.new("L", (0, 40), 255), 1.0)
