"""Repository growth of the roster history, day by day, beside the per-snapshot layout it replaced.

    python bench/bench_growth.py [--days 60] [--agreements 2400] [--seed 7] [--fixtures DIR] [--keep DIR]

Simulates ICE's roster at today's scale in scratch git repositories: N participating agreements
built from the fixture rows (real states, counties, models and names, made unique) and the fixture
pending roster; two rosters a day (am and pm, both lists, each a new workbook written with openpyxl);
0-20 changes a day on the am roster (additions in sorted place, removals, renames, changed SIGNED
date / county / MOA link), about one day in three without any. Each day runs the real
`python -m ice_tracker history`, `git add -A`, `git commit` and `git gc`, in three repositories
fed the same workbooks:
- intervals: this code's committed history (data/roster_history/*.csv, quality, changes, editorial
  changes, roster checks);
- per-snapshot: the layout it replaced (data/roster_history/YYYY-MM.csv with every row of every
  snapshot, roster_current.csv and roster_counts.csv per snapshot), its files rendered from the same
  rosters (tests prove those are byte-identical to the old writer's), plus the same changes.csv,
  editorial_changes.csv and roster_checks.csv;
- workbooks only: the cost of the archive itself, subtracted from both.
Printed per day: changed agreements, lines changed (added + deleted) in tracked CSVs, which derived
files changed, and .git growth after `git gc` beyond the workbooks. Targets (issue): derived files
change only on change days (a no-change day adds one snapshots.csv and one roster_checks.csv line
per new workbook, nothing else); <= 100 changed CSV lines per 20 changed agreements; <= 1 MB of .git growth a day beyond the
workbooks. With CI=true the default is a short run (10 days x 500 agreements).
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from ice_tracker.fileio import atomic_write_text, csv_text  # noqa: E402
from ice_tracker.roster.counts import COUNT_COLUMNS, counts_frame  # noqa: E402
from ice_tracker.roster.history_files import partition, read_current, read_snapshots  # noqa: E402
from ice_tracker.roster.vocab import load_vocabulary  # noqa: E402
from ice_tracker.roster.model import HISTORY_COLUMNS  # noqa: E402

DEFAULT_FIXTURES = Path(os.environ.get("ICE_TRACKER_FIXTURES", REPO.parent / "shared" / "fixtures")) / "ice287g"
SOURCE = "sheets_20250719_151637"  # the newest fixture snapshot: 832 participating, 26 pending rows
HEADER = ["STATE", "LAW ENFORCEMENT AGENCY", "TYPE", "COUNTY", "SUPPORT TYPE", "SIGNED", "MOA", "ADDENDUM"]
START = date(2026, 8, 3)
PER_ROSTER = ("data/roster_history/snapshots.csv", "data/roster_checks.csv")  # one line per new workbook each
GIT_ENV = {"GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "bench@example.invalid", "GIT_COMMITTER_NAME": "bench",
           "GIT_COMMITTER_EMAIL": "bench@example.invalid"}


@dataclass(frozen=True)
class Agreement:
    state: str
    agency: str
    type: str
    county: str
    model: str
    signed: datetime | None
    moa: str  # URL, or "" for "link pending"

    def sort_key(self) -> tuple:
        return (self.state, self.agency, self.model)


def fixture_rows(path: Path) -> list[Agreement]:
    import openpyxl

    sheet = openpyxl.load_workbook(path).worksheets[0]
    out = []
    for row in sheet.iter_rows(min_row=2):
        values = [c.value for c in row[:8]] + [None] * (8 - len(row))
        if not values[1]:
            continue
        link = row[6].hyperlink.target if len(row) > 6 and row[6].hyperlink else ""
        signed = values[5] if isinstance(values[5], datetime) else None
        out.append(Agreement(str(values[0] or ""), str(values[1]), str(values[2] or ""), str(values[3] or ""),
                             str(values[4] or ""), signed, link or ""))
    return out


def made_unique(base: list[Agreement], count: int, start: int = 0) -> list[Agreement]:
    """`count` agreements from the fixture rows; copies after the first get a unit number, a distinct
    MOA link and a signing date moved by a few days, so every one is its own agreement."""
    out = []
    for n in range(start, start + count):
        row, copy = base[n % len(base)], n // len(base)
        if copy:
            slug = f"{row.agency.split()[0]}_{row.model.split()[0]}_{copy}_{n}"
            moa = f"https://www.ice.gov/doclib/287gMOA/{slug}.pdf" if row.moa or n % 3 else ""
            signed = row.signed + timedelta(days=copy) if row.signed else None
            row = replace(row, agency=f"{row.agency} Unit {copy + 1}", moa=moa, signed=signed)
        out.append(row)
    return out


def churn(roster: list[Agreement], pool: list[Agreement], n: int, rng: random.Random) -> list[Agreement]:
    """`n` changes: additions in sorted place, removals, renames, changed fields."""
    roster = list(roster)
    for _ in range(n):
        kind = rng.choices(["add", "remove", "rename", "field"], weights=[35, 20, 15, 30])[0]
        if kind == "add" and pool:
            new = pool.pop()
            place = next((i for i, r in enumerate(roster) if r.sort_key() > new.sort_key()), len(roster))
            roster.insert(place, new)
            continue
        i = rng.randrange(len(roster))
        row = roster[i]
        if kind == "remove":
            del roster[i]
        elif kind == "rename":
            agency = row.agency
            for old, new_name in (("Sheriff's Office", "Sheriff's Department"), ("Police Department",
                                                                                   "Police Services Department")):
                if old in agency:
                    agency = agency.replace(old, new_name)
                    break
            else:
                agency = agency.replace("Office", "Dept.") if "Office" in agency else f"{agency} Department"
            roster[i] = replace(row, agency=agency)
        else:
            field = rng.choice(["signed", "county", "moa"])
            if field == "signed" and row.signed:
                roster[i] = replace(row, signed=row.signed + timedelta(days=1))
            elif field == "moa" and not row.moa:
                roster[i] = replace(row, moa=f"https://www.ice.gov/doclib/287gMOA/new_{rng.randrange(10**9)}.pdf")
            else:
                roster[i] = replace(row, county=f"{row.county} (corrected)" if row.county else "Unknown County")
    return roster


def write_workbook(path: Path, rows: list[Agreement], columns: int = len(HEADER)) -> None:
    """A roster workbook as ICE lays it out (the pending roster has the first five columns only)."""
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(HEADER[:columns])
    for n, row in enumerate(rows, start=2):
        sheet.append([row.state, row.agency, row.type, row.county, row.model, row.signed,
                      "MOA" if row.moa else "link pending", None][:columns])
        if row.moa:
            sheet.cell(n, 7).hyperlink = row.moa
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True,
                          env={**os.environ, **GIT_ENV}).stdout


def git_size(repo: Path) -> int:
    git(repo, "gc", "-q", "--prune=now")
    return sum(p.stat().st_size for p in (repo / ".git").rglob("*") if p.is_file())


def commit_day(repo: Path, message: str) -> dict[str, int]:
    """Commit everything; returns lines added + deleted per changed CSV."""
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "--allow-empty", "-m", message)
    changed = {}
    for line in git(repo, "diff", "--numstat", "HEAD~1", "HEAD", "--", "*.csv").splitlines():
        added, deleted, name = line.split("\t")
        changed[name] = int(added) + int(deleted)
    return changed


class OldLayout:
    """The per-snapshot files the history step wrote before (monthly history, current roster, counts),
    from the same rosters, plus the same changes.csv. Rendered as the old writer did: every month file
    rewritten each run (unchanged ones left alone), counts appended per roster."""

    def __init__(self, data: Path):
        self.data, self.months, self.counts, self.seen = data, {}, [], set()

    def update(self, new_data: Path, cache: Path) -> None:
        frame = read_snapshots(new_data, cache)
        fresh = frame[~frame["snapshot"].isin(self.seen)]
        self.seen |= set(fresh["snapshot"])
        for row in fresh.itertuples(index=False):
            self.months.setdefault(partition(row.snapshot), []).append(row)
        for month, rows in self.months.items():
            atomic_write_text(self.data / "roster_history" / f"{month}.csv", csv_text(HISTORY_COLUMNS, rows))
        atomic_write_text(self.data / "roster_current.csv",
                          csv_text(HISTORY_COLUMNS, read_current(new_data, cache).itertuples(index=False)))
        self.counts += list(counts_frame(fresh, load_vocabulary()).itertuples(index=False))
        atomic_write_text(self.data / "roster_counts.csv", csv_text(COUNT_COLUMNS, self.counts))
        for name in ("changes.csv", "editorial_changes.csv", "roster_checks.csv"):
            shutil.copyfile(new_data / name, self.data / name)


def run_history(data_dir: Path, cache: Path) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "ice_tracker", "history", "--data-dir", str(data_dir), "--cache-dir",
                    str(cache)], cwd=REPO, check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> int:
    short = os.environ.get("CI", "").lower() == "true"
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=10 if short else 60)
    parser.add_argument("--agreements", type=int, default=500 if short else 2400)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--fixtures", type=Path, default=DEFAULT_FIXTURES)
    parser.add_argument("--keep", type=Path, help="keep the scratch repositories here")
    args = parser.parse_args()
    source = args.fixtures / "sheets" / SOURCE
    if not source.is_dir():
        print(f"fixture workbooks not found under {source}", file=sys.stderr)
        return 1
    rng = random.Random(args.seed)
    base = fixture_rows(source / "participatingAgencies07182025pm.xlsx")
    pending = fixture_rows(source / "pendingAgencies07182025pm.xlsx")
    roster = sorted(made_unique(base, args.agreements), key=Agreement.sort_key)
    pool = made_unique(base, 40 * args.days, start=args.agreements)
    rng.shuffle(pool)
    plan = [0 if rng.random() < 0.3 else rng.randint(1, 20) for _ in range(args.days)]
    plan[min(2, args.days - 1)] = 20  # one day of exactly 20 changes, the example
    plan[min(1, args.days - 1)] = 0

    work = Path(tempfile.mkdtemp(prefix="bench_growth_"))
    repos = {name: work / name for name in ("intervals", "per-snapshot", "workbooks")}
    for repo in repos.values():
        repo.mkdir()
        git(repo, "init", "-q")
        git(repo, "commit", "-q", "--allow-empty", "-m", "empty")
    cache = work / "cache"
    old = OldLayout(repos["per-snapshot"] / "data")
    sizes = {name: git_size(repo) for name, repo in repos.items()}
    print(f"{args.days} days x {args.agreements} participating agreements (+{len(pending)} pending), two rosters "
          f"a day, seed {args.seed}; machine shared with other jobs (timings noisy)")
    print(f"{'day':>3} {'changes':>7} | {'CSV lines':>9} {'per-snap':>9} | {'.git +KB':>8} {'per-snap':>9} "
          f"{'workbooks':>9} | {'history s':>9} | derived files changed (intervals)")
    totals = {"missed": [], "lines_20": None}
    first = True
    for day, n in enumerate(plan):
        today = START + timedelta(days=day)
        roster = churn(roster, pool, n, rng)
        for part, hour in (("am", "031500"), ("pm", "151500")):
            snapshot = f"sheets_{today:%Y%m%d}_{hour}"
            stamp = f"{today:%m%d%Y}{part}"
            folder = repos["intervals"] / "sheets" / snapshot
            write_workbook(folder / f"participatingAgencies{stamp}.xlsx", roster)
            write_workbook(folder / f"pendingAgencies{stamp}.xlsx", pending, 5)
            for repo in (repos["per-snapshot"], repos["workbooks"]):
                shutil.copytree(folder, repo / "sheets" / snapshot)
        seconds = run_history(repos["intervals"], cache)
        old.update(repos["intervals"] / "data", cache)
        lines = {name: commit_day(repo, f"day {day + 1}") for name, repo in repos.items()}
        grown = {}
        for name, repo in repos.items():
            size = git_size(repo)
            grown[name], sizes[name] = size - sizes[name], size
        beyond = grown["intervals"] - grown["workbooks"]
        beyond_old = grown["per-snapshot"] - grown["workbooks"]
        new_lines = sum(lines["intervals"].values())
        news = sum(v for k, v in lines["intervals"].items() if k not in PER_ROSTER)
        derived = sorted(k.removeprefix("data/") for k in lines["intervals"])
        print(f"{day + 1:>3} {n:>7} | {new_lines:>9,} {sum(lines['per-snapshot'].values()):>9,} | "
              f"{beyond / 1024:>8,.0f} {beyond_old / 1024:>9,.0f} {grown['workbooks'] / 1024:>9,.0f} | "
              f"{seconds:>9.2f} | {', '.join(derived)}")
        if first:  # the first day writes the whole roster once; the targets are about the days after
            first = False
            continue
        if n == 0 and (news or any(lines["intervals"].get(name, 0) > 4 for name in PER_ROSTER)):
            totals["missed"].append(f"day {day + 1}: no changes, but {news} lines beyond the per-roster lines")
        if n and news > 5 * n:
            totals["missed"].append(f"day {day + 1}: {news} lines for {n} changes (target <= {5 * n})")
        if beyond > 1024 * 1024:
            totals["missed"].append(f"day {day + 1}: .git grew {beyond / 1024:,.0f} KB beyond the workbooks")
        if n == 20 and totals["lines_20"] is None:
            totals["lines_20"] = news
    print(f"\n.git after {args.days} days: intervals {sizes['intervals'] / 1e6:,.1f} MB, per-snapshot "
          f"{sizes['per-snapshot'] / 1e6:,.1f} MB, workbooks only {sizes['workbooks'] / 1e6:,.1f} MB")
    print(f"a day of 20 changed agreements: {totals['lines_20']} changed CSV lines besides the per-roster lines "
          f"of snapshots.csv and roster_checks.csv (target <= 100)")
    print("targets: " + ("all met" if not totals["missed"] else "MISSED: " + "; ".join(totals["missed"])))
    if args.keep:
        shutil.copytree(work, args.keep, dirs_exist_ok=True)
    shutil.rmtree(work, ignore_errors=True)
    return 1 if totals["missed"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
