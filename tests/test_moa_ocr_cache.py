"""Scans: the metadata pass OCRs only the pages the fields need, and no page is OCRed twice."""

from __future__ import annotations

import io
import os
from dataclasses import replace
from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageFont

from ice_tracker.moa.metadata_ocr import search_order
from ice_tracker.moa.ocr import find_tesseract
from ice_tracker.moa.handwriting import Reading
from ice_tracker.moa.ocr_cache import load_readings, load_words, save_readings, save_words
from ice_tracker.moa.pdftext import ocr_page_words
from ice_tracker.moa.table import STATS, ArchivedPdf, process
from ice_tracker.moa.words import Word
from tests.conftest import shared_fixture_path

DPI = 100
FILLER = ["The LEA will provide office space for participating officers.", "ICE will supervise the work."]
PAGES = [
    ["MEMORANDUM OF AGREEMENT", "287(g) Task Force Model",
     "This Memorandum of Agreement (MOA) constitutes an agreement between United States",
     "Immigration and Customs Enforcement (ICE), a component of the Department of Homeland",
     "Security (DHS), and the Example County Sheriff's Office (ECSO), pursuant to which ICE"],
    FILLER, FILLER, FILLER, FILLER,
    ["By signing this MOA, each party represents it is fully authorized to enter into this MOA.",
     "For the LEA:|For ICE:", "Date: March 4, 2025|Date: 03/11/2025", "Name: Jane Q. Doe|Name: John Roe"],
    ["APPENDIX A", *FILLER], ["APPENDIX B", *FILLER],
]  # fmt: skip


def scanned_moa(pages: list[list[str]] = PAGES) -> bytes:
    """An 8-page image-only MOA: parties on page 1, the signature block on page 6."""
    images = []
    for lines in pages:
        image = Image.new("L", (int(8.5 * DPI), 11 * DPI), 255)
        draw = ImageDraw.Draw(image)
        font = ImageFont.load_default(size=18)
        for i, text in enumerate(lines):
            for x, column in zip((60, 480), text.split("|")):  # "left|right": the two signature columns
                draw.text((x, 80 + i * 30), column, fill=0, font=font)
        images.append(image)
    buffer = io.BytesIO()
    images[0].save(buffer, format="PDF", resolution=DPI, save_all=True, append_images=images[1:])
    return buffer.getvalue()


def test_cached_words_come_back_exactly_and_only_for_the_same_engine(tmp_path: Path) -> None:
    words = [Word("Date:", 10.5, 40.25, 700.125, 712.0, (1, 1, 2)), Word("x", 1 / 3, 2.0, 3.0, 4.0)]
    save_words(tmp_path, "ab" * 32, 3, 200, "tesseract 5 eng psm3", words)
    assert load_words(tmp_path, "ab" * 32, 3, 200, "tesseract 5 eng psm3") == words
    assert load_words(tmp_path, "ab" * 32, 3, 200, "tesseract 6 eng psm3") is None  # another engine reads again
    assert load_words(tmp_path, "ab" * 32, 3, 100, "tesseract 5 eng psm3") is None
    (tmp_path / "ab" / f"{'ab' * 32}_p3_200dpi.json").write_text("{cut sho", encoding="utf-8")
    assert load_words(tmp_path, "ab" * 32, 3, 200, "tesseract 5 eng psm3") is None  # damaged: read again


def test_handwriting_readings_are_kept_for_the_same_question_only(tmp_path: Path) -> None:
    readings = {"lea": Reading("2020-04-30", "04-30-2020", -12.25, 3.2, True)}
    key = [7, {"dpi": 200}, True, ["2019-06-01", "2020-06-09", "None"], ["lea"], "reader 1", [("Date:", 1.0, 2.0, 3.0, 4.0)]]
    save_readings(tmp_path, "d" * 64, key, readings)
    assert load_readings(tmp_path, "d" * 64, key) == readings
    assert load_readings(tmp_path, "d" * 64, [*key[:-1], [("Date:", 1.0, 2.0, 3.5, 4.0)]]) is None  # another label
    assert load_readings(None, "d" * 64, key) is None


def test_signature_search_starts_two_thirds_in() -> None:
    assert search_order([2, 3, 4, 5, 6, 7], 8)[:2] == [5, 4]
    assert sorted(search_order([2, 9, 4], 11)) == [2, 4, 9]  # every page is still tried


