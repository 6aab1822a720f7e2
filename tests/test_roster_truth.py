"""Roster truth on the real fixture history: broken publications, editorial rewrites, publication order.

The 64 fixture workbooks are replayed with rosters inserted the way ICE has published them: a
truncated roster (40 % of rows missing, restored by the next one), a sheet with its agency names
abbreviated then expanded again, and a republished roster fetched by a clock set back.
"""

from __future__ import annotations

import csv
import re
import shutil
from collections import Counter
from pathlib import Path

import openpyxl
import pytest

from ice_tracker.daily import _derive_headline
from ice_tracker.publish.atom import build_feed
from ice_tracker.publish.inputs import read_table
from ice_tracker.publish.state_feeds import build_state_feeds
from ice_tracker.roster.archive import copy_workbooks
from ice_tracker.fileio import csv_text
from ice_tracker.roster.history import build_history
from ice_tracker.roster.history_files import read_counts, read_current, read_snapshots
from tests.conftest import shared_fixture_path

TRUNCATED = ("sheets_20250714_230000", "participatingAgencies07142025pm.xlsx")
ABBREVIATED = ("sheets_20250713_151500", "participatingAgencies07132025pm.xlsx")
ABBREVIATIONS = ((r"Police Department\b", "PD"), (r"Sheriff[’']s Office\b", "SO"), (r"\bCounty\b", "Co."),
                 (r"\bDepartment\b", "Dept."))


