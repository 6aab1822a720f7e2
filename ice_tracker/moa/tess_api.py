"""Tesseract run inside this process through its C API (`libtesseract.so.5`, loaded with ctypes).

Starting the `tesseract` program costs ~0.14 s a page (process start plus loading the English
model), which is most of the time a signature strip or a coarse locating read takes. Here the
model is loaded once per process and kept: each page is handed over as raw pixels and comes back
as the same TSV the program writes, so `ocr.Ocr` turns both into words the same way.

Handles are kept in a small per-process pool: `pdftext.ocr_page_words` reads a PDF's pages on
several threads at once, and one TessBaseAPI must never serve two pages at the same time, so each
page takes an idle handle (or makes one) and gives it back. ctypes releases the GIL during the
call, so the threads run side by side like the processes did. The library reads
OMP_THREAD_LIMIT when it is loaded: `ocr.py` sets it to 1 on import, before any load here.
"""

from __future__ import annotations

import ctypes
import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from PIL import Image

log = logging.getLogger(__name__)

LIBRARY = "libtesseract.so.5"
PSM_AUTO = 3  # what `--psm 3` selects: automatic page segmentation, no orientation detection
# The header line the program's TSV renderer writes before the page's rows (GetTsvText has none).
TSV_HEADER = "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext\n"
# What the program sets for `-c tessedit_create_tsv=1 ... tsv`; the diagnostics Tesseract prints
# ("Estimating resolution as ...") go nowhere, as pytesseract discards the program's stderr.
VARIABLES = {"tessedit_create_tsv": "1", "debug_file": "/dev/null"}


class TessApiError(RuntimeError):
    """The library failed on a page (bad image, timeout): the page's reading fails."""


class TessInitError(TessApiError):
    """The library could not start here (not loadable, model missing): the program is used instead."""


_library: ctypes.CDLL | None = None
_library_tried = False
_library_lock = threading.Lock()


def _declare(lib: ctypes.CDLL) -> None:
    """Argument and result types from capi.h (pointers kept as void* so nothing is freed by ctypes)."""
    p, c_int, c_char_p = ctypes.c_void_p, ctypes.c_int, ctypes.c_char_p
    signatures: dict[str, tuple[list[object], object]] = {
        "TessVersion": ([], c_char_p),
        "TessBaseAPICreate": ([], p),
        "TessBaseAPIInit3": ([p, c_char_p, c_char_p], c_int),
        "TessBaseAPISetVariable": ([p, c_char_p, c_char_p], c_int),
        "TessBaseAPISetPageSegMode": ([p, c_int], None),
        "TessBaseAPISetImage": ([p, c_char_p, c_int, c_int, c_int, c_int], None),
        "TessBaseAPIRecognize": ([p, p], c_int),
        "TessBaseAPIGetTsvText": ([p, c_int], p),
        "TessDeleteText": ([p], None),
        "TessBaseAPIClear": ([p], None),
        "TessBaseAPIEnd": ([p], None),
        "TessBaseAPIDelete": ([p], None),
        "TessMonitorCreate": ([], p),
        "TessMonitorSetDeadlineMSecs": ([p, c_int], None),
        "TessMonitorDelete": ([p], None),
    }
    for name, (args, result) in signatures.items():
        function = getattr(lib, name)
        function.argtypes = args
        function.restype = result


def library() -> ctypes.CDLL | None:
    """The loaded library with its functions declared, or None when it is missing or too old."""
    global _library, _library_tried
    with _library_lock:
        if not _library_tried:
            _library_tried = True
            os.environ.setdefault("OMP_THREAD_LIMIT", "1")  # read by libgomp as it loads
            try:
                lib = ctypes.CDLL(LIBRARY)
                _declare(lib)
                _library = lib
            except (OSError, AttributeError) as exc:
                log.debug("%s not usable (%s): Tesseract runs as a program", LIBRARY, exc)
        return _library


def library_version() -> str | None:
    """TessVersion() of the loadable library ("5.3.0"), or None."""
    lib = library()
    if lib is None:
        return None
    raw = lib.TessVersion()
    return raw.decode("utf-8", "replace") if raw else None


class Engine:
    """One TessBaseAPI with the model loaded, reused page after page (never two at once)."""

    def __init__(self, lib: ctypes.CDLL, lang: str) -> None:
        self.lib = lib
        self.handle = lib.TessBaseAPICreate()
        if not self.handle:
            raise TessInitError("TessBaseAPICreate returned nothing")
        if lib.TessBaseAPIInit3(self.handle, None, lang.encode()) != 0:
            self.close()
            raise TessInitError(f"Tesseract could not load language {lang!r}")
        for name, value in VARIABLES.items():
            lib.TessBaseAPISetVariable(self.handle, name.encode(), value.encode())
        lib.TessBaseAPISetPageSegMode(self.handle, PSM_AUTO)

    def tsv(self, image: Image.Image, timeout: float) -> str:
        """The program's TSV output (header included) for a greyscale or RGB `image`, giving up
        after `timeout` seconds of recognition (the layout analysis before it is not bounded)."""
        if image.mode not in ("L", "RGB") or not image.width or not image.height:
            raise TessApiError(f"image {image.mode} {image.width}x{image.height} (a non-empty L or RGB image expected)")
        depth = 1 if image.mode == "L" else 3
        pixels = image.tobytes()
        lib, handle = self.lib, self.handle
        monitor = lib.TessMonitorCreate()
        try:
            lib.TessBaseAPISetImage(handle, pixels, image.width, image.height, depth, image.width * depth)
            lib.TessMonitorSetDeadlineMSecs(monitor, max(1, min(int(timeout * 1000), 2**31 - 1)))
            if lib.TessBaseAPIRecognize(handle, monitor) != 0:
                raise TessApiError(f"recognition failed or took more than {timeout:g} s")
            text = lib.TessBaseAPIGetTsvText(handle, 0)
            if not text:
                raise TessApiError("no TSV output")
            try:
                return TSV_HEADER + ctypes.string_at(text).decode("utf-8")
            finally:
                lib.TessDeleteText(text)
        finally:
            lib.TessMonitorDelete(monitor)
            lib.TessBaseAPIClear(handle)  # frees the page's image and results; the model stays

    def close(self) -> None:
        self.lib.TessBaseAPIEnd(self.handle)
        self.lib.TessBaseAPIDelete(self.handle)


_idle: dict[str, list[Engine]] = {}
_idle_pid = os.getpid()
_idle_lock = threading.Lock()
_create_lock = threading.Lock()


@contextmanager
def engine(lang: str) -> Iterator[Engine]:
    """An idle handle for `lang` (made when all are busy), returned to the pool afterwards.
    Handles inherited through a fork are dropped: they belong to the parent."""
    global _idle_pid
    lib = library()
    if lib is None:
        raise TessInitError(f"{LIBRARY} not loadable")
    with _idle_lock:
        if _idle_pid != os.getpid():
            _idle.clear()
            _idle_pid = os.getpid()
        free = _idle.setdefault(lang, [])
        taken = free.pop() if free else None
    if taken is None:
        with _create_lock:  # loading a model sets Tesseract's process-wide parameters: one at a time
            taken = Engine(lib, lang)
    try:
        yield taken
    finally:
        with _idle_lock:
            if _idle_pid == os.getpid():
                _idle.setdefault(lang, []).append(taken)


def read_tsv(image: Image.Image, lang: str, timeout: float) -> str:
    """Tesseract's TSV for one page image, read by this process's handles."""
    with engine(lang) as handle:
        return handle.tsv(image, timeout)