def test_metadata_pass_reads_few_pages_and_the_full_pass_reuses_them(tmp_path: Path) -> None:
    ocr = find_tesseract()
    if ocr is None:
        pytest.skip("tesseract-ocr not installed (CI installs it)")
    ocr = replace(ocr, cache_dir=tmp_path / "cache")
    pdf = tmp_path / "agreements" / "run" / "TX" / "Example" / "scan.pdf"
    pdf.parent.mkdir(parents=True)
    pdf.write_bytes(scanned_moa())
    item = ArchivedPdf("c" * 64, ["agreements/run/TX/Example/scan.pdf"])

    def read(phase: str) -> tuple[dict, dict]:
        stats = dict.fromkeys(STATS, 0.0)
        return process(tmp_path, tmp_path / "out", item, ocr, None, stats, phase=phase), stats

    row, stats = read("metadata")
    assert row["ocr"] == "pending" and row["ocr_pages"] == 2  # page 1 (the whole parties clause) and the signature block
    # parts only: page 1's top (it holds the clause) and the block
    assert stats["tesseract_pages"] == 0 and stats["tesseract_strip_pages"] == 2 and 1 <= stats["tesseract_coarse_pages"] <= 2
    assert row["lea_name"] == "Example County Sheriff's Office"
    assert (row["lea_signed"], row["ice_signed"]) == ("2025-03-04", "2025-03-11")
    row, stats = read("full")
    assert row["ocr"] == "used" and row["ocr_pages"] == 8
    # pages 1 and 6 were read in part (upper half, block down), so every page is read whole now, once
    assert stats["tesseract_pages"] == 8 and stats["tesseract_coarse_pages"] == 0
    text = (tmp_path / "out" / "data" / "moa_text" / f"{'c' * 64}.txt").read_text(encoding="utf-8")
    again, stats = read("full")
    assert stats["tesseract_pages"] == 0 and again == row  # a later run: everything from the cache
    assert (tmp_path / "out" / "data" / "moa_text" / f"{'c' * 64}.txt").read_text(encoding="utf-8") == text


def test_part_of_a_page_is_read_in_place_and_cached_apart_from_the_page(tmp_path: Path) -> None:
    ocr = find_tesseract()
    if ocr is None:
        pytest.skip("tesseract-ocr not installed (CI installs it)")
    ocr = replace(ocr, cache_dir=tmp_path / "cache")
    pdf = tmp_path / "scan.pdf"
    pdf.write_bytes(scanned_moa())
    sha, page, strip = "e" * 64, 6, (0.0, 40.0, 612.0, 116.0)  # page 6: the anchor line and the "For the LEA" / "Date" lines
    tally: dict[str, float] = {}
    words = ocr_page_words(pdf, sha, [page], ocr, tally=tally, box=strip)[page]
    assert words and tally == {"tesseract_strip_pages": 1}
    assert load_words(ocr.cache_dir, sha, page, ocr.dpi, ocr.engine) is None  # the page itself is not poisoned
    assert load_words(ocr.cache_dir, sha, page, ocr.dpi, ocr.engine, strip) == words
    whole = ocr_page_words(pdf, sha, [page], ocr)[page]
    assert whole is not None and len(whole) > len(words)
    inside = [w for w in whole if strip[1] <= w.top and w.bottom <= strip[3]]
    assert [w.text for w in words] == [w.text for w in inside]  # the same words, placed on the page
    assert all(abs(a.top - b.top) < 1 and abs(a.x0 - b.x0) < 1 for a, b in zip(words, inside, strict=True))


