"""Tesseract's words for one page (and the handwriting reader's dates), kept on disk so that no
page is read twice.

The metadata pass OCRs a scan's first and signature pages; the full-text pass (maybe a later run)
needs them again, and a re-run after an extractor change needs them all. OCR is the slow part
(about a second a page), so its words are cached per (PDF sha256, page, dpi), with the Tesseract
version and language they were read with: a different Tesseract reads the page again. Files are
written atomically and hold exactly what Tesseract gave, so a cached page yields the same text
as a fresh reading. The handwriting reader's dates are kept the same way, keyed by everything the
reading depends on (page, label words, date window, reader version, its settings). The cache lives in the cache dir (never committed); deleting it is safe.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
from pathlib import Path
from typing import Any

from ice_tracker.fileio import atomic_write_text
from ice_tracker.moa.words import Word

log = logging.getLogger(__name__)


Box = tuple[float, float, float, float] | None  # (x0, top, x1, bottom) in PDF points: part of a page; None: all of it


# How a part of a page is drawn for Tesseract: "alone" (pdfium draws only the part, resampling a
# clipped image a little differently from the whole page's drawing). Part of a part's file name, so
# a part read when it was cut from the whole page is read again: a cached run and a fresh clone give
# the same words.
PART_DRAWING = "alone"


def cache_file(root: Path, sha256: str, page: int, dpi: int, box: Box = None) -> Path:
    """Where a reading is kept; a part's reading has its own file, so it never stands for the page's."""
    part = f"_x{box[0]:.0f}-{box[2]:.0f}_y{box[1]:.0f}-{box[3]:.0f}_{PART_DRAWING}" if box else ""
    return root / sha256[:2] / f"{sha256}_p{page}_{dpi}dpi{part}.json"


def load_words(root: Path | None, sha256: str, page: int, dpi: int, engine: str, box: Box = None) -> list[Word] | None:
    """The cached words of a page (or of its `box`) read by `engine` ("tesseract <version> <lang>"), or None."""
    if root is None or not sha256:
        return None
    path = cache_file(root, sha256, page, dpi, box)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        log.warning("OCR cache %s unreadable (%s): the page is read again", path, exc)
        return None
    if data.get("engine") != engine:
        return None
    return [Word(t, x0, x1, top, bottom, tuple(line) if line is not None else None)
            for t, x0, x1, top, bottom, line in data["words"]]


def save_words(root: Path | None, sha256: str, page: int, dpi: int, engine: str, words: list[Word], box: Box = None) -> None:
    if root is None or not sha256:
        return
    rows = [[w.text, w.x0, w.x1, w.top, w.bottom, list(w.line) if w.line is not None else None] for w in words]
    try:
        atomic_write_text(cache_file(root, sha256, page, dpi, box), json.dumps({"engine": engine, "words": rows}), durable=False)
    except OSError as exc:  # a full or read-only cache costs time, never the run
        log.warning("OCR cache not written (%s)", exc)


def readings_file(root: Path, sha256: str, key: Any) -> Path:
    digest = hashlib.sha256(json.dumps(key, sort_keys=True, default=str).encode()).hexdigest()[:24]
    return root / sha256[:2] / f"{sha256}_handwriting_{digest}.json"


def load_readings(root: Path | None, sha256: str, key: Any) -> dict[str, Any] | None:
    """The handwriting readings ({"lea"|"ice": Reading}) made before for exactly `key`, or None."""
    from ice_tracker.moa.handwriting import Reading

    if root is None or not sha256:
        return None
    try:
        data = json.loads(readings_file(root, sha256, key).read_text(encoding="utf-8"))
        return {party: Reading(**fields) for party, fields in data.items()}
    except FileNotFoundError:
        return None
    except (OSError, ValueError, TypeError) as exc:
        log.warning("handwriting cache unreadable (%s): the page is read again", exc)
        return None


def save_readings(root: Path | None, sha256: str, key: Any, readings: dict[str, Any]) -> None:
    if root is None or not sha256:
        return
    data = {party: dataclasses.asdict(reading) for party, reading in readings.items()}
    try:
        atomic_write_text(readings_file(root, sha256, key), json.dumps(data, sort_keys=True), durable=False)
    except OSError as exc:
        log.warning("handwriting cache not written (%s)", exc)