def read(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def frame_text(frame) -> str:
    """A history frame (read_counts / read_current) as the CSV the files it replaces held."""
    return csv_text(list(frame.columns), frame.itertuples(index=False))


def counts(data: Path) -> list[dict[str, str]]:
    return read_counts(data, data.parent / "cache").to_dict("records")


def current(data: Path) -> list[dict[str, str]]:
    return read_current(data, data.parent / "cache").to_dict("records")


def rewrite_workbook(source: Path, target: Path, keep=lambda index: True, rename=lambda name: name) -> int:
    """Copy a roster workbook (values and hyperlinks) keeping some data rows and rewriting agency names."""
    book = openpyxl.load_workbook(source)
    sheet = book.worksheets[0]
    out = openpyxl.Workbook()
    new = out.active
    header = [c.value for c in sheet[1]]
    agency = next(i for i, h in enumerate(header) if h and "AGENCY" in str(h).upper())
    new.append(header)
    kept = 0
    for index, row in enumerate(sheet.iter_rows(min_row=2), start=0):
        if not keep(index):
            continue
        kept += 1
        values = [c.value for c in row]
        if isinstance(values[agency], str):
            values[agency] = rename(values[agency])
        new.append(values)
        for cell, copy in zip(row, new[new.max_row]):
            if cell.hyperlink is not None:
                copy.hyperlink = cell.hyperlink.target
    target.parent.mkdir(parents=True, exist_ok=True)
    out.save(target)
    return kept


def abbreviate(name: str) -> str:
    for pattern, short in ABBREVIATIONS:
        name = re.sub(pattern, short, name)
    return name


@pytest.fixture(scope="module")
def replay(tmp_path_factory):
    archive = shared_fixture_path("ice287g")
    base = tmp_path_factory.mktemp("baseline")
    build_history(archive, base / "data", base / "cache")
    work = tmp_path_factory.mktemp("replay")
    copy_workbooks(archive, work)
    sheets = archive / "sheets"
    kept = rewrite_workbook(sheets / "sheets_20250714_151904" / "participatingAgencies07142025am.xlsx",
                            work / "sheets" / TRUNCATED[0] / TRUNCATED[1], keep=lambda i: i % 5 >= 2)  # 40 % gone
    rewrite_workbook(sheets / "sheets_20250712_151631" / "participatingAgencies07112025pm.xlsx",
                     work / "sheets" / ABBREVIATED[0] / ABBREVIATED[1], rename=abbreviate)
    summary = build_history(work, work / "data", work / "cache")
    assert kept > 0
    return base / "data", work / "data", summary, kept


def test_truncated_roster_is_suspect_with_reasons(replay):
    _, data, summary, kept = replay
    assert summary["suspect_rosters"] == [f"{TRUNCATED[0]}/{TRUNCATED[1]}"]
    check = next(c for c in read(data / "roster_checks.csv") if (c["snapshot"], c["file"]) == TRUNCATED)
    assert check["verdict"] == "suspect" and check["decided_by"] == "check"
    assert "rows fell 40%" in check["reasons"] and "agreements missing" in check["reasons"]
    assert check["previous_good_file"] == "participatingAgencies07142025am.xlsx"
    flagged = [q for q in read(data / "quality.csv") if (q["valid_from"], q["file"]) == TRUNCATED
               and q["rule"].startswith("roster_suspect")]
    assert len(flagged) == 1 and "rows fell 40%" in flagged[0]["rule"]
    assert flagged[0]["valid_to"]  # a file-level issue of that roster alone
    # still in the history, every row of it, with its verdict
    snapshot = next(s for s in read(data / "roster_history" / "snapshots.csv") if (s["snapshot"], s["file"]) == TRUNCATED)
    assert (snapshot["rows"], snapshot["verdict"]) == ("486", "suspect")  # 60 % of 810
    history = read_snapshots(data, data.parent / "cache")
    assert ((history["snapshot"] == TRUNCATED[0]) & (history["file"] == TRUNCATED[1])).sum() == 486


def test_truncated_roster_publishes_no_removal_and_changes_no_count(replay):
    base, data, *_ = replay
    changes, baseline = read(data / "changes.csv"), read(base / "changes.csv")
    removed = {c["agreement_id"] for c in changes if c["change"] == "removed"}
    assert removed == {c["agreement_id"] for c in baseline if c["change"] == "removed"}
    assert not [c for c in changes if TRUNCATED[0] in (c["snapshot"], c["previous_snapshot"])]
    # the day after compares with the last good roster: the same changes as without the broken one
    # (agency names differ only where the replay abbreviated them two rosters before)
    def day(rows):
        return [{k: v for k, v in c.items() if k not in ("agency", "old", "new")} for c in rows
                if c["snapshot"] == "sheets_20250715_151733"]

    assert day(changes) == day(baseline)
    replayed = counts(data)
    assert not [c for c in replayed if c["snapshot"] == TRUNCATED[0]]  # the plots never see it
    assert [c for c in replayed if c["snapshot"] != ABBREVIATED[0]] == counts(base)
    # a genuine removal (missing from the 07-14 and 07-15 rosters, both good) is still published
    ellis = [c for c in changes if c["agency"].startswith("Ellis Co") and c["change"] == "removed"
             and c["list"] == "participating"]
    assert len(ellis) == 1 and ellis[0]["evidence"] == "missing from two good rosters since 2025-07-14"


def test_feeds_and_plot_inputs_are_byte_identical_without_and_with_the_broken_roster(replay, tmp_path):
    base = replay[0]
    work = tmp_path / "truncated_only"
    copy_workbooks(shared_fixture_path("ice287g"), work)
    rewrite_workbook(shared_fixture_path("ice287g", "sheets", "sheets_20250714_151904",
                                         "participatingAgencies07142025am.xlsx"),
                     work / "sheets" / TRUNCATED[0] / TRUNCATED[1], keep=lambda i: i % 5 >= 2)
    build_history(work, work / "data", work / "cache")
    for name in ("changes.csv", "editorial_changes.csv"):
        assert (work / "data" / name).read_bytes() == (base / name).read_bytes(), name
    for read_frame in (read_counts, read_current):  # what the plots and agreements.csv are built from
        assert frame_text(read_frame(work / "data", work / "cache")) == frame_text(read_frame(base, base.parent / "cache"))
    changes = [read_table(root.parent, "data/changes.csv") for root in (base, work / "data")]
    assert build_feed(changes[0], None) == build_feed(changes[1], None)
    assert build_state_feeds(changes[0], None, None) == build_state_feeds(changes[1], None, None)


def test_abbreviation_day_and_expansion_day_are_one_editorial_change_each(replay):
    base, data, *_ = replay
    changes, baseline = read(data / "changes.csv"), read(base / "changes.csv")
    abbreviated = [c for c in changes if c["snapshot"] == ABBREVIATED[0]]
    assert Counter(c["change"] for c in abbreviated) == {"editorial": 1}
    expanded = [c for c in changes if c["snapshot"] == "sheets_20250714_151904" and c["list"] == "participating"]
    assert Counter(c["change"] for c in expanded)["editorial"] == 1
    assert not [c for c in expanded if c["change"] == "renamed"]
    real = {(c["change"], c["agreement_id"]) for c in expanded if c["change"] != "editorial"}
    before = [c for c in baseline if c["snapshot"] == "sheets_20250714_151904" and c["list"] == "participating"]
    assert real == {(c["change"], c["agreement_id"]) for c in before if c["change"] != "renamed"}
    editorial = next(c for c in expanded if c["change"] == "editorial")
    assert int(editorial["old"].split()[0]) > 400  # hundreds of names, one change
    detail = [c for c in read(data / "editorial_changes.csv") if c["snapshot"] == "sheets_20250714_151904"]
    assert ("Tampa PD", "Tampa Police Department") in {(c["old"], c["new"]) for c in detail}
    # the day's one real rename is inside the batch
    assert {c["agreement_id"] for c in before if c["change"] == "renamed"} <= {c["agreement_id"] for c in detail}


def test_verdict_override_marks_a_roster_bad_with_its_note(tmp_path):
    archive = shared_fixture_path("ice287g")
    copy_workbooks(archive, tmp_path, keep=lambda p: p.parent.name < "sheets_20250524")
    overrides = tmp_path / "overrides"
    shutil.copytree(Path(__file__).resolve().parents[1] / "overrides", overrides)
    with open(overrides / "roster_verdicts.csv", "a", encoding="utf-8") as handle:
        handle.write("sheets_20250522_151740,participatingAgencies05202025pm.xlsx,bad,ICE said it was a draft\n")
    summary = build_history(tmp_path, tmp_path / "data", tmp_path / "cache", overrides_dir=overrides)
    assert summary["suspect_rosters"] == ["sheets_20250522_151740/participatingAgencies05202025pm.xlsx"]
    check = next(c for c in read(tmp_path / "data" / "roster_checks.csv")
                 if c["file"] == "participatingAgencies05202025pm.xlsx")
    assert (check["verdict"], check["decided_by"], check["note"]) == ("suspect", "override", "ICE said it was a draft")


def test_order_comes_from_the_roster_date_and_the_archive_not_the_clock(tmp_path):
    """The same file name republished with 24 more rows, fetched by a clock set back two days: it
    still follows the first copy (manifest order), so the feed sees 24 additions, not 24 removals."""
    sheets = shared_fixture_path("ice287g", "sheets")
    name = "participatingAgencies07032025pm.xlsx"
    first = tmp_path / "sheets" / "sheets_20250703_151805" / name
    again = tmp_path / "sheets" / "sheets_20250701_090000" / name  # the wrong clock
    for source, target in ((sheets / "sheets_20250703_151805" / name, first),
                           (sheets / "sheets_20250704_151659" / name, again)):
        target.parent.mkdir(parents=True)
        shutil.copyfile(source, target)
    with open(tmp_path / "manifest.csv", "w", encoding="utf-8") as handle:
        handle.write("path,kind,fetched_at\n"
                     f"sheets/sheets_20250703_151805/{name},participating,2025-07-03T15:18:05+00:00\n"
                     f"sheets/sheets_20250701_090000/{name},participating,2025-07-01T09:00:00+00:00\n")
    build_history(tmp_path, tmp_path / "data", tmp_path / "cache")
    kinds = Counter(c["change"] for c in read(tmp_path / "data" / "changes.csv"))
    assert kinds["removed"] == 0 and kinds["added"] + kinds["moved_from_pending"] == 24
    rows = current(tmp_path / "data")
    assert {r["snapshot"] for r in rows} == {"sheets_20250701_090000"} and len(rows) == 777


def test_a_suspect_newest_roster_is_named_in_the_run_headline_and_not_current(tmp_path):
    archive = shared_fixture_path("ice287g")
    copy_workbooks(archive, tmp_path, keep=lambda p: p.parent.name <= "sheets_20250714_151904")
    rewrite_workbook(archive / "sheets" / "sheets_20250714_151904" / "participatingAgencies07142025am.xlsx",
                     tmp_path / "sheets" / TRUNCATED[0] / TRUNCATED[1], keep=lambda i: i % 5 >= 2)
    summary = build_history(tmp_path, tmp_path / "data", tmp_path / "cache")
    assert summary["newest_suspect"] == [f"{TRUNCATED[0]}/{TRUNCATED[1]}"]
    headline = _derive_headline({"history": summary})
    assert headline.endswith(f"suspect roster: {TRUNCATED[0]}/{TRUNCATED[1]}") and "removed" not in headline
    rows = current(tmp_path / "data")
    assert {r["file"] for r in rows if r["list"] == "participating"} == {"participatingAgencies07142025am.xlsx"}