def test_the_signature_block_of_a_scan_with_a_text_layer_is_re_read_as_a_strip(tmp_path: Path) -> None:
    ocr = find_tesseract()
    if ocr is None:
        pytest.skip("tesseract-ocr not installed (CI installs it)")
    ocr = replace(ocr, cache_dir=tmp_path / "cache")
    source = next(shared_fixture_path("ice287g", "agreements").rglob("287g_JEM_Knox_6-8-2020.pdf"))
    pdf = tmp_path / "agreements" / "run" / "TN" / "Knox" / source.name
    pdf.parent.mkdir(parents=True)
    pdf.symlink_to(source)
    stats = dict.fromkeys(STATS, 0.0)
    row = process(tmp_path, tmp_path / "out", ArchivedPdf("f" * 64, [pdf.relative_to(tmp_path).as_posix()]), ocr, None,
                  stats, phase="metadata")
    assert row["text_layer"] == "true" and stats["tesseract_strip_pages"] == 1 and stats["tesseract_pages"] == 0
    cached = sorted(p.name for p in (tmp_path / "cache").rglob("*.json"))
    assert len(cached) == 1 and "dpi_x" in cached[0]  # a strip of the signature page, not the page
    assert (row["model"], row["ice_signed"]) == ("JEM", "2020-06-08")
    text = (tmp_path / "out" / "data" / "moa_text" / f"{'f' * 64}.txt").read_text(encoding="utf-8")
    assert "By signing this MOA" in text  # the page's text: its own layer above the strip, then the strip read


def test_workers_share_the_cores_for_tesseract(tmp_path: Path) -> None:
    from ice_tracker.moa.pool import Settings, available_cores, ocr_threads_per_worker
    from ice_tracker.moa.table import worker_tools

    assert ocr_threads_per_worker(1) == available_cores()
    assert ocr_threads_per_worker(available_cores()) == 1 and ocr_threads_per_worker(available_cores() * 4) == 1
    if find_tesseract() is None:
        pytest.skip("tesseract-ocr not installed (CI installs it)")
    settings = Settings(tmp_path, tmp_path, None, None, False, {}, tmp_path / "cache", ocr_threads=1)
    ocr, _ = worker_tools(settings)
    assert ocr is not None and ocr.threads == 1 and ocr.cache_dir == tmp_path / "cache"
    assert "OMP_THREAD_LIMIT" in os.environ  # set (to 1 unless given) on import: Tesseract single-threaded


def metadata_of_scan(tmp_path: Path, pages: list[list[str]]) -> tuple[dict, dict]:
    """The metadata pass over a scan drawn from `pages`: its row and its Tesseract tallies."""
    ocr = find_tesseract()
    if ocr is None:
        pytest.skip("tesseract-ocr not installed (CI installs it)")
    pdf = tmp_path / "agreements" / "run" / "TX" / "Example" / "scan.pdf"
    pdf.parent.mkdir(parents=True)
    pdf.write_bytes(scanned_moa(pages))
    stats = dict.fromkeys(STATS, 0.0)
    row = process(tmp_path, tmp_path / "out", ArchivedPdf("e" * 64, ["agreements/run/TX/Example/scan.pdf"]),
                  replace(ocr, cache_dir=tmp_path / "cache"), None, stats, phase="metadata")  # fmt: skip
    return row, stats


def test_a_parties_clause_cut_at_the_page_foot_reads_the_second_page(tmp_path: Path) -> None:
    """The clause runs onto page 2: page 1 alone gives no agency, so the metadata pass reads page 2."""
    pages = [PAGES[0][:4] + ["Security (DHS), and the Example County"], ["Sheriff's Office (ECSO), pursuant to which ICE", *FILLER],
             *PAGES[2:]]  # fmt: skip
    row, stats = metadata_of_scan(tmp_path, pages)
    assert row["ocr_pages"] == 3 and stats["tesseract_pages"] == 2  # pages 1-2 (and the signature block)
    assert (row["lea_name"], row["lea_name_source"]) == ("Example County Sheriff's Office", "parties_clause")
    assert (row["lea_signed"], row["ice_signed"]) == ("2025-03-04", "2025-03-11")


def test_a_parties_clause_below_the_top_of_the_first_page_reads_its_upper_half(tmp_path: Path) -> None:
    """The top of page 1 (read first) misses a clause printed a third of the way down: its upper
    half is read next, and the page is not read whole."""
    pages = [[*PAGES[0][:2], *[""] * 6, *PAGES[0][2:]], *PAGES[1:]]  # the clause: 0.29 to 0.36 of the page
    row, stats = metadata_of_scan(tmp_path, pages)
    assert stats["tesseract_pages"] == 0 and stats["tesseract_strip_pages"] == 3  # page 1: top, upper half; the block
    assert (row["model"], row["lea_name"], row["lea_name_source"]) == ("TFM", "Example County Sheriff's Office", "parties_clause")
    assert (row["lea_signed"], row["ice_signed"]) == ("2025-03-04", "2025-03-11")


