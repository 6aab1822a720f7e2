"""Tesseract in process (libtesseract via ctypes) beside the `tesseract` program: same words? how fast?

Renders every page of the 4 fully scanned fixture agreements as the reader does (pypdfium2, grey,
200 dpi), plus the parts of pages the reader OCRs (the left half at 100 dpi that locates a
signature block, a bottom strip at 200 dpi) and a few pages in RGB, then reads each image with
the program (one run per image, as before) and in process (one handle kept), one image at a time,
and compares the `Word` lists exactly. A last pass reads them in process on two threads at once
(as `pdftext.ocr_page_words` does) and compares again. Per-call times are printed side by side
(the program is the baseline), including a blank 200x50 image that shows the fixed cost per call.

    python bench/bench_tess_api.py [--fixtures ../shared/fixtures/ice287g] [--short]

`--short` (or CI=true): the first two pages of one scan only. Exits 1 when any words differ.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import pypdfium2 as pdfium
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from ice_tracker.moa.ocr import Ocr, find_tesseract  # noqa: E402
from ice_tracker.moa.words import Word  # noqa: E402

log = logging.getLogger("bench_tess_api")

# The fixture agreements that are scans throughout (no text layer on any page).
SCANS = ["etowah", "LeeCo", "WashingtonCo", "Loudoun"]
RGB_PAGES = 4  # the first page of each scan, also read in colour
BLANK_CALLS = 10

Sample = tuple[str, Image.Image, float]  # (label, image, pixels per point)


def scan_pdfs(fixtures: Path) -> list[Path]:
    pdfs = sorted((fixtures / "agreements").rglob("*.pdf"))
    return [next(p for p in pdfs if key.lower() in p.name.lower()) for key in SCANS]


def samples(pdfs: list[Path], pages: int | None) -> list[Sample]:
    """The images the reader hands Tesseract: whole pages, left halves at 100 dpi, bottom strips, RGB pages."""
    found: list[Sample] = []
    for path in pdfs:
        document = pdfium.PdfDocument(path)
        try:
            for index in range(len(document) if pages is None else min(pages, len(document))):
                page = document[index]
                full = page.render(scale=200 / 72, may_draw_forms=True).to_pil()
                coarse = page.render(scale=100 / 72, may_draw_forms=True).to_pil().convert("L")
                grey = full.convert("L")
                name = f"{path.stem[:24]} p{index + 1}"
                found.append((f"{name} 200dpi", grey, 200 / 72))
                found.append((f"{name} left half 100dpi", coarse.crop((0, 0, coarse.width // 2, coarse.height)), 100 / 72))
                found.append((f"{name} bottom strip", grey.crop((0, grey.height * 3 // 4, grey.width, grey.height)), 200 / 72))
                if index == 0:
                    found.append((f"{name} RGB", full.convert("RGB"), 200 / 72))
        finally:
            document.close()
    return found


def read_all(ocr: Ocr, images: list[Sample], threads: int = 1) -> tuple[list[list[Word]], float]:
    started = time.perf_counter()
    if threads == 1:
        words = [ocr.words(image, scale) for _, image, scale in images]
    else:
        with ThreadPoolExecutor(max_workers=threads) as pool:
            words = list(pool.map(lambda s: ocr.words(s[1], s[2]), images))
    return words, time.perf_counter() - started


def differences(labels: list[str], expected: list[list[Word]], got: list[list[Word]]) -> list[str]:
    return [f"{label}: {len(a)} words by the program, {len(b)} in process" + (
        f"; first difference {next(((x, y) for x, y in zip(a, b) if x != y), None)}")
        for label, a, b in zip(labels, expected, got) if a != b]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fixtures", type=Path, default=REPO.parent / "shared" / "fixtures" / "ice287g")
    parser.add_argument("--short", action="store_true", default=os.environ.get("CI") == "true")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    ocr = find_tesseract()
    if ocr is None or not ocr.in_process:
        log.info("tesseract or a matching libtesseract missing (%s): nothing to compare", ocr)
        return 0
    program = replace(ocr, in_process=False)
    pdfs = scan_pdfs(args.fixtures)[:1] if args.short else scan_pdfs(args.fixtures)
    images = samples(pdfs, 2 if args.short else None)
    labels = [label for label, _, _ in images]
    log.info("tesseract %s; %d images from %d scanned PDFs (shared machine: other sessions load the CPU)",
             ocr.version, len(images), len(pdfs))

    blank = [("blank", Image.new("L", (200, 50), 255), 1.0)] * BLANK_CALLS
    ocr.words(blank[0][1], 1.0)  # load the model once, as a worker does on its first page
    _, blank_program = read_all(program, blank)
    _, blank_api = read_all(ocr, blank)
    expected, seconds_program = read_all(program, images)
    got, seconds_api = read_all(ocr, images)
    threaded, seconds_threaded = read_all(ocr, images, threads=2)

    log.info("%-44s %12s %12s %8s", "per call", "program ms", "in process ms", "ratio")
    log.info("%-44s %12.1f %12.1f %7.0fx", f"blank 200x50 ({BLANK_CALLS} calls)", 1000 * blank_program / BLANK_CALLS,
             1000 * blank_api / BLANK_CALLS, blank_program / blank_api)
    log.info("%-44s %12.0f %12.0f %7.2fx", f"fixture images ({len(images)}, one at a time)", 1000 * seconds_program / len(images),
             1000 * seconds_api / len(images), seconds_program / seconds_api)
    log.info("%-44s %12s %12.0f", "fixture images, in process on 2 threads (wall)", "", 1000 * seconds_threaded / len(images))
    words = sum(len(w) for w in expected)
    wrong = differences(labels, expected, got) + differences([f"{x} (2 threads)" for x in labels], expected, threaded)
    log.info("identical words: %d of %d images one at a time, %d of %d on 2 threads (%d words by the program)",
             sum(a == b for a, b in zip(expected, got)), len(images),
             sum(a == b for a, b in zip(expected, threaded)), len(images), words)
    for line in wrong:
        log.info("DIFFERENT %s", line)
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())
