"""Tesseract OCR for pages that have no text layer, detected at run time.

Tesseract is an optional system program (Debian `tesseract-ocr`). When it is missing the run goes
on and the metadata says `ocr = unavailable`, so an archive without it still gets text-layer
PDFs done and can be re-run later. The binary can be chosen with `$ICE_TRACKER_TESSERACT` (or a
parameter), which is also how the tests exercise the missing-binary path for real.

When the binary is the system's and its library (`libtesseract.so.5`) has the same version, pages
are read in this process through the library (`tess_api`): the same engine and settings give the
same TSV without ~0.14 s of program start and model load per page. Anything else (a chosen
binary, no library, another version, a library that fails to start) runs the program as before.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pytesseract
from PIL import Image

from ice_tracker.moa import tess_api
from ice_tracker.moa.words import Word

log = logging.getLogger(__name__)

TESSERACT_ENV = "ICE_TRACKER_TESSERACT"
DEFAULT_DPI = 200
# One thread per Tesseract call: pages are spread over the cores instead (pdftext.ocr_page_words).
os.environ.setdefault("OMP_THREAD_LIMIT", "1")


def cores() -> int:
    """The cores this process may run on."""
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


class OcrError(RuntimeError):
    """Tesseract ran but failed on a page (bad image, crash, timeout)."""


@dataclass(frozen=True)
class Ocr:
    """A located Tesseract binary and the settings every page is read with."""

    command: str
    version: str
    dpi: int = DEFAULT_DPI
    lang: str = "eng"
    timeout: float = 120.0
    cache_dir: Path | None = None  # where pages' words are kept (ocr_cache); None: not kept
    # Tesseract processes one PDF's pages are read by side by side (each single-threaded): all the
    # cores for one PDF at a time, the worker's share of them in the worker pool (pool.py).
    threads: int = field(default_factory=cores)
    # Read through the library in this process (`tess_api`) instead of one program run per page;
    # set by `find_tesseract` only when that gives the program's exact output.
    in_process: bool = False

    @property
    def engine(self) -> str:
        """What a cached reading must have been made with to stand for a new one."""
        return f"tesseract {self.version} {self.lang} psm3"

    def words(self, image: Image.Image, scale: float, left: float = 0.0, top: float = 0.0) -> list[Word]:
        """OCR one page image into words placed in PDF points (`scale` = pixels per point; `left`,
        `top`: where the image starts on the page, in points, when it is a part of it)."""
        if not image.width or not image.height:  # a box outside the page: nothing Tesseract can read
            raise OcrError(f"empty image ({image.width}x{image.height})")
        image = image if image.mode in ("L", "RGB") else image.convert("RGB")
        data = self.read_in_process(image) if self.in_process else None
        if data is None:
            data = self.read_with_program(image)
        words: list[Word] = []
        for i, text in enumerate(data["text"]):
            text = (text or "").strip()
            if not text or float(data["conf"][i]) < 0:
                continue
            x, y = data["left"][i] / scale + left, data["top"][i] / scale + top
            words.append(
                Word(
                    text=text,
                    x0=x,
                    x1=x + data["width"][i] / scale,
                    top=y,
                    bottom=y + data["height"][i] / scale,
                    line=(data["block_num"][i], data["par_num"][i], data["line_num"][i]),
                )
            )
        return words

    def read_with_program(self, image: Image.Image) -> dict[str, list]:
        """The `tesseract` program's TSV for `image`, as pytesseract's columns."""
        pytesseract.pytesseract.tesseract_cmd = self.command
        # Handed over as an uncompressed PGM/PPM file: pytesseract would write a PNG, whose
        # compression costs ~0.1 s a page; Tesseract reads the same pixels either way.
        try:
            with tempfile.TemporaryDirectory(prefix="ice_tracker_ocr_") as folder:
                source = Path(folder) / ("page.pgm" if image.mode == "L" else "page.ppm")
                image.save(source)
                return pytesseract.image_to_data(
                    str(source), lang=self.lang, config="--psm 3", output_type=pytesseract.Output.DICT, timeout=self.timeout
                )
        except (pytesseract.TesseractError, RuntimeError, OSError) as exc:
            raise OcrError(str(exc)) from exc

    def read_in_process(self, image: Image.Image) -> dict[str, list] | None:
        """The library's TSV for `image`, parsed as pytesseract parses the program's (so both
        give the same columns); None when the library cannot start in this process (the program
        reads the page instead, and every later one)."""
        global _library_failed
        if _library_failed:
            return None
        try:
            tsv = tess_api.read_tsv(image, self.lang, self.timeout)
        except tess_api.TessInitError as exc:
            _library_failed = True
            log.warning("%s did not start (%s): pages are read by %s", tess_api.LIBRARY, exc, self.command)
            return None
        except tess_api.TessApiError as exc:
            raise OcrError(str(exc)) from exc
        return pytesseract.pytesseract.file_to_dict(tsv, "\t", -1)


_library_failed = False  # the library failed to start in this process: the program reads pages
_engine_logged: set[tuple[str, bool]] = set()


def library_matches(command: str, version: str) -> bool:
    """Whether `command` is the system's `tesseract` and the loadable library is the same
    version, so reading in process gives the program's output. A binary chosen elsewhere
    (`$ICE_TRACKER_TESSERACT`, e.g. a test's broken one) is always run as a program."""
    system = shutil.which("tesseract")
    if system is None or os.path.realpath(command) != os.path.realpath(system):
        return False
    return tess_api.library_version() == version


def find_tesseract(command: str | None = None, dpi: int = DEFAULT_DPI) -> Ocr | None:
    """The usable Tesseract (parameter, then $ICE_TRACKER_TESSERACT, then PATH), or None."""
    wanted = command or os.environ.get(TESSERACT_ENV) or "tesseract"
    resolved = shutil.which(wanted)
    if resolved is None:
        log.warning("tesseract not found (%s): scanned pages will not be read (ocr = unavailable)", wanted)
        return None
    pytesseract.pytesseract.tesseract_cmd = resolved
    try:
        version = str(pytesseract.get_tesseract_version())
    except (pytesseract.TesseractNotFoundError, pytesseract.TesseractError, OSError) as exc:
        log.warning("tesseract at %s does not run (%s): ocr = unavailable", resolved, exc)
        return None
    in_process = library_matches(resolved, version)
    if (resolved, in_process) not in _engine_logged:
        _engine_logged.add((resolved, in_process))
        log.debug("tesseract %s: pages read %s", version,
                  f"in process by {tess_api.LIBRARY}" if in_process else f"by running {resolved}")
    return Ocr(command=resolved, version=version, dpi=dpi, in_process=in_process)