def test_a_parties_clause_low_on_the_first_page_reads_the_whole_page(tmp_path: Path) -> None:
    """The top and the upper half of page 1 (read first) miss a clause printed below them: page 1
    is read whole."""
    pages = [[*PAGES[0][:2], *[""] * 18, *PAGES[0][2:]], *PAGES[1:]]  # the clause starts 2/3 down the page
    row, stats = metadata_of_scan(tmp_path, pages)
    assert stats["tesseract_pages"] == 1 and stats["tesseract_strip_pages"] == 3  # page 1: top, upper half, whole
    assert (row["model"], row["lea_name"], row["lea_name_source"]) == ("TFM", "Example County Sheriff's Office", "parties_clause")
    assert (row["lea_signed"], row["ice_signed"]) == ("2025-03-04", "2025-03-11")


def test_the_metadata_pass_reads_the_signature_page_from_the_block_down(tmp_path: Path) -> None:
    """Body text above "By signing this MOA" is left to the full pass; the block's fields are read."""
    ocr = find_tesseract()
    if ocr is None:
        pytest.skip("tesseract-ocr not installed (CI installs it)")
    ocr = replace(ocr, cache_dir=tmp_path / "cache")
    body = ["Article XX. MODIFICATIONS TO THIS MOA", "Modifications must be proposed in writing.", "", "", "", ""]
    pages = [*PAGES[:5], body + PAGES[5], *PAGES[6:]]
    pdf = tmp_path / "agreements" / "run" / "TX" / "Example" / "scan.pdf"
    pdf.parent.mkdir(parents=True)
    pdf.write_bytes(scanned_moa(pages))
    item = ArchivedPdf("f" * 64, ["agreements/run/TX/Example/scan.pdf"])
    text_file = tmp_path / "out" / "data" / "moa_text" / f"{'f' * 64}.txt"
    row = process(tmp_path, tmp_path / "out", item, ocr, None, dict.fromkeys(STATS, 0.0), phase="metadata")
    assert (row["lea_signed"], row["ice_signed"]) == ("2025-03-04", "2025-03-11")
    assert "Jane Q. Doe" in row["lea_signatory"]
    metadata_text = text_file.read_text(encoding="utf-8")
    assert "By signing" in metadata_text and "MODIFICATIONS" not in metadata_text
    process(tmp_path, tmp_path / "out", item, ocr, None, dict.fromkeys(STATS, 0.0), phase="full")
    assert "MODIFICATIONS" in text_file.read_text(encoding="utf-8")


@pytest.mark.parametrize("box", [(0.0, 0.0, 612.0, 396.0), (0.0, 0.0, 0.36 * 612, 792.0), (0.0, 437.3, 612.0, 792.0),
                                 (100.2, 50.7, 500.9, 700.1)])
def test_a_part_of_a_page_is_drawn_alone_in_its_place_on_the_whole_page(tmp_path: Path, box: tuple) -> None:
    """Drawing only the part OCR reads (a scan's upper half, the left strip, the signature block) gives
    the part of the whole page's drawing at the same place on the page: the same pixels but for a few
    where pdfium resamples the clipped scan image a little differently (at most 1 in 10,000 here)."""
    import numpy as np
    import pypdfium2 as pdfium

    from ice_tracker.moa.pdftext import render_for_ocr

    path = tmp_path / "scan.pdf"
    path.write_bytes(scanned_moa())
    document = pdfium.PdfDocument(path)
    try:
        page = document[5]
        for dpi in (100, 200):
            scale = dpi / 72
            whole, zero_left, zero_top = render_for_ocr(page, scale, None)
            part, left, top = render_for_ocr(page, scale, box)
            assert (zero_left, zero_top) == (0, 0)
            assert (left, top) == (round(box[0] * scale), round(box[1] * scale))
            expected = np.asarray(whole)[top : top + part.height, left : left + part.width]
            assert part.size == (min(whole.width, round(box[2] * scale)) - left, min(whole.height, round(box[3] * scale)) - top)
            differ = np.count_nonzero(np.asarray(part) != expected)
            assert differ <= part.width * part.height / 10_000
    finally:
        document.close()
