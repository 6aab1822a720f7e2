"""The roster history kept as validity intervals: lossless, and a day's commit is the day's change."""

from __future__ import annotations

import csv
import random
from pathlib import Path

import pytest

from ice_tracker.roster import intervals
from ice_tracker.roster.history import build_history
from ice_tracker.roster.history_files import VERSIONS, read_snapshots, write_history
from ice_tracker.roster.intervals import HistoryCorrupt, RosterRows
from ice_tracker.roster.ranks import between, place, spread
from tests.roster_factory import roster_workbook


def test_ranks_fit_between_any_two_and_stay_short():
    rng = random.Random(3)
    ranks = spread("", None, 2400)
    assert ranks == sorted(ranks) and len(set(ranks)) == 2400 and max(map(len, ranks)) <= 4
    for _ in range(500):
        i = rng.randrange(len(ranks) - 1)
        new = between(ranks[i], ranks[i + 1])
        assert ranks[i] < new < ranks[i + 1] and not new.endswith("0")
        ranks.insert(i + 1, new)
    assert between("", "0001") < "0001" and between("z", None) > "z"


def test_place_keeps_every_rank_that_can_stay():
    known = dict(zip("abcde", spread("", None, 5)))
    assert place(list("abxcde"), known) == [known[k] if k in known else place(list("abxcde"), known)[2]
                                            for k in "abxcde"]
    moved = place(list("bacde"), known)  # one row moved: one new rank
    assert moved == sorted(moved) and sum(r != known[k] for k, r in zip("bacde", moved)) == 1


def _roster(snapshot: str, rows: list[tuple], listname: str = "participating") -> RosterRows:
    out = RosterRows(snapshot, f"{listname}{snapshot[-6:]}.xlsx", f"2026-01-{snapshot[-2:]}", "filename", listname)
    for number, (agency, ident, county) in enumerate(rows, start=2):
        out.rows.append([str(number), "TEXAS", "TEXAS", agency, county, county, "County", "Task Force Model",
                         "Task Force Model", "", "", "", "", ident, "xlsx"])
    return out


def _expected(rosters: list[RosterRows]) -> list[tuple]:
    return [(*r.meta(), *row) for r in sorted(rosters, key=lambda r: (r.snapshot, r.list, r.file)) for row in r.rows]


def test_random_rosters_come_back_exactly(tmp_path):
    """Additions, removals, duplicates, re-sorting, gaps in row numbers and edits over 30 rosters."""
    rng = random.Random(11)
    pool = [(f"Agency {n}", f"TX-TFM-{n:04d}", f"County {n % 7}") for n in range(60)]
    current = pool[:20]
    rosters = []
    for day in range(1, 31):
        for _ in range(rng.randrange(4)):
            action = rng.random()
            if action < 0.3:
                current.insert(rng.randrange(len(current) + 1), rng.choice(pool))  # sometimes a duplicate
            elif action < 0.5 and len(current) > 3:
                current.pop(rng.randrange(len(current)))
            elif action < 0.7:
                i = rng.randrange(len(current))
                current[i] = (current[i][0] + " Dept", current[i][1], current[i][2])
            else:
                rng.shuffle(current)
        roster = _roster(f"sheets_202601{day:02d}_1500{day:02d}", current)
        if day % 9 == 0:  # a blank line in the workbook: row numbers jump
            for row in roster.rows[3:]:
                row[0] = str(int(row[0]) + 1)
        rosters.append(roster)
    rosters.append(_roster("sheets_20260115_150015", [pool[0]], "pending"))
    write_history(tmp_path, rosters)
    frame = read_snapshots(tmp_path, tmp_path / "cache")
    assert [tuple(r) for r in frame.itertuples(index=False)] == _expected(rosters)


