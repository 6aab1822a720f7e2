"""Simulate DDP releases end to end on the loopback site: detection → archive → detention outputs.

Day 1: DDP posts the March 2026 release (raw arrests, a raw detentions workbook in the real layout,
processed stints parquet, a removals file over the repo size limit, the all-in-one ZIP).
Day 2: nothing changes. Day 3: a new release (new Box links, new sentence). Each day runs the real
command, `python scraper.py --only releases --ddp-page … --cache-dir …`, in a subprocess, and prints
what it wrote, with bytes downloaded side by side with a naive job that fetches every file daily.

Usage: python bench/simulate_ddp_release.py [--people N] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.ddp_files import big_zip, detentions_workbook, stints_parquet, table_workbook  # noqa: E402
from tests.ddp_site import DdpSite  # noqa: E402

REPO_LIMIT = 1_000_000


CURRENT: list[str] = []  # download paths of the files the page links now


def publish(site: DdpSite, seed: int, people: int, through: str) -> None:
    site.state.rows.clear()
    CURRENT.clear()
    site.state.sentence = f"The most recent release of data covers ICE enforcement actions through {through}."
    stamp = "20260311" if seed == 0 else "20260612"
    CURRENT.append(site.add_raw("Arrests", table_workbook("arrests", 50 + seed), f"2026-ICLI-00005_Arrests_FY26_{stamp}_Redacted.xlsx"))
    CURRENT.append(site.add_raw("Detentions", detentions_workbook(people, seed),
                                f"2026-ICLI-00005_Detentions_FY26_{stamp}_Redacted.xlsx", form="shared"))
    CURRENT.append(site.add_raw("Removals", big_zip(3_000_000), f"2026-ICLI-00005_Removals_FY26_{stamp}_Redacted.zip"))
    CURRENT.append(site.add_processed("Detention stints", "detention-stints-latest.parquet", stints_parquet(20 + seed)))
    site.state.zip_href, zip_path = site.box_file(big_zip(4_000_000), f"ice-release-{stamp}.zip")
    CURRENT.append(zip_path)


def naive_bytes(site: DdpSite) -> int:
    """What a job fetching every file of the latest release every day would download."""
    return sum(len(site.state.blobs[path].body) for path in CURRENT)


def run_day(site: DdpSite, data: Path, cache: Path, label: str) -> None:
    command = [sys.executable, "scraper.py", "--only", "releases", "--data-dir", str(data), "--cache-dir", str(cache),
               "--ddp-page", site.raw_url, "--ddp-page", site.processed_url]
    print(f"\n=== {label}\n$ ICE_TRACKER_DDP_REPO_LIMIT={REPO_LIMIT} python {' '.join(command[1:])}")
    env = {**os.environ, "ICE_TRACKER_DDP_REPO_LIMIT": str(REPO_LIMIT), "PYTHONPATH": str(REPO)}
    done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True)
    print(f"exit code {done.returncode}")
    step = json.loads((data / "data" / "last_run.json").read_text())
    result = step["steps"]["releases"]
    print(f"commit message: {step['commit_message']!r}")
    print(f"bytes downloaded: {result['http']['bytes_downloaded']:,} (naive job: {naive_bytes(site):,}); "
          f"requests {result['http']['requests']}; new files {len(result['files_new'])}; held {result['files_held']}")
    for release_id, handed in result["detention"].items():
        print(f"detention hand-off for {release_id}: {handed['status']}, inputs {handed.get('inputs')}, "
              f"rows read {handed.get('rows_read')}, extract date {handed.get('extract_date')}")


def show(data: Path, cache: Path) -> None:
    print("\n=== files written (data dir)")
    for path in sorted(p for p in data.rglob("*") if p.is_file()):
        print(f"  {path.relative_to(data)}  ({path.stat().st_size:,} bytes)")
    print("=== files written (cache dir)")
    for path in sorted(p for p in cache.rglob("*") if p.is_file()):
        print(f"  {path.relative_to(cache)}  ({path.stat().st_size:,} bytes)")
    print("\n=== releases/ddp/releases.csv")
    print((data / "releases" / "ddp" / "releases.csv").read_text())
    for manifest in sorted((data / "releases" / "ddp").glob("*/manifest.csv")):
        print(f"=== {manifest.relative_to(data)}")
        print(manifest.read_text())
    national = data / "data" / "detention" / "national_daily_population.csv"
    lines = national.read_text().splitlines()
    print(f"=== data/detention/national_daily_population.csv ({len(lines) - 1} days; header + last 3)")
    print("\n".join([lines[0], *lines[-3:]]))
    print("=== data/detention/adp_fiscal_year.csv (national rows)")
    print("\n".join(line for line in (data / "data" / "detention" / "adp_fiscal_year.csv").read_text().splitlines()
                    if line.startswith(("scope", "national"))))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--people", type=int, default=2000, help="people in the synthetic detentions workbook")
    parser.add_argument("--keep", type=Path, default=None, help="write into this folder instead of a temp one")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temp, DdpSite() as site:
        root = args.keep or Path(temp)
        data, cache = root / "data", root / "cache"
        publish(site, 0, args.people, "March 10, 2026")
        run_day(site, data, cache, "day 1: DDP posts the March 2026 release")
        show(data, cache)
        run_day(site, data, cache, "day 2: nothing new")
        publish(site, 7, args.people, "June 11, 2026")
        run_day(site, data, cache, "day 3: a new release (new Box links, new sentence)")
        print("\n=== releases/ddp/releases.csv after day 3")
        print((data / "releases" / "ddp" / "releases.csv").read_text())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
