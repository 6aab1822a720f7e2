"""Time one agreement-reader implementation (the `ice_tracker` first on PYTHONPATH); prints JSON.

Run by bench/bench_moa.py twice in one run, once on this checkout and once on an exported copy of
an earlier commit ("today's code"), so that both are timed by the same harness on the same PDFs:

    python bench/moa_speed_probe.py text  WORK PDF...   # run_moa on 2 workers: PDFs/s end to end
    python bench/moa_speed_probe.py scan  WORK PDF...   # per scan: metadata pass, then full text
    python bench/moa_speed_probe.py handwriting WORK PDF...   # per PDF: the handwriting reader's seconds

Run it from a folder without an `ice_tracker/` in it: the worker pool's forkserver puts the current
folder first on its path, and would otherwise time that package.
"""

from __future__ import annotations

import dataclasses
import hashlib
import inspect
import json
import sys
import time
from pathlib import Path

from ice_tracker.moa.handwriting import find_date_reader
from ice_tracker.moa.ocr import find_tesseract
from ice_tracker.moa.table import STATS, ArchivedPdf, process, run_moa


def archive_of(pdfs: list[Path], root: Path) -> Path:
    """PDFs under `agreements/` as the archive holds them, each with distinct bytes (a comment added)."""
    for number, pdf in enumerate(pdfs):
        target = root / "agreements" / "run" / "ST" / f"Agency_{number}" / pdf.name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(pdf.read_bytes() + f"\n% copy {number}\n".encode())
    return root


def text_layer(work: Path, pdfs: list[Path]) -> dict[str, float]:
    archive = archive_of(pdfs, work / "archive")
    (work / "no_overrides").mkdir()
    extra = {"ocr_cache": work / "ocr_cache"} if "ocr_cache" in inspect.signature(run_moa).parameters else {}
    started = time.perf_counter()
    summary = run_moa(archive, work / "out", overrides_dir=work / "no_overrides", workers=2, **extra)
    seconds = time.perf_counter() - started
    return {"pdfs": len(pdfs), "seconds": seconds, "per_second": len(pdfs) / seconds, "processed": summary["processed"]}


def scans(work: Path, pdfs: list[Path]) -> dict[str, object]:
    archive = archive_of(pdfs, work / "archive")
    ocr, reader = find_tesseract(), find_date_reader()
    if ocr is not None and any(f.name == "cache_dir" for f in dataclasses.fields(ocr)):
        ocr = dataclasses.replace(ocr, cache_dir=work / "ocr_cache")
    out = []
    for path in sorted((archive / "agreements").rglob("*.pdf")):
        item = ArchivedPdf(hashlib.sha256(path.read_bytes()).hexdigest(), [path.relative_to(archive).as_posix()])
        row: dict[str, object] = {"file": path.name}
        for phase in ("metadata", "full"):
            stats = dict.fromkeys(STATS, 0.0)
            started = time.perf_counter()
            fields = process(archive, work / "out", item, ocr, reader, stats, phase=phase)
            row[f"{phase}_seconds"] = time.perf_counter() - started
            # today's code has no cache: every page with OCR text was read by Tesseract in this pass
            row[f"{phase}_ocr_pages"] = stats["tesseract_pages"] if "tesseract_pages" in STATS else stats["ocr_pages"]
            row[f"{phase}_coarse_pages"] = stats.get("tesseract_coarse_pages", 0.0)
            row[f"{phase}_strip_pages"] = stats.get("tesseract_strip_pages", 0.0)
            row[f"{phase}_handwriting_seconds"] = stats["handwriting_seconds"]
            row[f"{phase}_fields"] = {k: fields.get(k, "") for k in ("model", "lea_name", "lea_signed", "ice_signed")}
        out.append(row)
    return {"scans": out}


def handwriting(work: Path, pdfs: list[Path]) -> dict[str, object]:
    """The metadata pass of each PDF, one at a time; what the handwriting reader took and read.

    The OCR cache is `work/../hw_ocr_cache`, shared by both implementations so that Tesseract reads
    each scan once; the reader's own cached readings are removed before each PDF, so every reading
    is made here. Each PDF is keyed by its real sha256, as the archive keys it: the OCR cache is
    shared, and a made-up key would hand one PDF another's pages."""
    archive = archive_of(pdfs, work / "archive")
    cache = work.parent / "hw_ocr_cache"
    ocr, reader = find_tesseract(), find_date_reader()
    if ocr is not None:
        ocr = dataclasses.replace(ocr, cache_dir=cache)
    if reader is not None:  # the models' first run allocates their buffers: not the reader's time on a PDF
        from PIL import Image

        reader.boxes(Image.new("RGB", (1700, 2200), "white"))
    out = []
    for path in sorted((archive / "agreements").rglob("*.pdf")):
        for old in cache.rglob("*_handwriting_*.json"):
            old.unlink()
        stats = dict.fromkeys(STATS, 0.0)
        item = ArchivedPdf(hashlib.sha256(path.read_bytes()).hexdigest(), [path.relative_to(archive).as_posix()])
        started = time.perf_counter()
        fields = process(archive, work / "out", item, ocr, reader, stats, phase="metadata")
        out.append({"file": path.name, "seconds": stats["handwriting_seconds"], "metadata_seconds": time.perf_counter() - started,
                    "ocr_seconds": stats["ocr_seconds"], "handwriting": fields.get("handwriting", ""),
                    "fields": {k: fields.get(k, "") for k in ("lea_signed", "ice_signed", "lea_signed_margin", "ice_signed_margin")}})
    return {"handwriting": out}


def main() -> int:
    mode, work, pdfs = sys.argv[1], Path(sys.argv[2]), [Path(p) for p in sys.argv[3:]]
    work.mkdir(parents=True, exist_ok=True)
    result = {"text": text_layer, "scan": scans, "handwriting": handwriting}[mode](work, pdfs)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
