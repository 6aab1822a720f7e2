"""Benchmark the daily 287(g) job against the naive re-download-everything baseline.

Replays the 64 fixture workbooks in date order as successive days on the loopback ICE site
(tests/ice_site.py): each day the page links the newest participating and pending workbook
published so far. Agreements the fixtures lack are served as unique PDFs padded to the mean size of
the 17 real ones, so day one weighs what the real first day weighs (~400 MB).

Reports, side by side with the naive baseline run in the same process (GET the page, both workbooks
and every linked agreement, every day, as the original tracker did):
- bytes downloaded on the first day and on a no-change day (target: no-change ≤ 1 % of day one);
- wall time of the no-change run with the network excluded (target: < 5 s).

Usage: python bench/bench_scrape.py [--days N] [--fixtures DIR]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import tempfile
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ice_tracker.daily import main as run_daily  # noqa: E402
from ice_tracker.sources.ice287g.page import find_candidates  # noqa: E402
from ice_tracker.sources.ice287g.scrape import pdf_links  # noqa: E402
from ice_tracker.sources.ice287g.workbook import read_roster  # noqa: E402
from tests.ice_site import IceSite  # noqa: E402


def naive_day(site: IceSite) -> tuple[int, float]:
    """The original tracker's day: download the page, the workbooks and every agreement again."""
    started = time.perf_counter()
    total = 0
    with requests.Session() as session:
        page = session.get(site.url, timeout=30)
        total += len(page.content)
        for candidate in find_candidates(page.text, site.url):
            if not candidate.strong:
                continue
            body = session.get(candidate.url, timeout=30).content
            total += len(body)
            for url in sorted({link.url for link in pdf_links(read_roster(body))}):
                total += len(session.get(url, timeout=120).content)
    return total, time.perf_counter() - started


def our_day(site: IceSite, data_dir: Path) -> dict:
    started = time.perf_counter()
    code = run_daily(["--data-dir", str(data_dir), "--page-url", site.url, "--only", "287g"])
    wall = time.perf_counter() - started
    summary = json.loads((data_dir / "data" / "last_run.json").read_text())["steps"]["287g"]
    return {"code": code, "wall": wall, "net": summary["http"]["seconds"], "bytes": summary["http"]["bytes_downloaded"],
            "new_workbooks": len(summary["new_workbooks"]), "new_pdfs": len(summary["new_pdfs"])}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--fixtures", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "fixtures")
    parser.add_argument("--days", type=int, default=10 if os.environ.get("CI") == "true" else 0,
                        help="replay only the first N days (0: all; 10 when CI=true, to keep .ci/run short)")
    args = parser.parse_args()
    logging.disable(logging.INFO)
    days = sorted((args.fixtures / "ice287g" / "sheets").iterdir())
    if args.days:
        days = days[: args.days]
    real_sizes = [p.stat().st_size for p in (args.fixtures / "ice287g" / "agreements").rglob("*.pdf")]
    with tempfile.TemporaryDirectory() as tmp, IceSite(args.fixtures) as site:
        site.state.synthetic_pdf_size = sum(real_sizes) // len(real_sizes)
        data_dir = Path(tmp)
        print(f"{'day':<24}{'ours: bytes':>14}{'new wb':>8}{'new pdf':>9}{'wall s':>8}{'net s':>7}"
              f"{'naive: bytes':>15}{'naive s':>9}")
        rows = []
        for day in days:
            for workbook in sorted(day.glob("*.xlsx")):
                site.publish_fixture(f"{day.name}/{workbook.name}")
            ours = our_day(site, data_dir)
            naive_bytes, naive_seconds = naive_day(site)
            rows.append((ours, naive_bytes))
            print(f"{day.name:<24}{ours['bytes']:>14,}{ours['new_workbooks']:>8}{ours['new_pdfs']:>9}"
                  f"{ours['wall']:>8.2f}{ours['net']:>7.2f}{naive_bytes:>15,}{naive_seconds:>9.2f}")
        quiet = our_day(site, data_dir)
        naive_bytes, naive_seconds = naive_day(site)
        print(f"{'no-change day':<24}{quiet['bytes']:>14,}{quiet['new_workbooks']:>8}{quiet['new_pdfs']:>9}"
              f"{quiet['wall']:>8.2f}{quiet['net']:>7.2f}{naive_bytes:>15,}{naive_seconds:>9.2f}")
        first = rows[0][0]["bytes"]
        ratio = quiet["bytes"] / first
        excluded = quiet["wall"] - quiet["net"]
        total_ours = sum(r[0]["bytes"] for r in rows) + quiet["bytes"]
        total_naive = sum(r[1] for r in rows) + naive_bytes
        print()
        print(f"first day: {first:,} bytes; no-change day: {quiet['bytes']:,} bytes = {ratio:.4%} of day one "
              f"(target <= 1%: {'PASS' if ratio <= 0.01 else 'FAIL'}); naive no-change day: {naive_bytes:,} bytes")
        print(f"no-change run: {quiet['wall']:.3f} s wall, {quiet['net']:.3f} s in HTTP, {excluded:.3f} s network "
              f"excluded (target < 5 s: {'PASS' if excluded < 5 else 'FAIL'}); naive: {naive_seconds:.2f} s")
        print(f"all {len(rows)} days + no-change day: ours {total_ours:,} bytes vs naive {total_naive:,} bytes "
              f"({total_ours / total_naive:.2%})")
        return 0 if ratio <= 0.01 and excluded < 5 else 1


if __name__ == "__main__":
    raise SystemExit(main())
