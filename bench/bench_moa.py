"""MOA bench: field accuracy against the hand labels, and pages per second.

Runs the whole `moa` step on the 17 real fixture PDFs (OCR included) into a temporary folder,
prints field accuracy split by text-layer vs scanned PDFs, then throughput for text-layer pages
and OCR pages next to a naive baseline (pdfplumber `extract_text` on every page; Tesseract
`image_to_string` at 300 dpi with its default threads), then the cost of an incremental re-run.
The roster history is first built from the fixture workbooks (as the daily job does before this
step), so that ICE's SIGNED dates are available; hand-read values (overrides/moa_fields.csv) are
left out, so the figures measure the extractor alone. Accuracy is also shown without the roster's dates
and without the handwriting reader (the dates they supplied blanked), and how many of the dates the
reader kept are wrong.

    python bench/bench_moa.py [--fixtures ../shared/fixtures/ice287g] [--baseline-ocr-pages 6] [--text-layer-only]

With CI=true (as in .ci/run) it measures the 13 text-layer PDFs only (`--text-layer-only`), since
OCR of the 4 scans costs minutes; run it without CI=true for all 17.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pdfplumber
import pypdfium2 as pdfium
import pytesseract

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from ice_tracker.fileio import read_dict_csv  # noqa: E402
from ice_tracker.moa import run_moa  # noqa: E402
from ice_tracker.moa.evaluate import FIELDS, accuracy, format_table  # noqa: E402
from ice_tracker.moa.ocr import find_tesseract  # noqa: E402
from ice_tracker.roster.history import build_history  # noqa: E402

LABELS = REPO / "tests" / "data" / "moa_labels.csv"
# "Today's code" for the side-by-side speed figures: the last commit before the pdfium text layer,
# the OCR cache and the metadata pass that OCRs only the pages it needs.
BASELINE_REF = "2c9a324"
# The handwriting reader before its speed-up (full-page line reading, one CTC pass per spelling length).
HANDWRITING_BASELINE_REF = "4225204"
TARGET_TEXT_PER_SECOND = 2.0
TARGET_SCAN_METADATA_SECONDS = 15.0
TYPED = {"typed", "form_field"}  # dates printed: no OCR re-read and no handwriting reader needed


def export_baseline(ref: str, into: Path) -> Path | None:
    """The `ice_tracker` package as it was at `ref` (git archive), or None without git history."""
    into.mkdir(parents=True)
    try:
        archive = subprocess.run(["git", "-C", str(REPO), "archive", ref, "ice_tracker"], capture_output=True, check=True)
        subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, check=True)
    except (OSError, subprocess.CalledProcessError) as exc:
        print(f"  (today's code at {ref} not available: {exc}; figures for ours only)")
        return None
    return into


def probe(package_root: Path, mode: str, work: Path, pdfs: list[Path]) -> dict:
    """bench/moa_speed_probe.py with `package_root`'s ice_tracker first on the path."""
    env = {**os.environ, "PYTHONPATH": str(package_root), "PYTHONDONTWRITEBYTECODE": "1"}
    done = subprocess.run([sys.executable, str(REPO / "bench" / "moa_speed_probe.py"), mode, str(work), *map(str, pdfs)],
                          capture_output=True, text=True, env=env, cwd=work.parent)
    if done.returncode != 0:
        raise RuntimeError(f"probe failed ({package_root}):\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def verdict(met: bool) -> str:
    return "MET" if met else "NOT MET"


def speed_beside_today(args: argparse.Namespace, pdfs: list[Path], labels: list[dict[str, str]], work: Path) -> None:
    """Ours beside today's code, same PDFs, same harness, same run; each figure beside its target."""
    kinds = {lab["file"]: lab for lab in labels}
    typed = [p for p in pdfs if p.name in kinds and kinds[p.name]["kind"] == "text_layer"
             and {kinds[p.name]["lea_signed_how"], kinds[p.name]["ice_signed_how"]} <= TYPED]
    text_all = [p for p in pdfs if p.name in kinds and kinds[p.name]["kind"] == "text_layer"]
    scans = [p for p in pdfs if p.name in kinds and kinds[p.name]["kind"] == "scanned"][: args.scans]
    baseline = export_baseline(args.baseline_ref, work / "baseline")
    sides = [("ours", REPO)] + ([(f"today ({args.baseline_ref})", baseline)] if baseline else [])
    print(f"\nSpeed beside today's code (same PDFs, same run, 2 workers; the machine may be shared: compare ratios)")
    sets = [(f"typed-date text-layer PDFs x{args.copies}", typed * args.copies)]
    if not args.text_layer_only:  # as many copies as the typed set: the pool's start-up (a process and the
        # handwriting models per worker, ~2-3 s) is spread as over a run's hundreds of PDFs, not over 13
        sets.append((f"all 13 text-layer fixtures (6 need the handwriting reader) x{args.copies}", text_all * args.copies))
    for title, chosen in sets:
        results = {name: probe(root, "text", work / f"text_{name[:5]}_{len(chosen)}_{title[:3]}", chosen) for name, root in sides}
        print(f"  {title}: PDFs/s end to end (metadata + full text), target >= {TARGET_TEXT_PER_SECOND:g}/s")
        for name, result in results.items():
            rate = result["per_second"]
            print(f"    {name:<18} {rate:6.2f}/s ({result['pdfs']} PDFs in {result['seconds']:6.1f} s)"
                  + (f"   {verdict(rate >= TARGET_TEXT_PER_SECOND)}" if name == "ours" else ""))
        if len(results) == 2:
            ours, today = (r["per_second"] for r in results.values())
            print(f"    ratio ours/today   {ours / today:6.1f}x")
    if not scans:
        print("  scanned PDFs: skipped (short mode; run without CI=true)")
        return
    results = {name: probe(root, "scan", work / f"scan_{name[:5]}", scans) for name, root in sides}
    print(f"  scanned PDFs, one at a time: metadata pass (target <= {TARGET_SCAN_METADATA_SECONDS:g} s), then full text;"
          " Tesseract pages read (+ signature-block strips read ahead of their page, + coarse pages locating the signature)")
    totals: dict[str, list[float]] = {}
    for name, result in results.items():
        for row in result["scans"]:
            meta, full = row["metadata_seconds"], row["full_seconds"]
            pages = (row["metadata_ocr_pages"], row["full_ocr_pages"], row["metadata_coarse_pages"], strips(row))
            totals.setdefault(name, []).extend([meta])
            print(f"    {name:<18} {row['file'][:40]:<40} metadata {meta:6.1f} s (handwriting {row['metadata_handwriting_seconds']:5.1f} s)"
                  f"  full {full:6.1f} s   OCR pages {pages[0]:.0f} + {pages[1]:.0f} (+{pages[3]:.0f} strip, +{pages[2]:.0f} coarse)"
                  + (f"   {verdict(meta <= TARGET_SCAN_METADATA_SECONDS)}" if name == "ours" else ""))
        rows = result["scans"]
        full_pages = sum(r["metadata_ocr_pages"] + r["full_ocr_pages"] for r in rows)
        print(f"    {name:<18} mean metadata {sum(totals[name]) / len(totals[name]):6.1f} s; OCR pages metadata + full text: "
              f"{full_pages:.0f} (+{sum(map(strips, rows)):.0f} strips, "
              f"+{sum(r['metadata_coarse_pages'] for r in rows):.0f} coarse)")
    if len(results) == 2:
        ours, today = (r["scans"] for r in results.values())
        reused = sum(r["full_ocr_pages"] for r in ours) + sum(r["metadata_ocr_pages"] for r in ours)
        pages_today = sum(r["metadata_ocr_pages"] + r["full_ocr_pages"] for r in today)
        same = all(a["full_fields"] == b["full_fields"] for a, b in zip(ours, today))
        once = sum(r["full_ocr_pages"] for r in today)  # today's full pass reads every page that needs OCR
        print(f"    OCR pages, metadata + full text: ours {reused:.0f} vs today {pages_today:.0f}; pages needing OCR "
              f"{once:.0f} (no whole page read twice: {verdict(reused <= once)});"
              f" fields of the scans identical to today's: {same}")


def strips(row: dict) -> float:
    """Signature-block strips Tesseract read for one scan, both passes (0 for code that reads none)."""
    return row.get("metadata_strip_pages", 0.0) + row.get("full_strip_pages", 0.0)


def dates(row: dict) -> tuple[str, str]:
    return row["fields"]["lea_signed"], row["fields"]["ice_signed"]


def margins(row: dict) -> str:
    """The kept readings' margins over the next date ("-" where no date was read by hand)."""
    return "/".join(row["fields"][f"{party}_signed_margin"] or "-" for party in ("lea", "ice"))


def handwriting_beside_before(args: argparse.Namespace, pdfs: list[Path], work: Path) -> None:
    """The handwriting reader's seconds per PDF (metadata pass, one PDF at a time), ours beside the
    reader before its speed-up, same PDFs, same run; and whether both read the same dates."""
    before = export_baseline(args.handwriting_baseline_ref, work / "hw_baseline")
    if before is None:
        return
    results: dict[str, list[dict]] = {"before": [], "ours": []}
    for number, pdf in enumerate(pdfs):  # alternated PDF by PDF, so that a change of load hits both alike
        for name, root in (("before", before), ("ours", REPO)):
            results[name] += probe(root, "handwriting", work / f"hw_{name}_{number}", [pdf])["handwriting"]
    print(f"\nHandwriting reader beside the reader before its speed-up ({args.handwriting_baseline_ref}), "
          f"metadata pass, one PDF at a time, same run (the machine may be shared: compare ratios)")
    ours, old = results["ours"], results["before"]
    needed = [(a, b) for a, b in zip(ours, old, strict=True) if b["handwriting"] not in ("not_needed", "unavailable")]
    for a, b in needed:
        print(f"  {a['file'][:50]:<50} before {b['seconds']:6.2f} s   ours {a['seconds']:6.2f} s   "
              f"{b['seconds'] / max(a['seconds'], 1e-9):5.1f}x   same dates: {dates(a) == dates(b)}"
              f"   margins {margins(b)} -> {margins(a)}")
    if needed:
        total_old, total_ours = sum(b["seconds"] for _, b in needed), sum(a["seconds"] for a, _ in needed)
        print(f"  {len(needed)} PDFs needing the reader: before {total_old:6.1f} s ({total_old / len(needed):.2f} s/PDF), "
              f"ours {total_ours:6.1f} s ({total_ours / len(needed):.2f} s/PDF), {total_old / max(total_ours, 1e-9):.1f}x; "
              f"same dates and statuses on all {len(ours)} PDFs: {all(dates(a) == dates(b) and a['handwriting'] == b['handwriting'] for a, b in zip(ours, old))}")
    meta_old, meta_ours = (sum(r["metadata_seconds"] - r["ocr_seconds"] for r in rows) for rows in (old, ours))
    print(f"  metadata pass of these {len(ours)} PDFs without its OCR (Tesseract reads each scan once, for the side run first): "
          f"before {meta_old:6.1f} s, ours {meta_ours:6.1f} s")


def naive_text(pdfs: list[Path]) -> tuple[int, float]:
    start, pages = time.perf_counter(), 0
    for path in pdfs:
        with pdfplumber.open(path) as pdf:
            for page in pdf.pages:
                page.extract_text()
                pages += 1
    return pages, time.perf_counter() - start


def naive_ocr(pages: list[tuple[Path, int]]) -> tuple[int, float]:
    start = time.perf_counter()
    for path, index in pages:
        image = pdfium.PdfDocument(path)[index].render(scale=300 / 72).to_pil()
        pytesseract.image_to_string(image)
    return len(pages), time.perf_counter() - start


def short_archive(fixtures: Path, pdfs: list[Path], root: Path) -> Path:
    """The fixture archive with only the chosen PDFs, as links (nothing copied)."""
    root.mkdir(parents=True)
    (root / "sheets").symlink_to((fixtures / "sheets").resolve(), target_is_directory=True)
    for pdf in pdfs:
        link = root / pdf.relative_to(fixtures)
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(pdf.resolve())
    return root


def rate(pages: int, seconds: float) -> str:
    return f"{pages / seconds:6.2f} pages/s ({pages} pages, {seconds:5.1f} s)" if seconds else "      n/a"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    shared = Path(os.environ.get("ICE_TRACKER_FIXTURES") or REPO.parent / "shared" / "fixtures")
    parser.add_argument("--fixtures", type=Path, default=shared / "ice287g")
    parser.add_argument("--baseline-ocr-pages", type=int, default=6, help="pages OCRed by the naive baseline (slow)")
    parser.add_argument("--text-layer-only", action="store_true", default=os.environ.get("CI") == "true",
                        help="measure the text-layer PDFs only (the default when CI=true)")
    parser.add_argument("--baseline-ref", default=BASELINE_REF, help="the commit whose agreement reader is 'today's code'")
    parser.add_argument("--copies", type=int, default=None, help="copies of the text-layer PDFs timed (short 2, else 4)")
    parser.add_argument("--scans", type=int, default=4, help="scanned PDFs timed one at a time (not in short mode)")
    parser.add_argument("--handwriting-baseline-ref", default=HANDWRITING_BASELINE_REF,
                        help="the commit whose handwriting reader the reader is timed beside")
    parser.add_argument("--handwriting-pdfs", type=int, default=None,
                        help="PDFs whose handwriting reader is timed beside the earlier one (short 2 needing it, else all)")
    args = parser.parse_args()
    args.copies = args.copies or (2 if args.text_layer_only else 4)
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[attr-defined]
    labels = list(csv.DictReader(open(LABELS, newline="", encoding="utf-8")))
    all_labels = list(labels)
    pdfs = sorted((args.fixtures / "agreements").rglob("*.pdf"))
    if args.text_layer_only:
        labels = [lab for lab in labels if lab["kind"] != "scanned"]
        pdfs = [p for p in pdfs if p.name in {lab["file"] for lab in labels}]
        print("short mode (text-layer PDFs only; scanned ones skipped: run without CI=true for all)")
    if not pdfs:
        print(f"no PDFs under {args.fixtures}/agreements", file=sys.stderr)
        return 2
    every_pdf = sorted((args.fixtures / "agreements").rglob("*.pdf"))
    ocr = find_tesseract()
    print(f"{len(pdfs)} PDFs; OCR: {('tesseract ' + ocr.version + f' at {ocr.dpi} dpi') if ocr else 'unavailable'}")

    with tempfile.TemporaryDirectory() as out:
        source = short_archive(args.fixtures, pdfs, Path(out) / "archive") if args.text_layer_only else args.fixtures
        history = build_history(source, Path(out) / "data", Path(out) / "roster_cache")
        print(f"roster history: {history['workbooks']} workbooks, {history['rows']} rows")
        start = time.perf_counter()
        no_overrides = Path(out) / "no_overrides"  # measure the extractor, not hand-read values
        no_overrides.mkdir()
        summary = run_moa(source, Path(out), overrides_dir=no_overrides)
        full = time.perf_counter() - start
        rows = read_dict_csv(Path(out) / "data" / "moa_metadata.csv")
        review = read_dict_csv(Path(out) / "data" / "moa_review.csv")
        start = time.perf_counter()
        again = run_moa(source, Path(out), overrides_dir=no_overrides)
        rerun = time.perf_counter() - start

    print(f"\nfull run: {full:.1f} s, {summary['processed']} PDFs, {summary['read_ocr_pages']} OCR pages "
          f"(Tesseract read {summary.get('read_tesseract_pages', '?')} by pass {summary.get('read_tesseract_by_phase', {})}, "
          f"+{summary.get('read_tesseract_strip_pages', 0)} signature-block strips, "
          f"+{summary.get('read_tesseract_coarse_pages', 0)} coarse pages locating signatures; the rest from the OCR cache), "
          f"{summary['failed']} failures")
    print(f"re-run (incremental): {rerun:.2f} s, {again['processed']} PDFs read again\n")
    result = accuracy(rows, labels)
    print("Field accuracy vs hand labels (tests/data/moa_labels.csv):")
    print(format_table(result))
    for dropped, what in (
        ({"roster"}, "without the roster's SIGNED dates (the PDFs alone)"),
        ({"roster", "handwriting"}, "without the roster and the handwriting reader (text layer, form fields, signatures and Tesseract only)"),
    ):
        without = [
            {**row, **{f"{p}_signed": "" for p in ("lea", "ice") if row.get(f"{p}_signed_source") in dropped}}
            for row in rows
        ]
        print(f"\nSame, {what}:")
        print(format_table(accuracy(without, labels)))
    from_roster = [r for r in rows if r.get("ice_signed_source") == "roster"]
    agree = [r for r in rows if r.get("ice_signed") and r.get("ice_signed_source") != "roster" and r.get("roster_signed")]
    print(
        f"\nroster: filled ICE's date on {len(from_roster)} PDFs; where the PDF gave ICE's date, the roster's "
        f"SIGNED equals it on {sum(r['ice_signed'] == r['roster_signed'] for r in agree)} of {len(agree)}"
    )
    kept = [(r, p) for r in rows for p in ("lea", "ice") if r.get(f"{p}_signed_source") == "handwriting"]
    wanted = {(lab["file"], p): lab[f"{p}_signed"] for lab in labels for p in ("lea", "ice")}
    wrong = [(r, p) for r, p in kept if r[f"{p}_signed"] != wanted.get((Path(r["paths"].split(";")[0]).name, p))]
    print(
        f"\nhandwriting reader ({summary['handwriting']}): {summary['read_handwriting_pdfs']} PDFs read in "
        f"{summary['read_handwriting_seconds']:.1f} s; {len(kept)} dates kept, {len(wrong)} of them wrong"
    )
    print(f"\nreview queue (data/moa_review.csv): {len(review)} lines")
    for line in review:
        print(f"  {Path(line['file']).name:<55} {line['field']:<11} {line['reason']}")
    print("\nWrong or missing values:")
    for name, field, got, want in result["all"]["wrong"]:  # type: ignore[misc]
        print(f"  {name:<55} {field:<11} got {got or '(blank)':<28} want {want or '(blank)'}")

    print("\nThroughput (ours, from the full run above, vs naive baseline):")
    print(f"  text layer  ours  {rate(summary['read_text_pages'], summary['read_text_seconds'])}   (text + words + form fields + signatures)")
    if not args.text_layer_only:  # short mode: today's code below is the comparison (this one costs minutes)
        base_pages, base_time = naive_text(pdfs)
        print(f"  text layer  naive {rate(base_pages, base_time)}   (pdfplumber extract_text only, every page)")
    if ocr is not None:
        scans = [p for p in pdfs if any(lab["file"] == p.name and lab["kind"] == "scanned" for lab in labels)]
        sample = [(path, i) for path in scans for i in range(2)][: args.baseline_ocr_pages]
        print(f"  OCR         ours  {rate(summary['read_ocr_pages'], summary['read_ocr_seconds'])}   ({ocr.dpi} dpi, 1 thread, words with positions)")
        if sample:  # none in the text-layer-only mode
            naive_n, naive_t = naive_ocr(sample)
            print(f"  OCR         naive {rate(naive_n, naive_t)}   (300 dpi image_to_string, default threads, {len(sample)} scanned pages)")
    with tempfile.TemporaryDirectory(prefix="bench_moa_speed_") as work:
        speed_beside_today(args, every_pdf if not args.text_layer_only else pdfs, all_labels, Path(work))
    with tempfile.TemporaryDirectory(prefix="bench_moa_handwriting_") as work:
        handwritten = {lab["file"] for lab in labels if "handwritten" in (lab["lea_signed_how"], lab["ice_signed_how"])}
        chosen = pdfs if args.handwriting_pdfs is None and not args.text_layer_only else \
            [p for p in pdfs if p.name in handwritten][: args.handwriting_pdfs or 2]
        handwriting_beside_before(args, chosen, Path(work))
    assert all(f in result["all"] for f in FIELDS)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