def test_damaged_interval_files_are_refused(tmp_path):
    rosters = [_roster("sheets_20260101_150001", [("A", "TX-1", ""), ("B", "TX-2", "")])]
    write_history(tmp_path, rosters)
    path = tmp_path / VERSIONS
    path.write_text("".join(path.read_text(encoding="utf-8").splitlines(True)[:-1]), encoding="utf-8")
    with pytest.raises(HistoryCorrupt):
        read_snapshots(tmp_path, None)


def _rows(n: int) -> list[dict[str, str]]:
    return [{"STATE": "TEXAS", "LAW ENFORCEMENT AGENCY": f"Agency {i:03d} Police Department", "TYPE": "Municipality",
             "COUNTY": f"County {i % 9}", "SUPPORT TYPE": "Task Force Model", "SIGNED": "1/2/2026"} for i in range(n)]


def _diff_lines(before: dict[str, str], after: dict[str, str]) -> dict[str, int]:
    """Lines added + deleted per file (as `git diff --numstat` counts them, order-sensitive sets)."""
    out = {}
    for name in sorted(set(before) | set(after)):
        old, new = before.get(name, "").splitlines(), after.get(name, "").splitlines()
        changed = len(set(old) ^ set(new))
        if changed:
            out[name] = changed
    return out


def _outputs(data: Path) -> dict[str, str]:
    return {p.relative_to(data).as_posix(): p.read_text(encoding="utf-8") for p in sorted(data.rglob("*.csv"))}


def test_a_day_commits_its_change_and_nothing_else(tmp_path):
    """The real history step on a small archive: a new roster without changes adds one line to
    snapshots.csv and its publication check's line to roster_checks.csv; a roster with one renamed
    and one added agreement touches only their lines."""
    rows = _rows(40)

    def publish(snapshot: str, rows: list[dict[str, str]]) -> dict[str, str]:
        folder = tmp_path / "sheets" / snapshot
        folder.mkdir(parents=True)
        (folder / f"participatingAgencies{snapshot[11:15]}{snapshot[7:11]}am.xlsx").write_bytes(
            roster_workbook(rows))
        build_history(tmp_path, tmp_path / "data", tmp_path / "cache")
        return _outputs(tmp_path / "data")

    first = publish("sheets_20260105_151500", rows)
    same = publish("sheets_20260106_151500", rows)
    assert _diff_lines(first, same) == {"roster_history/snapshots.csv": 1, "roster_checks.csv": 1}
    rows[10] = {**rows[10], "LAW ENFORCEMENT AGENCY": "Agency 010 Police Dept."}
    rows.insert(20, {**rows[20], "LAW ENFORCEMENT AGENCY": "Newtown Police Department"})
    changed = publish("sheets_20260107_151500", rows)
    diff = _diff_lines(same, changed)
    assert diff["roster_history/snapshots.csv"] == diff["roster_checks.csv"] == 1
    assert diff["roster_history/versions.csv"] == 4  # renamed: its line closed (-1 +1) and a new one; added: one
    assert diff["roster_history/positions.csv"] == 1  # the added row's rank; no neighbour moves
    assert diff["quality.csv"] == 2  # the added row's SIGNED text, parsed, and its county without a FIPS code
    # (the renamed row keeps its id, so its issues keep their lines)
    assert set(diff) == {"roster_history/snapshots.csv", "roster_history/versions.csv",
                         "roster_history/positions.csv", "quality.csv", "changes.csv", "roster_checks.csv"}
    history = read_snapshots(tmp_path / "data", tmp_path / "cache")
    newest = history[history["snapshot"] == "sheets_20260107_151500"]
    assert list(newest["agency"])[10:12] == ["Agency 010 Police Dept.", "Agency 011 Police Department"]
    assert list(newest["agency"])[20:22] == ["Newtown Police Department", "Agency 020 Police Department"]
    assert list(newest["row_number"])[20:22] == ["22", "23"]
    with open(tmp_path / "data" / VERSIONS, newline="", encoding="utf-8") as handle:
        versions = list(csv.DictReader(handle))
    assert list(versions[0]) == list(intervals.VERSION_COLUMNS)
    assert sum(not v["valid_to"] for v in versions) == 41
